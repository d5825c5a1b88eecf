"""``bench.inprocess --copy``: the writes of an in-process run go to a copy of the kept folder's
database — on PostgreSQL a database made from it, with a Redis key prefix of its own — removed
after, the kept one untouched."""

from __future__ import annotations

import uuid
from pathlib import Path

import asyncpg
from bench.inprocess import _copied
from bench.stores import pg, pg_url
from sqlalchemy.engine.url import make_url

from tests.conftest import PG_ADMIN_DSN


async def test_a_sqlite_folder_is_copied_and_the_copy_removed(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "cordee.sqlite3").write_bytes(b"kept")
    (tmp_path / "readers.txt").write_text("token 1\n")
    async with _copied(tmp_path) as copy:
        assert copy != tmp_path and (copy / "readers.txt").read_text() == "token 1\n"
        (copy / "data" / "cordee.sqlite3").write_bytes(b"written")
    assert (tmp_path / "data" / "cordee.sqlite3").read_bytes() == b"kept"
    assert not copy.exists()


async def _databases() -> set[str]:
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        return {row[0] for row in await conn.fetch("SELECT datname FROM pg_database")}
    finally:
        await conn.close()


async def test_a_postgresql_folder_gets_a_database_and_a_prefix_of_its_own(tmp_path: Path) -> None:
    name = f"cordee_inprocess_{uuid.uuid4().hex[:8]}"
    await pg(f'CREATE DATABASE "{name}"')
    try:
        (tmp_path / "store.env").write_text(
            f"CORDEE_DATABASE_URL={pg_url(name)}\nCORDEE_REDIS_URL=redis://127.0.0.1:6379/0\n"
            "CORDEE_REDIS_PREFIX=cordee-kept:\n"
        )
        async with _copied(tmp_path) as copy:
            kept = dict(line.split("=", 1) for line in (copy / "store.env").read_text().split())
            copied = make_url(kept["CORDEE_DATABASE_URL"]).database
            assert copied != name and copied in await _databases()
            assert kept["CORDEE_REDIS_PREFIX"].startswith("cordee-inprocess-")
            assert kept["CORDEE_REDIS_URL"] == "redis://127.0.0.1:6379/0"
        assert copied not in await _databases() and not copy.exists()
        assert "CORDEE_REDIS_PREFIX=cordee-kept:" in (tmp_path / "store.env").read_text()
    finally:
        await pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
