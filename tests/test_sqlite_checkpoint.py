"""SQLite's log is copied into the database file by a thread of its own (``db/checkpoint.py``),
not by the writers' commits: a commit appends to the log, and the checkpointer, told of it, copies
the log into the file soon after."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from cordee.db.checkpoint import BACKSTOP_PAGES, Checkpointer
from cordee.db.engine import Database
from cordee.db.hot import SqliteFile, sqlite_file
from tests.support.waiting import wait_for

#: A write of ~2,000 pages: past SQLite's own default checkpoint size (1,000), below the writers'
#: backstop (``BACKSTOP_PAGES``), so only the checkpointer copies it into the file.
BIG = 8_000_000


def _file_size(path: Path) -> int:
    return path.stat().st_size


def _writer(path: Path) -> sqlite3.Connection:
    """A connection that never checkpoints by itself, as a writer whose backstop is far off."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    return conn


def test_a_commit_told_is_copied_into_the_file_by_the_checkpointer(tmp_path: Path) -> None:
    path = tmp_path / "d.sqlite3"
    writer = _writer(path)
    writer.execute("CREATE TABLE t (b BLOB)")
    checkpoints = Checkpointer(SqliteFile(str(path)), every=0.01)
    try:
        checkpoints.committed()
        assert wait_for(lambda: _file_size(path) >= 2 * 4096)  # the schema's page and the table's
        before = _file_size(path)
        writer.execute("INSERT INTO t VALUES (zeroblob(?))", (BIG,))
        time.sleep(0.3)
        assert _file_size(path) == before  # in the log only: nobody told the checkpointer
        checkpoints.committed()
        assert wait_for(lambda: _file_size(path) > BIG)
    finally:
        checkpoints.close()
        writer.close()
    assert not checkpoints._thread.is_alive()


async def test_the_databases_writes_reach_the_file_without_the_writers_checkpointing(tmp_path: Path) -> None:
    path = tmp_path / "d.sqlite3"
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (b BLOB)"))
            assert (await conn.execute(text("PRAGMA wal_autocheckpoint"))).scalar() == BACKSTOP_PAGES
        before = _file_size(path)
        async with db.write() as tx:
            await tx.session.execute(text("INSERT INTO t VALUES (zeroblob(:n))"), {"n": BIG})
        # Copied by the checkpointer's thread: nothing on this event loop is needed meanwhile.
        assert wait_for(lambda: _file_size(path) > before + BIG, 5)
    finally:
        await db.dispose()


async def test_a_file_uri_reaches_the_same_file_through_every_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``CORDEE_DATABASE_URL`` as a ``file:`` URI: the hot reader and the checkpointer open the
    writers' file, not a file named after the URI in the working directory."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "u.sqlite3"
    db = Database(f"sqlite+aiosqlite:///file:{path}?mode=rwc&uri=true")
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (b BLOB)"))
        before = _file_size(path)
        async with db.write() as tx:
            await tx.session.execute(text("INSERT INTO t VALUES (zeroblob(:n))"), {"n": BIG})
        assert wait_for(lambda: _file_size(path) > before + BIG, 5)  # checkpointed into it
        hot = sqlite_file(db.engine.url)
        assert hot is not None
        with contextlib.closing(hot.connect()) as reader:
            assert reader.execute("SELECT count(*) FROM t").fetchone() == (1,)
    finally:
        await db.dispose()
    assert [name for name in os.listdir(tmp_path) if not name.startswith("u.sqlite3")] == []


def test_in_memory_databases_are_no_file() -> None:
    for url in (
        "sqlite+aiosqlite://",
        "sqlite+aiosqlite:///:memory:",
        "sqlite+aiosqlite:///file::memory:?cache=shared&uri=true",
    ):
        assert sqlite_file(url) is None
    assert sqlite_file("sqlite+aiosqlite:////srv/c.sqlite3") == SqliteFile("/srv/c.sqlite3")


def test_sqlite_tells_a_connection_of_others_commits_not_of_its_own_nor_of_checkpoints(
    tmp_path: Path,
) -> None:
    """What ``db/outside_writes.py`` rests on: ``PRAGMA data_version`` on the writers' connection
    moves for another connection's commit, not for its own, nor for this thread's checkpoints."""
    path = tmp_path / "version.sqlite3"
    writer = sqlite3.connect(path, isolation_level=None)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("PRAGMA journal_mode=WAL")
        writer.execute("CREATE TABLE t (x)")

        def version() -> int:
            return int(writer.execute("PRAGMA data_version").fetchone()[0])

        first = version()
        for i in range(20):  # its own commits, and another connection's PASSIVE checkpoints
            writer.execute("INSERT INTO t VALUES (?)", (i,))
            other.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        assert version() == first
        other.execute("INSERT INTO t VALUES (-1)")
        assert version() != first
    finally:
        writer.close()
        other.close()
