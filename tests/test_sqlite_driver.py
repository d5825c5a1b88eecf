"""SQLite statements cost one hop to the driver's thread (``db/sqlite_driver.py``), and behave as
through aiosqlite: rows, row counts, RETURNING, executemany, streamed results, errors, rollback."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, Text, insert, text
from sqlalchemy.exc import IntegrityError

from cordee.db.engine import Database
from cordee.db.sqlite_driver import OneHopConnection, deferred, execute_late


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
    original: Any = OneHopConnection.hop
    original_told: Any = OneHopConnection.hop_told

    def counted(self: OneHopConnection, fn: Any, *args: Any) -> Any:
        seen.append(fn)
        return original(self, fn, *args)

    def counted_told(self: OneHopConnection, told: Any, fn: Any, *args: Any) -> None:
        seen.append(fn)
        original_told(self, told, fn, *args)

    monkeypatch.setattr(OneHopConnection, "hop", counted)
    monkeypatch.setattr(OneHopConnection, "hop_told", counted_told)
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


async def test_deferred_writes_ride_with_the_next_statement_and_fail_their_own_writer(
    db: Database, hops: list[Any]
) -> None:
    """A write marked ``deferred`` inside a group commit's transaction costs no hop of its own: it
    runs, in order, before the next statement (which then reads it), before its writer's
    savepoint is released, and before COMMIT; if it fails, its own writer learns of it, noted with
    its SQL, and the batch's other writers keep their work."""
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("v", Text))
    put = deferred(insert(table))
    hops.clear()
    async with db.write() as tx:
        await tx.session.execute(put, {"v": "a"})
        await tx.session.execute(put, {"v": "b"})
        assert not hops  # BEGIN, the savepoint and both inserts wait for the next statement
        seen = (await tx.session.execute(text("SELECT v FROM t ORDER BY v"))).scalars().all()
        assert seen == ["a", "b"] and len(hops) == 1
        await tx.session.execute(put, {"v": "c"})
    async with db.read() as session:
        assert (await session.execute(text("SELECT v FROM t ORDER BY v"))).scalars().all() == ["a", "b", "c"]

    async def writer(value: str, then: asyncio.Event | None = None) -> None:
        async with db.write() as tx:
            await tx.session.execute(put, {"v": value})
            if then is not None:
                await then.wait()

    # Two writers in one batch: the first's failing deferred insert (a duplicate) is its own error.
    started = asyncio.Event()
    first = asyncio.create_task(writer("a"))
    second = asyncio.create_task(writer("d", started))
    await asyncio.sleep(0)
    started.set()
    results = await asyncio.gather(first, second, return_exceptions=True)
    assert isinstance(results[0], IntegrityError) and results[1] is None
    notes = getattr(results[0].orig, "__notes__", [])
    assert [n[:72] for n in notes] == [
        "raised by a statement held back for this hop: INSERT /*deferred*/ INTO t"
    ]
    async with db.read() as session:
        assert (await session.execute(text("SELECT v FROM t ORDER BY v"))).scalars().all() == [
            "a",
            "b",
            "c",
            "d",
        ]
    # A rolled-back writer's deferred insert is dropped, never sent.
    hops.clear()
    with pytest.raises(RuntimeError):
        async with db.write() as tx:
            await tx.session.execute(put, {"v": "e"})
            raise RuntimeError("changed my mind")
    async with db.read() as session:
        assert (await session.execute(text("SELECT count(*) FROM t WHERE v = 'e'"))).scalar() == 0


async def test_deferred_writes_outside_a_begun_transaction_are_sent_at_once(db: Database) -> None:
    """Without an explicit BEGIN (a plain connection in autocommit), nothing holds the write back."""
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("v", Text))
    async with db.engine.connect() as conn:
        await conn.execute(deferred(insert(table)), {"v": "z"})
        await conn.commit()
    async with db.read() as session:
        assert (await session.execute(text("SELECT v FROM t"))).scalars().all() == ["z"]


async def test_writers_leave_their_deferred_writes_behind_and_each_hears_of_its_own_failure(
    db: Database, hops: list[Any]
) -> None:
    """A group commit's writer leaves its deferred writes (and its savepoint's release) behind it:
    they run with a later writer's statement or the batch's COMMIT. One that fails then undoes
    its own writer's savepoint alone — the writer raises it once the batch is committed — and
    the statements after it run; rows asked for (``execute_late``) reach their callback when
    their statement ran, never for an undone writer."""
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("v", Text, unique=True))
    put = deferred(insert(table))
    put_returning = deferred(insert(table)).returning(table.c.v)
    rows: dict[str, list[Any]] = {}
    async with db.write() as tx:
        await tx.session.execute(put, {"v": "taken"})

    gate = asyncio.Event()

    async def writer(value: str, *, read: bool = False) -> list[Any]:
        async with db.write() as tx:
            await execute_late(tx.session, put_returning, {"v": value}, lambda r: rows.setdefault(value, r))
            await asyncio.sleep(0)  # the others queue up behind: one batch
            if read:  # a read sends what the writers before it left behind
                await gate.wait()
                seen = (await tx.session.execute(text("SELECT v FROM t ORDER BY v"))).scalars().all()
                return list(seen)
        return []

    hops.clear()
    tasks = [
        asyncio.create_task(writer("a")),
        asyncio.create_task(writer("taken")),  # fails: a duplicate
        asyncio.create_task(writer("b", read=True)),
        asyncio.create_task(writer("c")),
    ]
    try:
        await asyncio.sleep(0.05)
        # Two writers left, the third waits (holding the lock), the fourth behind it: none of
        # them has spent a hop.
        assert not hops
    finally:
        gate.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(results[1], IntegrityError)
    # The reader saw the writers before it, less the one undone, and its own insert.
    assert results[0] == [] and results[2] == ["a", "b", "taken"] and results[3] == []
    assert rows == {"a": [("a",)], "b": [("b",)], "c": [("c",)]}
    # The read (carrying what the writers before it left, and its own insert), the commit.
    assert [hop.__name__ for hop in hops] == ["_run", "_commit_after"]
    async with db.read() as session:
        assert (await session.execute(text("SELECT v FROM t ORDER BY v"))).scalars().all() == [
            "a",
            "b",
            "c",
            "taken",
        ]


async def test_a_writer_that_rolls_back_takes_only_its_own_deferred_writes(db: Database) -> None:
    """A writer that fails in Python after leaving deferred writes (one of them failing too) rolls
    back its savepoint alone; the writers before it keep theirs."""
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("v", Text, unique=True))
    put = deferred(insert(table))

    async def keeps(value: str) -> None:
        async with db.write() as tx:
            await tx.session.execute(put, {"v": value})
            await asyncio.sleep(0)  # the others queue up behind: one batch

    async def gives_up() -> None:
        async with db.write() as tx:
            await tx.session.execute(put, {"v": "x"})
            await tx.session.execute(put, {"v": "x"})  # would fail, but is undone with the rest
            raise RuntimeError("changed my mind")

    results = await asyncio.gather(keeps("a"), gives_up(), keeps("b"), return_exceptions=True)
    assert results[0] is None and isinstance(results[1], RuntimeError) and results[2] is None
    async with db.read() as session:
        assert (await session.execute(text("SELECT v FROM t ORDER BY v"))).scalars().all() == ["a", "b"]


async def test_a_commit_that_fails_loses_its_batch_only_and_the_next_batch_commits(db: Database) -> None:
    """A batch's COMMIT runs after its writers left (queued to the connection's thread): should it
    fail (here a deferred foreign key), every writer of that batch raises — none was told its work
    stands — and the writers after it start on a clean transaction."""
    async with db.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
        await conn.execute(
            text(
                "CREATE TABLE child (id INTEGER PRIMARY KEY, "
                "parent_id INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)"
            )
        )
        await conn.execute(text("INSERT INTO parent (id) VALUES (1)"))
    child = Table("child", MetaData(), Column("id", Integer, primary_key=True), Column("parent_id", Integer))
    put = deferred(insert(child))

    async def writer(parent_id: int) -> None:
        async with db.write() as tx:
            await tx.session.execute(put, {"parent_id": parent_id})
            await asyncio.sleep(0)  # the others queue up behind: one batch

    results = await asyncio.gather(writer(1), writer(404), writer(1), return_exceptions=True)
    assert all(isinstance(r, IntegrityError) for r in results), results
    await writer(1)
    async with db.read() as session:
        assert (await session.execute(text("SELECT parent_id FROM child"))).scalars().all() == [1]
