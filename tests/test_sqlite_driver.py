"""SQLite statements cost one hop to the driver's thread (``db/sqlite_driver.py``), and behave as
through aiosqlite: rows, row counts, RETURNING, executemany, streamed results, errors, rollback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from cordee.db.engine import Database
from cordee.db.sqlite_driver import OneHopConnection


async def test_one_thread_hop_per_statement_and_the_same_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'd.sqlite3'}")
    hops: list[Any] = []
    original: Any = OneHopConnection._execute

    async def counted(self: OneHopConnection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(fn)
        return await original(self, fn, *args, **kwargs)

    try:
        async with db.engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)"))
        monkeypatch.setattr(OneHopConnection, "_execute", counted)
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
    finally:
        await db.dispose()
