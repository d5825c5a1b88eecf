"""The benchmark's accounts, tokens and follow graph, bulk-inserted into a migrated, empty database.

The rows are the server's own (``cordee.db.tables``): accounts with their users, one OAuth
application, one access token per account that posts or streams, follows with correct follower and
following counters, and a home feed per account (every seeded account counts as active: the
fan-out writes to it). Inserting them directly is the only way to have 100,000 followers in
seconds; the server reads them like any others.

Accounts:

- ``l<i>`` — the N *listeners* (``--listeners``, by default ``--streams``): the first
  ``--streams`` of them open one user stream each; each follows ``--follows`` posters (picked at
  random, with a fixed seed) and ``big``. Listeners beyond the open streams keep a post's fan-out
  (its home-feed rows) the same whatever number of streams is open;
- ``p<j>`` — the M *posters*;
- ``big`` — followed by every listener and by filler accounts ``f<k>``, ``--big-followers`` in all;
- ``small`` — followed by the first ten listeners (the 10-follower write, to compare with ``big``).
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import create_async_engine

from bench.stores import account_row, application_row, follow_row, insert_tables, token_row, user_row
from cordee.db.tables import AccessToken, Account, Application, Follow, HomeFeed, User
from cordee.db.types import utcnow
from cordee.ids import new_id

BATCH = 5_000
SMALL_FOLLOWERS = 10
SCOPES = "read write follow"


@dataclass
class Member:
    account_id: int
    username: str
    token: str | None = None
    followers: list[int] = field(default_factory=list)  # only for posting accounts


@dataclass
class Graph:
    listeners: list[Member]
    posters: list[Member]
    big: Member
    small: Member
    #: Followers of ``big`` that never stream (``f<k>``).
    fillers: list[Member]

    def members(self) -> list[Member]:
        return [*self.listeners, *self.posters, self.big, self.small, *self.fillers]

    def to_json(self) -> dict[str, Any]:
        """What the baseline server needs: who each token is, and who follows each poster."""
        accounts = [*self.listeners, *self.posters, self.big, self.small]
        return {
            "tokens": {m.token: m.account_id for m in accounts if m.token},
            "followers": {str(m.account_id): m.followers for m in (*self.posters, self.big, self.small)},
        }


def build_graph(listening: int, posters: int, follows: int, big_followers: int, seed: int) -> Graph:
    """The follow graph, decided before anything is written (ids are snowflakes made here), with
    ``listening`` listeners (streams open from the first ones: ``bench.streaming.connect``)."""
    rng = random.Random(seed)

    def member(name: str, token: bool = True) -> Member:
        return Member(new_id(), name, secrets.token_urlsafe(32) if token else None)

    listeners = [member(f"l{i}") for i in range(listening)]
    poster_members = [member(f"p{j}") for j in range(posters)]
    big, small = member("big"), member("small")
    for listener in listeners:
        for poster in rng.sample(poster_members, min(follows, posters)):
            poster.followers.append(listener.account_id)
    big.followers = [m.account_id for m in listeners]
    small.followers = [m.account_id for m in listeners[:SMALL_FOLLOWERS]]
    fillers = [member(f"f{k}", token=False) for k in range(max(0, big_followers - listening))]
    return Graph(listeners, poster_members, big, small, fillers)


async def insert_graph(url: str, graph: Graph) -> dict[str, int]:
    """Write the graph into the database at ``url``; returns how many rows of each kind."""
    now = utcnow()
    fillers = graph.fillers
    members = graph.members()
    follows: list[tuple[int, int]] = [
        (follower, poster.account_id)
        for poster in (*graph.posters, graph.small)
        for follower in poster.followers
    ]
    follows += [(m.account_id, graph.big.account_id) for m in (*graph.listeners, *fillers)]
    followers_count: dict[int, int] = {}
    following_count: dict[int, int] = {}
    for follower, target in follows:
        followers_count[target] = followers_count.get(target, 0) + 1
        following_count[follower] = following_count.get(follower, 0) + 1
    app_id = new_id()
    users = {m.account_id: new_id() for m in members}

    def accounts() -> Iterator[dict[str, Any]]:
        for m in members:
            yield account_row(
                m.account_id,
                m.username,
                now,
                followers_count=followers_count.get(m.account_id, 0),
                following_count=following_count.get(m.account_id, 0),
            )

    def user_rows() -> Iterator[dict[str, Any]]:
        for m in members:
            yield user_row(users[m.account_id], m.account_id, m.username, now)

    def tokens() -> Iterator[dict[str, Any]]:
        for m in members:
            if m.token:
                yield token_row(new_id(), m.token, app_id, users[m.account_id], SCOPES, now)

    def follow_rows() -> Iterator[dict[str, Any]]:
        for follower, target in follows:
            yield follow_row(new_id(), follower, target, now)

    def feeds() -> Iterator[dict[str, Any]]:
        for m in members:
            yield {"account_id": m.account_id, "built_at": now, "read_at": now}

    application = application_row(app_id, "Cordée streaming benchmark", SCOPES, now)
    tables: Sequence[tuple[Any, Iterable[dict[str, Any]]]] = (
        (Account, accounts()),
        (User, user_rows()),
        (Application, [application]),
        (AccessToken, tokens()),
        (Follow, follow_rows()),
        (HomeFeed, feeds()),
    )
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            counts = await insert_tables(conn, tables, BATCH)
    finally:
        await engine.dispose()
    return counts


async def seed_redis_feeds(redis_url: str, prefix: str, account_ids: Iterable[int], ttl: int) -> int:
    """With the Redis feed store, a feed exists when its key does (a sentinel member): make every
    seeded account's feed exist, as ``RedisFeedStore.rebuild`` would."""
    from redis.asyncio import Redis

    from cordee.feeds.redis import SENTINEL

    redis = Redis.from_url(redis_url)
    count = 0
    try:
        async with redis.pipeline(transaction=False) as pipe:
            for account_id in account_ids:
                key = f"{prefix}feed:{account_id}"
                pipe.zadd(key, {SENTINEL: 0})
                pipe.expire(key, ttl)
                count += 1
                if count % BATCH == 0:
                    await pipe.execute()
            await pipe.execute()
    finally:
        await redis.aclose()
    return count
