"""With the Redis feed store, feed work is recorded in the note's own transaction: if the process
dies between the commit and Redis, the work is replayed and no follower's feed misses the note."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from cordee.db.engine import Database
from cordee.db.tables import FeedOutbox
from cordee.feeds import outbox
from cordee.jobs.runner import run_due
from cordee.queries.timelines import HOME_CHECK, LIVE_VISIBLE
from tests.api.home_reads import served_without
from tests.conftest import ApiUser

Post = Callable[..., Awaitable[dict[str, Any]]]


async def _outbox_rows(db: Database) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(FeedOutbox)) or 0)


async def _outbox_emptied(db: Database) -> bool:
    """Done rows are deleted together a moment later (``outbox.DoneRows``)."""
    for _ in range(100):
        if await _outbox_rows(db) == 0:
            return True
        await asyncio.sleep(outbox.DONE_DELAY_SECONDS / 2)
    return False


async def _post_not_fanned_out(
    redis_feed: Any, post: Post, author: ApiUser, text: str, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    """A note whose fan-out is lost after its commit (Redis fails there, or the process dies): it
    is acknowledged, and its outbox row stays."""

    async def unreachable(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("Redis went away")

    monkeypatch.setattr(redis_feed, "write", unreachable)  # the Redis half of every push
    try:
        return await post(author, text)
    finally:
        monkeypatch.undo()


@pytest.fixture
async def redis_feed(store: str, app: Any, client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser) -> Any:
    """The Redis feed store, with alice following bob and her feed built (SQL store: skipped, it
    fans out inside the transaction and has no outbox)."""
    if store != "redis":
        pytest.skip("the SQL store fans out inside the transaction: it needs no outbox")
    await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice.headers)
    await client.get("/api/v1/timelines/home", headers=alice.headers)  # alice's feed exists
    return app.state.home.store


async def test_work_lost_after_commit_is_replayed(
    redis_feed: Any,
    app: Any,
    db: Database,
    post: Post,
    alice: ApiUser,
    bob: ApiUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fanout = redis_feed

    first = await post(bob, "fanned out as usual")
    assert await _outbox_emptied(db)  # done, then deleted

    lost = await _post_not_fanned_out(fanout, post, bob, "committed, not fanned out", monkeypatch)
    assert await _outbox_rows(db) == 1
    feed = await fanout.read(alice.account_id, below=None, above=None)
    assert int(lost["id"]) not in feed

    monkeypatch.setattr(outbox, "REPLAY_AFTER_SECONDS", 0.0)
    done = await run_due(db, app.state.settings)
    assert done["feeds.outbox"] == 1
    assert await _outbox_rows(db) == 0
    feed = await fanout.read(alice.account_id, below=None, above=None)
    assert [int(lost["id"]), int(first["id"])] == feed[:2]
    # Replaying again changes nothing.
    assert (await run_due(db, app.state.settings))["feeds.outbox"] == 0


async def test_a_new_note_costs_no_second_transaction(
    redis_feed: Any, db: Database, post: Post, alice: ApiUser, bob: ApiUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A note's entries are read in its own transaction: after commit only Redis is written. A
    direct note, or one with hashtags, is still read after commit (see ``fanout._read_in_transaction``),
    and every kind reaches the feeds."""
    opened: list[str] = []
    read = db.read

    def counted() -> Any:
        opened.append("read")
        return read()

    monkeypatch.setattr(db, "read", counted)
    plain = await post(bob, "plain")
    assert opened == []
    tagged = await post(bob, "with a #tag")
    direct = await post(bob, f"@{alice.username} between us", visibility="direct")
    assert len(opened) == 2  # one read session after each commit
    monkeypatch.undo()
    feed = await redis_feed.read(alice.account_id, below=None, above=None)
    assert [int(direct["id"]), int(tagged["id"]), int(plain["id"])] == feed[:3]


async def test_a_replayed_note_shows_on_a_home_page_kept_meanwhile(
    redis_feed: Any,
    app: Any,
    db: Database,
    client: httpx.AsyncClient,
    post: Post,
    alice: ApiUser,
    bob: ApiUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A replay tells the caches whose feeds it wrote: a home page kept whole (served without
    reading the feed: ``memo.quick``) is read again, and shows the replayed note at once."""
    first = await post(bob, "fanned out as usual")
    assert await _outbox_emptied(db)
    lost = await _post_not_fanned_out(redis_feed, post, bob, "committed, not fanned out", monkeypatch)
    # Alice's page without the lost note (it is in no feed yet), kept whole and served as kept.
    page = await served_without(db, client, alice, (*HOME_CHECK.every, LIVE_VISIBLE))
    assert [s["id"] for s in page] == [first["id"]]

    monkeypatch.setattr(outbox, "REPLAY_AFTER_SECONDS", 0.0)
    assert (await run_due(db, app.state.settings))["feeds.outbox"] == 1
    r = await client.get("/api/v1/timelines/home", headers=alice.headers)
    assert [s["id"] for s in r.json()] == [lost["id"], first["id"]]
