"""Home feeds, through the API, on both feed stores (and both databases): fan-out on write,
hybrid fan-out for accounts with many followers, rebuild of missing feeds, and unfollow / block /
mute / delete taking effect."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from cordee.actions import relationships
from cordee.config import Settings
from cordee.db.engine import Database
from cordee.db.tables import Account, HomeFeed, HomeFeedEntry, Mute
from cordee.db.types import utcnow
from cordee.feeds.base import FeedStore
from tests.conftest import ApiUser, MakeUser

Post = Callable[..., Awaitable[dict[str, Any]]]


def _ids(r: httpx.Response) -> list[str]:
    assert r.status_code == 200, r.text
    return [s["id"] for s in r.json()]


async def _home(client: httpx.AsyncClient, user: ApiUser, **params: Any) -> list[str]:
    return _ids(await client.get("/api/v1/timelines/home", params=params, headers=user.headers))


def _store(app: Any) -> FeedStore:
    return app.state.home.store  # type: ignore[no-any-return]


async def _feed(app: Any, user: ApiUser) -> list[str] | None:
    """The raw feed (candidate ids) of a user, or None when it is missing."""
    ids = await _store(app).read(user.account_id, below=None, above=None)
    return None if ids is None else [str(i) for i in ids]


async def test_fan_out_on_write_and_rebuild(
    app: Any, client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    early = await post(bob, "before alice ever read her home")
    await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice.headers)
    assert await _feed(app, alice) is None  # never read: no feed is kept for her yet
    assert await _home(client, alice) == [early["id"]]  # rebuilt from the follow graph
    assert await _feed(app, alice) == [early["id"]]

    later = await post(bob, "after")
    own = await post(alice, "mine")
    stranger = await post(carol, "not followed")
    assert await _feed(app, alice) == [own["id"], later["id"], early["id"]]  # fanned out on write
    assert await _home(client, alice) == [own["id"], later["id"], early["id"]]
    assert stranger["id"] not in await _home(client, alice)
    # A reconnecting client asks for what is newer than what it has.
    assert await _home(client, alice, since_id=early["id"]) == [own["id"], later["id"]]


async def test_a_follow_brings_every_recent_note_into_the_followers_feed(
    app: Any, client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser
) -> None:
    """A follow merges the author's recent notes into the follower's existing feed (on Redis, all
    of them in one script call: ``feeds/redis.py``), newest first, beside what it held."""
    own = await post(alice, "mine")
    assert await _home(client, alice) == [own["id"]]  # her feed exists from now on
    notes = [await post(bob, f"bob {i}") for i in range(5)]
    r = await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice.headers)
    assert r.status_code == 200, r.text
    expected = [n["id"] for n in reversed(notes)] + [own["id"]]
    assert await _feed(app, alice) == expected
    assert await _home(client, alice) == expected


async def test_a_follow_after_a_mute_expired_merges_the_authors_notes(
    app: Any, db: Database, client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser
) -> None:
    """The follow's merge (a statement built once) judges mutes at the moment of the follow, not
    at the moment the statement was built: a mute that expired since then hides nothing."""
    own = await post(alice, "mine")
    assert await _home(client, alice) == [own["id"]]  # her feed exists from now on
    note = await post(bob, "bob's")
    await relationships.mute(db, alice.account_id, bob.account_id, duration=3600)
    async with db.write() as tx:  # the hour went by
        await tx.session.execute(update(Mute).values(expires_at=utcnow() - timedelta(seconds=1)))
    r = await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice.headers)
    assert r.status_code == 200, r.text
    assert await _feed(app, alice) == [note["id"], own["id"]]


async def test_unfollow_block_mute_and_delete_take_effect(
    app: Any,
    db: Database,
    client: httpx.AsyncClient,
    post: Post,
    alice: ApiUser,
    bob: ApiUser,
    carol: ApiUser,
) -> None:
    await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice.headers)
    await client.post(f"/api/v1/accounts/{carol.id}/follow", headers=alice.headers)
    assert await _home(client, alice) == []
    b1 = await post(bob, "bob one")
    c1 = await post(carol, "carol one")
    c2 = await post(carol, "carol two")
    assert await _feed(app, alice) == [c2["id"], c1["id"], b1["id"]]

    r = await client.delete(f"/api/v1/statuses/{c2['id']}", headers=carol.headers)
    assert r.status_code == 200
    assert await _feed(app, alice) == [c1["id"], b1["id"]]

    await relationships.mute(db, alice.account_id, carol.account_id)
    assert await _feed(app, alice) == [b1["id"]]
    assert await _home(client, alice) == [b1["id"]]
    await relationships.unmute(db, alice.account_id, carol.account_id)
    assert await _feed(app, alice) == [c1["id"], b1["id"]]  # merged back in

    await client.post(f"/api/v1/accounts/{carol.id}/unfollow", headers=alice.headers)
    assert await _feed(app, alice) == [b1["id"]]
    await relationships.block(db, bob.account_id, alice.account_id)
    assert await _feed(app, alice) == []
    assert await _home(client, alice) == []


async def test_accounts_with_many_followers_are_merged_when_read(
    app: Any, db: Database, client: httpx.AsyncClient, post: Post, make_user: MakeUser, settings: Settings
) -> None:
    star, fan, other = await make_user("star"), await make_user("fan"), await make_user("other")
    for follower in (fan, other):
        await client.post(f"/api/v1/accounts/{star.id}/follow", headers=follower.headers)
    async with db.write() as tx:  # as if a crowd followed the star
        await tx.session.execute(
            update(Account)
            .where(Account.id == star.account_id)
            .values(followers_count=settings.fanout_follower_threshold)
        )
    assert await _home(client, fan) == [] and await _home(client, star) == []
    shout = await post(star, "hello everyone")
    mine = await post(fan, "my own")
    assert await _feed(app, fan) == [mine["id"]]  # the star's note was not written to followers' feeds
    assert await _feed(app, star) == [shout["id"]]  # …only to the star's own
    assert await _home(client, fan) == [mine["id"], shout["id"]]  # merged in at read time
    assert await _home(client, fan, max_id=mine["id"]) == [shout["id"]]
    assert await _home(client, fan, min_id=shout["id"]) == [mine["id"]]


async def test_sql_feeds_are_bounded_and_inactive_feeds_dropped(
    app: Any,
    db: Database,
    client: httpx.AsyncClient,
    post: Post,
    alice: ApiUser,
    settings: Settings,
    store: str,
) -> None:
    if store != "sql":
        pytest.skip("the sweep is the SQL store's; Redis trims when pushing (below) and expires keys")
    from cordee.feeds.sql import sweep

    assert await _home(client, alice) == []
    small = replace(settings, feed_size=20)
    for i in range(23):
        await post(alice, f"note {i}")
    await sweep(db, small)
    async with db.read() as session:
        kept = list(
            await session.scalars(
                select(HomeFeedEntry.status_id).where(HomeFeedEntry.account_id == alice.account_id)
            )
        )
    assert len(kept) == 20
    async with db.write() as tx:
        long_ago = utcnow() - timedelta(days=settings.feed_inactive_days + 1)
        await tx.session.execute(update(HomeFeed).values(read_at=long_ago))
    await sweep(db, settings)
    assert await _feed(app, alice) is None
    assert len(await _home(client, alice, limit=40)) == 23  # rebuilt when read again


async def test_a_sweep_writes_only_what_it_changes_and_names_those_feeds(
    db: Database,
    post: Post,
    alice: ApiUser,
    bob: ApiUser,
    client: httpx.AsyncClient,
    settings: Settings,
    store: str,
) -> None:
    """The sweep looks for its feeds before it takes the write lock: with nothing to do it writes
    nothing, and its writes name the feeds they change (the home memo then forgets only those
    readers' pages; an unnamed write would make every cache forget everything)."""
    if store != "sql":
        pytest.skip("the sweep is the SQL store's")
    from cordee.db.changes import Changes
    from cordee.feeds.sql import sweep

    assert await _home(client, alice) == [] and await _home(client, bob) == []
    for i in range(6):
        await post(alice, f"note {i}")
    seen: list[Changes] = []
    db.committed.append(lambda events, changes: seen.append(changes))
    assert await sweep(db, settings) == 0
    assert seen == []  # nothing stale, nothing oversized: no transaction at all
    assert await sweep(db, replace(settings, feed_size=4)) == 1
    assert [(c.unknown, c.feeds) for c in seen] == [(False, {alice.account_id})]
    seen.clear()
    async with db.write() as tx:
        long_ago = utcnow() - timedelta(days=settings.feed_inactive_days + 1)
        await tx.session.execute(
            update(HomeFeed).where(HomeFeed.account_id == bob.account_id).values(read_at=long_ago)
        )
    seen.clear()
    assert await sweep(db, settings) == 1
    assert [(c.unknown, c.feeds) for c in seen] == [(False, {bob.account_id})]
    assert len(await _feed_ids(db, alice)) == 4 and await _feed_ids(db, bob) == []


async def _feed_ids(db: Database, user: ApiUser) -> list[int]:
    async with db.read() as session:
        query = select(HomeFeedEntry.status_id).where(HomeFeedEntry.account_id == user.account_id)
        return list(await session.scalars(query))


async def test_pages_older_than_the_feed_come_from_the_database(
    settings: Settings, db: Database, make_user: MakeUser, post: Post
) -> None:
    from cordee.app import build_app

    small = build_app(replace(settings, feed_size=5), database=db)
    reader, writer = await make_user("reader"), await make_user("writer")
    async with (
        small.router.lifespan_context(small),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=small), base_url="http://cordee.test") as c,
    ):
        await c.post(f"/api/v1/accounts/{writer.id}/follow", headers=reader.headers)
        await _home(c, reader)  # the feed exists from now on, and keeps 5 notes
        posted = [(await post(writer, f"note {i}"))["id"] for i in range(12)]
        seen: list[str] = []
        max_id: str | None = None
        for _ in range(5):
            page = await _home(c, reader, limit=4, **({"max_id": max_id} if max_id else {}))
            if not page:
                break
            seen += page
            max_id = page[-1]
        assert seen == list(reversed(posted))


async def test_a_redis_feed_stays_within_its_size_and_an_eighth_and_keeps_the_newest(
    settings: Settings, db: Database, make_user: MakeUser, store: str
) -> None:
    """Redis feeds are trimmed at push time, once they hold an eighth more than their size (not on
    every push: docs/benchmarks.md); reads never see more than the size. (One app on the database:
    every app built on it fans out its commits.)"""
    if store != "redis":
        pytest.skip("the SQL store's feeds are trimmed by its sweep (above)")
    from redis.asyncio import Redis

    from cordee.app import build_app
    from cordee.feeds.redis import slack

    size = 16
    small = build_app(replace(settings, feed_size=size), database=db)
    reader, writer = await make_user("reader"), await make_user("writer")
    redis = Redis.from_url(settings.redis_url)
    async with (
        small.router.lifespan_context(small),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=small), base_url="http://cordee.test") as c,
    ):
        await c.post(f"/api/v1/accounts/{writer.id}/follow", headers=reader.headers)
        await _home(c, reader)  # the feed exists from now on
        key = _store(small).key(reader.account_id)  # type: ignore[attr-defined]
        lengths, posted = [], []
        for i in range(size + 2 * slack(size) + 1):
            r = await c.post("/api/v1/statuses", json={"status": f"note {i}"}, headers=writer.headers)
            assert r.status_code == 200, r.text
            posted.append(r.json()["id"])
            lengths.append(await redis.zcard(key) - 1)  # its sentinel aside
        assert max(lengths) == size + slack(size), lengths  # it grew past its size, up to the slack
        assert lengths.count(size) >= 2  # and was trimmed back to its size, more than once
        assert await _feed(small, reader) == list(reversed(posted))[:size]  # the newest, no more
    await redis.aclose()
