"""Database connections are kept, not opened per burst: a process's pool holds
``CORDEE_DATABASE_POOL_SIZE`` of them (20 by default), on PostgreSQL and on a SQLite file. With
SQLAlchemy's default of 5, every request beyond the fifth at once opened a connection — a
PostgreSQL backend, or a SQLite thread with its file and pragmas — and closed it on return: posts/s
on PostgreSQL were ~25 % lower, and web pages on SQLite opened one per page (docs/benchmarks.md)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event, text

from cordee.config import ConfigError, Settings, load_settings
from cordee.db.engine import Database


def test_the_pool_size_is_a_setting() -> None:
    assert load_settings({}).database_pool_size == Settings.database_pool_size == 20
    assert load_settings({"CORDEE_DATABASE_POOL_SIZE": "32"}).database_pool_size == 32
    with pytest.raises(ConfigError):
        load_settings({"CORDEE_DATABASE_POOL_SIZE": "0"})


async def _opened_by_two_bursts(url: str, pool_size: int, at_once: int) -> list[int]:
    database = Database(url, pool_size=pool_size)
    opened = 0

    def on_connect(*_: Any) -> None:
        nonlocal opened
        opened += 1

    event.listen(database.engine.sync_engine, "connect", on_connect)

    async def one() -> None:
        async with database.read() as session:
            await session.execute(text("SELECT 1"))
            await asyncio.sleep(0.05)  # the connection stays checked out meanwhile

    counts = []
    try:
        for _ in range(2):
            before = opened
            await asyncio.gather(*(one() for _ in range(at_once)))
            counts.append(opened - before)
    finally:
        await database.dispose()
    return counts


async def test_a_second_burst_opens_no_connection(db: Database) -> None:
    assert await _opened_by_two_bursts(db.url, pool_size=20, at_once=12) == [12, 0]
    # What SQLAlchemy's default did: the 7 beyond its 5 were opened again for every burst.
    assert await _opened_by_two_bursts(db.url, pool_size=5, at_once=12) == [12, 7]
