"""SQLite's writers that queue up share one commit (``db/group_commit.py``): fewer disk syncs,
the same guarantees — every acknowledged change is committed before its answer, and a writer that
fails takes nothing of the others' with it."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from cordee.db import sqlite_driver
from cordee.db.engine import Database
from cordee.db.sqlite_driver import OneHopConnection, deferred
from cordee.db.tables import Account, Status
from tests.conftest import ApiUser


@pytest.fixture
def sqlite_only(backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("group commit is SQLite's (PostgreSQL runs writers side by side)")


async def test_concurrent_posts_share_commits_and_all_stand(
    sqlite_only: None,
    db: Database,
    client: httpx.AsyncClient,
    alice: ApiUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    commits: list[int] = []
    original: Any = OneHopConnection.hop_told

    def counted(self: OneHopConnection, told: Any, fn: Any, *args: Any) -> None:
        if fn.__name__ == "_commit_after":
            commits.append(1)
        original(self, told, fn, *args)

    monkeypatch.setattr(OneHopConnection, "hop_told", counted)

    async def one(i: int) -> httpx.Response:
        return await client.post("/api/v1/statuses", json={"status": f"together {i}"}, headers=alice.headers)

    answers = await asyncio.gather(*(one(i) for i in range(30)))
    assert [r.status_code for r in answers] == [200] * 30
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Status)) == 30
    assert 0 < len(commits) < 30  # queued writers were committed together


async def test_a_failing_writer_rolls_back_alone(
    sqlite_only: None, db: Database, client: httpx.AsyncClient, alice: ApiUser
) -> None:
    class Refused(Exception):
        pass

    async def failing() -> None:
        async with db.write() as tx:
            tx.session.add(Status(account_id=alice.account_id, text="never", content="", visibility="public"))
            await tx.session.flush()
            await asyncio.sleep(0)  # let the others queue behind
            raise Refused

    async def post(i: int) -> Any:
        return await client.post("/api/v1/statuses", json={"status": f"kept {i}"}, headers=alice.headers)

    results = await asyncio.gather(post(0), failing(), post(1), post(2), return_exceptions=True)
    assert isinstance(results[1], Refused)
    assert [r.status_code for r in results if isinstance(r, httpx.Response)] == [200, 200, 200]
    async with db.read() as session:
        texts = set(await session.scalars(select(Status.text)))
    assert texts == {"kept 0", "kept 1", "kept 2"}


async def test_a_batch_gathered_behind_a_commit_is_sent_as_soon_as_that_commit_is_done(
    sqlite_only: None, db: Database, alice: ApiUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writers who come while a batch commits gather behind it; their batch is sent once the thread
    is done with that commit, before the first batch's writers even hear back — not at one of the
    gathered writers' turns of the event loop (under load each turn is long, and SQLite's thread
    would wait idle meanwhile)."""
    gate = threading.Event()
    sent: list[str] = []
    original: Any = sqlite_driver._commit_after

    def first_waits(*args: Any) -> Any:
        if len(sent) == 1:
            gate.wait(5)  # the first commit is under way as long as the test wants
        return original(*args)

    def counted(self: OneHopConnection, told: Any, fn: Any, *args: Any) -> None:
        sent.append(fn.__name__)
        told_original(self, told, fn, *args)

    told_original: Any = OneHopConnection.hop_told
    monkeypatch.setattr(sqlite_driver, "_commit_after", first_waits)
    monkeypatch.setattr(OneHopConnection, "hop_told", counted)

    async def rename(name: str) -> int:
        async with db.write() as tx:  # a write left behind by its writer: no hop under the lock
            await tx.session.execute(
                deferred(update(Account).where(Account.id == alice.account_id).values(display_name=name))
            )
        return len(sent)  # the commits sent when this writer hears that its own is done

    first = asyncio.create_task(rename("first"))
    await asyncio.sleep(0.05)
    assert len(sent) == 1  # the first writer's commit, under way
    second = asyncio.create_task(rename("second"))
    await asyncio.sleep(0.05)
    assert len(sent) == 1  # the second writer left; its batch gathers behind the first's commit
    gate.set()
    assert await first == 2  # sent before the first writer even heard back
    assert await second == 2
    async with db.read() as session:
        assert (
            await session.scalar(select(Account.display_name).where(Account.id == alice.account_id))
            == "second"
        )


async def test_a_writer_cancelled_while_queued_leaves_no_batch_waiting(
    sqlite_only: None, db: Database, alice: ApiUser
) -> None:
    """A writer that leaves with another queued behind it lets that one send the batch; should the
    queued one be cancelled (its client gone) before its turn, the batch is sent all the same."""

    async def rename(name: str, then: Any = None) -> None:
        async with db.write() as tx:
            await tx.session.execute(
                deferred(update(Account).where(Account.id == alice.account_id).values(display_name=name))
            )
            if then is not None:
                await asyncio.sleep(0.05)  # the other writer queues meanwhile
                then()

    queued: asyncio.Task[None] | None = None

    def cancel_the_queued() -> None:
        assert queued is not None
        queued.cancel()  # delivered at its turn, after this writer left: it was counted as queued

    first = asyncio.create_task(rename("kept", cancel_the_queued))
    await asyncio.sleep(0.01)
    queued = asyncio.create_task(rename("never"))
    await asyncio.wait_for(first, 5)  # its batch committed though nobody is left to send it
    with pytest.raises(asyncio.CancelledError):
        await queued
    async with db.read() as session:
        assert (
            await session.scalar(select(Account.display_name).where(Account.id == alice.account_id)) == "kept"
        )


async def test_closing_commits_the_batch_gathered_behind_a_commit_under_way(
    sqlite_only: None, db: Database, alice: ApiUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Closing the database (the server stopping) waits for the commit under way, then commits
    the batch gathered behind it: its writers were told nothing yet, and their work stands."""
    gate = threading.Event()
    original: Any = sqlite_driver._commit_after
    calls: list[int] = []

    def first_waits(*args: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            gate.wait(5)
        return original(*args)

    monkeypatch.setattr(sqlite_driver, "_commit_after", first_waits)

    async def rename(name: str) -> None:
        async with db.write() as tx:
            await tx.session.execute(
                deferred(update(Account).where(Account.id == alice.account_id).values(display_name=name))
            )

    first = asyncio.create_task(rename("first"))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(rename("second"))  # gathers behind the first's commit
    await asyncio.sleep(0.05)
    group = db._group  # the group commit itself: what ``Database.dispose`` closes first
    assert group is not None
    closing = asyncio.create_task(group.close())
    await asyncio.sleep(0.05)
    gate.set()
    await asyncio.wait_for(asyncio.gather(first, second, closing), 5)
    async with db.read() as session:
        assert (
            await session.scalar(select(Account.display_name).where(Account.id == alice.account_id))
            == "second"
        )
