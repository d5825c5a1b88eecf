"""Database connections are kept, not opened per burst: a process's pool holds
``CORDEE_DATABASE_POOL_SIZE`` of them (20 by default), on PostgreSQL and on a SQLite file. With
SQLAlchemy's default of 5, every request beyond the fifth at once opened a connection — a
PostgreSQL backend, or a SQLite thread with its file and pragmas — and closed it on return: posts/s
on PostgreSQL were ~25 % lower, and web pages on SQLite opened one per page (docs/benchmarks.md)."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event, text

from cordee.config import ConfigError, Settings, load_settings
from cordee.db.engine import Database
from tests.conftest import PG_ADMIN_DSN


def test_the_pool_size_is_a_setting() -> None:
    assert load_settings({}).database_pool_size == Settings.database_pool_size == 20
    assert load_settings({"CORDEE_DATABASE_POOL_SIZE": "32"}).database_pool_size == 32
    with pytest.raises(ConfigError):
        load_settings({"CORDEE_DATABASE_POOL_SIZE": "0"})


async def _opened_by_two_bursts(url: str, pool_size: int, at_once: int, *, writes: bool = False) -> list[int]:
    """Connections opened by each of two bursts of ``at_once`` sessions (write transactions with
    ``writes``) holding their connection a moment."""
    database = Database(url, pool_size=pool_size)
    opened = 0

    def on_connect(*_: Any) -> None:
        nonlocal opened
        opened += 1

    event.listen(database.engine.sync_engine, "connect", on_connect)

    async def one() -> None:
        if writes:
            async with database.write() as tx:
                await tx.session.execute(text("SELECT pg_sleep(0.02)"))
            return
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


async def test_writers_beyond_the_pool_wait_for_a_connection_instead_of_opening_one(db: Database) -> None:
    """32 posts at once on a pool of 20 opened and closed a connection for each writer beyond the
    twentieth, ~20 % of the server's CPU a post (docs/benchmarks.md): they wait for one now. A write
    begun inside another's turn takes none of its own (with every turn held, it would wait forever)."""
    if db.is_sqlite:
        pytest.skip("PostgreSQL's pool (SQLite's writers queue for its one writer)")
    assert await _opened_by_two_bursts(db.url, pool_size=5, at_once=12, writes=True) == [5, 0]
    database = Database(db.url, pool_size=5)

    async def nested() -> None:
        async with database.write() as tx:
            await tx.session.execute(text("SELECT pg_sleep(0.02)"))
            async with database.write() as inner:
                await inner.session.execute(text("SELECT 1"))

    try:
        await asyncio.wait_for(asyncio.gather(*(nested() for _ in range(8))), 10)
    finally:
        await database.dispose()


# PostgreSQL connections are checked for life without a round trip: SQLAlchemy's ``pool_pre_ping``
# sent ``BEGIN``, an empty query and ``ROLLBACK`` before every transaction — three of a post's ~20
# round trips, each a send and a wake-up of the server (docs/benchmarks.md).


def _queries_of(database: Database) -> list[str]:
    """The plain queries (transaction control, a ping; not the prepared statements) the database's
    pooled PostgreSQL connections send from now on, in order."""
    sent: list[str] = []

    def log(record: Any) -> None:
        sent.append(record.query.strip().rstrip(";").upper() or "(EMPTY)")

    def attach(dbapi_connection: Any, *_: Any) -> None:
        dbapi_connection.driver_connection.add_query_logger(log)

    event.listen(database.engine.sync_engine, "connect", attach)
    pool = database.engine.sync_engine.pool
    pool.dispose()  # connections opened from now on carry the logger
    return sent


async def test_a_write_transaction_sends_no_ping(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("PostgreSQL's pool")
    sent = _queries_of(db)
    for _ in range(3):  # the connection is checked out again each time
        async with db.write() as tx:
            await tx.session.execute(text("SELECT 1"))
    # Without the ping: BEGIN, (EMPTY), ROLLBACK before each transaction on a kept connection.
    assert sent == ["BEGIN", "COMMIT"] * 3


async def test_connections_the_server_closed_are_replaced_before_use(
    db: Database, client: Any, alice: Any
) -> None:
    """A PostgreSQL restart (or an administrator ending sessions) closes every pooled connection;
    the next requests open new ones instead of failing."""
    if db.is_sqlite:
        pytest.skip("PostgreSQL's pool")

    async def busy(n: int) -> None:  # several connections in the pool, all idle afterwards
        async def one() -> None:
            async with db.write() as tx:
                await tx.session.execute(text("SELECT pg_sleep(0.02)"))

        await asyncio.gather(*(one() for _ in range(n)))

    await busy(4)
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        ended = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = $1 AND pid <> pg_backend_pid()",
            db.engine.url.database,
        )
    finally:
        await admin.close()
    assert ended >= 4
    await asyncio.sleep(0.2)  # the server's closing reaches the event loop
    for i in range(6):
        r = await client.post("/api/v1/statuses", json={"status": f"still here {i}"}, headers=alice.headers)
        assert r.status_code == 200, r.text
    r = await client.get("/api/v1/timelines/home", headers=alice.headers)
    assert r.status_code == 200 and len(r.json()) == 6
