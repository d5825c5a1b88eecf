"""SQLite statements cost one hop to the driver's thread (``db/sqlite_driver.py``), and behave as
through aiosqlite: rows, row counts, RETURNING, executemany, streamed results, errors, rollback."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from cordee.db.engine import Database
from cordee.db.sqlite_driver import OneHopConnection


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A database holding one table ``t`` (an id, a unique value)."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'd.sqlite3'}")
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)"))
        yield db
    finally:
        await db.dispose()


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Each hop to a connection's thread, from now on."""
    seen: list[Any] = []
    original: Any = OneHopConnection._execute

    async def counted(self: OneHopConnection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(fn)
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(OneHopConnection, "_execute", counted)
    return seen


async def test_one_thread_hop_per_statement_and_the_same_results(db: Database, hops: list[Any]) -> None:
    async with db.engine.begin() as conn:
        hops.clear()
        await conn.execute(text("INSERT INTO t (v) VALUES (:v)"), [{"v": f"x{i}"} for i in range(5)])
        assert len(hops) == 1  # executemany: one hop too
        hops.clear()
        rows = (await conn.execute(text("SELECT id, v FROM t ORDER BY id"))).all()
        assert len(hops) == 1
        assert [tuple(r) for r in rows] == [(i + 1, f"x{i}") for i in range(5)]
        updated = await conn.execute(text("UPDATE t SET v = v || '!' WHERE id > 3"))
        assert updated.rowcount == 2
        back = await conn.execute(text("UPDATE t SET v = 'y' WHERE id = 1 RETURNING id, v"))
        assert back.one() == (1, "y")
        streamed = await conn.stream(text("SELECT v FROM t ORDER BY id"))
        assert [r[0] async for r in streamed] == ["y", "x1", "x2", "x3!", "x4!"]
        with pytest.raises(IntegrityError):
            await conn.execute(text("INSERT INTO t (v) VALUES ('y')"))
    async with db.engine.connect() as conn:
        await conn.execute(text("DELETE FROM t"))
        await conn.rollback()  # a rolled-back change leaves nothing
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 5


async def test_transaction_bounds_go_with_the_next_statement_and_keep_their_meaning(
    tmp_path: Path, db: Database, hops: list[Any]
) -> None:
    """``BEGIN``, ``SAVEPOINT`` and, inside an explicit ``BEGIN``, ``RELEASE`` cost no hop of their
    own; a savepoint still rolls back alone, and a ``RELEASE`` that ends the outermost savepoint
    (no ``BEGIN``: it commits) is sent at once."""
    async with db.engine.connect() as conn:
        hops.clear()
        await conn.execute(text("BEGIN IMMEDIATE"))
        for value in ("a", "b"):  # two writers of a group commit, each in its savepoint
            nested = await conn.begin_nested()
            await conn.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": value})
            await nested.commit()
        nested = await conn.begin_nested()  # a third one fails, and rolls back alone
        await conn.execute(text("INSERT INTO t (v) VALUES ('c')"))
        with pytest.raises(IntegrityError):
            await conn.execute(text("INSERT INTO t (v) VALUES ('a')"))
        await nested.rollback()
        # The inserts (4) and the rollback to the third savepoint: BEGIN, the savepoints and
        # the releases rode along (eleven hops before).
        assert len(hops) == 5
        hops.clear()
        await conn.commit()
        assert len(hops) == 1  # the last RELEASE went unsent: COMMIT covers it
    async with db.engine.connect() as conn:
        assert (await conn.execute(text("SELECT v FROM t ORDER BY v"))).scalars().all() == ["a", "b"]
    # A savepoint opened with no BEGIN is the transaction: its RELEASE commits, and is sent.
    path = tmp_path / "d.sqlite3"
    raw = await OneHopConnection(lambda: sqlite3.connect(str(path), isolation_level=None), 64)
    try:
        cursor = raw.cursor()
        await cursor.execute("SAVEPOINT outer")
        await cursor.execute("INSERT INTO t (v) VALUES ('d')")
        await cursor.execute("RELEASE SAVEPOINT outer")
    finally:
        await raw.close()
    async with db.engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM t WHERE v = 'd'"))).scalar() == 1


async def test_a_group_commits_writers_run_on_the_event_loop(db: Database, hops: list[Any]) -> None:
    """Inside a batch of the group commit, statements cost no hop: its BEGIN IMMEDIATE (the write
    lock being free) and its writers' statements run on the event loop; only the COMMIT goes to
    the driver's thread, and a writer that fails still rolls back alone."""
    hops.clear()
    async with db.write() as tx:
        await tx.session.execute(text("INSERT INTO t (v) VALUES ('a')"))
        assert hops == []
    assert len(hops) == 1  # the commit
    with pytest.raises(IntegrityError):
        async with db.write() as tx:
            await tx.session.execute(text("INSERT INTO t (v) VALUES ('a')"))
    async with db.read() as session:
        assert (await session.execute(text("SELECT v FROM t"))).scalars().all() == ["a"]


async def test_a_batch_waits_off_the_loop_for_a_write_lock_held_elsewhere(
    tmp_path: Path, db: Database
) -> None:
    """Another program holding SQLite's write lock: the batch's BEGIN IMMEDIATE is not attempted
    on the event loop's time — it waits on the driver's thread (busy timeout), and the write goes
    through once the other program commits."""
    other = sqlite3.connect(str(tmp_path / "d.sqlite3"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO t (v) VALUES ('other')")

    async def write() -> None:
        async with db.write() as tx:
            await tx.session.execute(text("INSERT INTO t (v) VALUES ('ours')"))

    writing = asyncio.create_task(write())
    await asyncio.sleep(0.2)
    assert not writing.done()  # waiting for the lock, while the event loop runs (we are here)
    other.execute("COMMIT")
    other.close()
    await asyncio.wait_for(writing, 10)
    async with db.read() as session:
        assert (await session.execute(text("SELECT v FROM t ORDER BY v"))).scalars().all() == [
            "other",
            "ours",
        ]
