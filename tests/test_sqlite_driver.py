"""SQLite statements cost one hop to the driver's thread (``db/sqlite_driver.py``), and behave as
through aiosqlite: rows, row counts, RETURNING, executemany, streamed results, errors, rollback."""

from __future__ import annotations

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


async def test_a_rollback_with_nothing_to_undo_costs_no_hop(db: Database, hops: list[Any]) -> None:
    """The pool resets each connection it gets back with a rollback: after a commit, or a session
    that only read, there is nothing to undo and no hop is spent on it; a real rollback undoes."""
    hops.clear()
    async with db.read() as session:
        assert (await session.execute(text("SELECT count(*) FROM t"))).scalar() == 0
    assert len(hops) == 1  # the SELECT alone
    hops.clear()
    async with db.write() as tx:
        await tx.session.execute(text("INSERT INTO t (v) VALUES ('a')"))
    assert [getattr(hop, "__name__", None) for hop in hops].count("rollback") == 0
    with pytest.raises(IntegrityError):
        async with db.write() as tx:
            await tx.session.execute(text("INSERT INTO t (v) VALUES ('b')"))
            await tx.session.execute(text("INSERT INTO t (v) VALUES ('a')"))
    async with db.read() as session:
        assert (await session.execute(text("SELECT v FROM t"))).scalars().all() == ["a"]
