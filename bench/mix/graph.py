"""A social graph for the benchmarks: accounts, follows with power-law popularity, notes.

Sizes (``--size``):

- ``reed98``: ~1K accounts and ~19K follows (the Reed College Facebook graph's size, the size the
  DeathStarBench social network uses), 10 notes per account;
- ``twitter``: ~80K accounts, ~1.7M follows, 1M notes (SNAP's ego-Twitter graph's size).

Popularity follows ~1/rank (Zipf, s=1): account 0 is followed by nearly everyone, account k by
about 1/k as many. Out-degrees are drawn around the mean so that the follow count matches.

**The bulk path.** The rows are written with multi-row ``INSERT``s straight into the server's own
tables (``cordee.db.tables``) — the only way to load 1.7M follows in minutes — and they are the rows
the actions layer would have written for the same follows and notes: the same counters
(followers/following/statuses counts, ``last_status_at``), the same note HTML (``render_html`` of
``cordee.domain.text``), one OAuth token per account. Home feeds are not written: the server builds
each one from the follow graph the first time its owner reads it (``HomeTimeline.rebuild``), the
same code as for any account back after a long absence. ``tests/bench/test_graph.py`` checks that a
small graph loaded this way reads back through the API exactly like one made through the actions.
"""

from __future__ import annotations

import bisect
import itertools
import random
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bench.stores import account_row, application_row, follow_row, insert_tables, token_row, user_row
from cordee.db.tables import AccessToken, Account, Application, Follow, Status, User
from cordee.domain.text import extract_entities, render_html
from cordee.ids import new_id

SIZES: dict[str, tuple[int, int, int]] = {
    # accounts, follows, notes
    "tiny": (40, 300, 200),
    "reed98": (962, 18_812, 9_620),
    "twitter": (81_306, 1_768_149, 1_000_000),
}
BATCH = 2_000
SCOPES = "read write follow"
WORDS = (
    "corde",
    "montagne",
    "refuge",
    "bénévole",
    "soirée",
    "ticket",
    "tombola",
    "mur",
    "écran",
    "ville",
    "cause",
    "eau",
    "douce",
    "listen",
    "market",
    "note",
    "thread",
    "river",
    "summit",
    "rope",
    "climb",
    "share",
    "support",
    "donate",
    "evening",
    "city",
)


@dataclass
class Graph:
    usernames: list[str]
    account_ids: list[int]
    tokens: list[str]
    #: (follower index, target index) pairs.
    follows: list[tuple[int, int]]
    #: (author index, note id, text) triples, oldest first.
    notes: list[tuple[int, int, str]] = field(default_factory=list)
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def followers_of(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for _, target in self.follows:
            counts[target] = counts.get(target, 0) + 1
        return counts


def _zipf_sampler(n: int, rng: random.Random) -> Any:
    """A function drawing an index in [0, n) with probability ~ 1/(index+1)."""
    cumulative = list(itertools.accumulate(1.0 / (k + 1) for k in range(n)))
    total = cumulative[-1]

    def draw() -> int:
        return min(bisect.bisect_left(cumulative, rng.random() * total), n - 1)

    return draw


def generate(accounts: int, follows: int, notes: int, seed: int = 2009) -> Graph:
    """The graph, decided before anything is written (same seed, same graph)."""
    rng = random.Random(seed)
    usernames = [f"u{i}" for i in range(accounts)]
    base_ms = int((datetime.now(UTC) - timedelta(days=30)).timestamp() * 1000)
    account_ids = [new_id(base_ms - 1_000 - i) for i in range(accounts)]
    tokens = [secrets.token_urlsafe(32) for _ in range(accounts)]
    draw = _zipf_sampler(accounts, rng)
    mean = follows / accounts
    pairs: set[tuple[int, int]] = set()
    for follower in range(accounts if follows else 0):  # no follows: accounts and tokens only
        # Out-degrees vary (exponential around the mean), capped by how many others there are.
        want = min(accounts - 1, max(1, round(rng.expovariate(1 / mean))))
        mine: set[int] = set()
        tries = 0
        while len(mine) < want and tries < want * 20:
            tries += 1
            target = draw()
            if target != follower:
                mine.add(target)
        pairs.update((follower, t) for t in mine)
    follow_list = sorted(pairs)
    # Trim or top up (uniformly) to the requested count, deterministically.
    rng.shuffle(follow_list)
    follow_list = follow_list[:follows]
    while len(follow_list) < follows:
        a, b = rng.randrange(accounts), rng.randrange(accounts)
        if a != b and (a, b) not in pairs:
            pairs.add((a, b))
            follow_list.append((a, b))
    note_rows: list[tuple[int, int, str]] = []
    span_ms = 30 * 24 * 3600 * 1000
    times = sorted(rng.randrange(span_ms) for _ in range(notes))
    for offset in times:
        author = rng.randrange(accounts)
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 14)))
        note_rows.append((author, new_id(base_ms + offset), text[:140]))
    return Graph(usernames, account_ids, tokens, follow_list, note_rows)


def note_html(text: str) -> str:
    """A note's HTML as ``post_status`` renders it (the generated notes mention nobody)."""
    entities = extract_entities(text)
    assert not entities, "generated notes are plain words"
    return render_html(text, entities, lambda e: None, lambda name: name)


async def load(engine: AsyncEngine, graph: Graph) -> dict[str, int]:
    """Write the graph into a migrated, empty database; returns the row counts per table. The
    generated notes are plain words: no mention, hashtag or link rows to write."""
    now = graph.created_at
    followers = graph.followers_of()
    following: dict[int, int] = {}
    for follower, _ in graph.follows:
        following[follower] = following.get(follower, 0) + 1
    statuses_count: dict[int, int] = {}
    last_status: dict[int, datetime] = {}
    for author, note_id, _ in graph.notes:
        statuses_count[author] = statuses_count.get(author, 0) + 1
        last_status[author] = datetime.fromtimestamp((note_id >> 16) / 1000, UTC)
    app_id = new_id()
    user_ids = [new_id() for _ in graph.usernames]
    ids = graph.account_ids

    def accounts() -> Iterator[dict[str, Any]]:
        for i, name in enumerate(graph.usernames):
            yield account_row(
                ids[i],
                name,
                now,
                display_name=name.upper(),
                followers_count=followers.get(i, 0),
                following_count=following.get(i, 0),
                statuses_count=statuses_count.get(i, 0),
                last_status_at=last_status.get(i),
            )

    def users() -> Iterator[dict[str, Any]]:
        for i, name in enumerate(graph.usernames):
            yield user_row(user_ids[i], ids[i], name, now)

    def tokens() -> Iterator[dict[str, Any]]:
        for i, token in enumerate(graph.tokens):
            yield token_row(new_id(), token, app_id, user_ids[i], SCOPES, now)

    def follow_rows() -> Iterator[dict[str, Any]]:
        for follower, target in graph.follows:
            yield follow_row(new_id(), ids[follower], ids[target], now)

    def status_rows() -> Iterator[dict[str, Any]]:
        for author, note_id, text in graph.notes:
            yield {
                "id": note_id,
                "account_id": ids[author],
                "text": text,
                "content": note_html(text),
                "spoiler_text": "",
                "visibility": "public",
                "sensitive": False,
                "language": None,
                "in_reply_to_id": None,
                "in_reply_to_account_id": None,
                "reblog_of_id": None,
                "application_id": None,
                "replies_count": 0,
                "reblogs_count": 0,
                "favourites_count": 0,
                "created_at": datetime.fromtimestamp((note_id >> 16) / 1000, UTC),
                "edited_at": None,
            }

    application = application_row(app_id, "Cordée benchmark", SCOPES, now)
    tables: list[tuple[Any, Iterable[dict[str, Any]]]] = [
        (Account, accounts()),
        (User, users()),
        (Application, [application]),
        (AccessToken, tokens()),
        (Follow, follow_rows()),
        (Status, status_rows()),
    ]
    async with engine.begin() as conn:
        counts = await insert_tables(conn, tables, BATCH)
    if engine.dialect.name == "postgresql":
        # The planner's statistics, which autovacuum gathers on a live instance within a minute
        # of such a load (a restore wants the same): without them, the fan-out of every post
        # scanned all follows (2.9 ms of PostgreSQL's time a post; 0.3 ms with them).
        async with engine.connect() as conn:
            autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.exec_driver_sql("ANALYZE")
    return counts
