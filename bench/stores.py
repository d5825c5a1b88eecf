"""What every benchmark shares about its stores: a PostgreSQL database and a Redis key prefix of
its own on loopback, made for the run and removed after it, and batched bulk inserts."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine.url import make_url

PG_ADMIN_DSN = os.environ.get("CORDEE_BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("CORDEE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def pg_url(name: str) -> str:
    """The SQLAlchemy URL of database ``name`` on the benchmark's PostgreSQL (its query kept: a
    Unix socket is named as ``?host=/var/run/postgresql``)."""
    url = make_url(PG_ADMIN_DSN).set(drivername="postgresql+asyncpg", database=name)
    return url.render_as_string(hide_password=False)


async def pg(statement: str) -> None:
    """Run one administrative statement (CREATE / DROP DATABASE)."""
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def clean_redis(prefix: str) -> None:
    """Delete every key under ``prefix``."""
    from redis.asyncio import Redis

    redis = Redis.from_url(REDIS_URL)
    try:
        keys = [k async for k in redis.scan_iter(match=f"{prefix}*", count=5000)]
        for start in range(0, len(keys), 5000):
            await redis.delete(*keys[start : start + 5000])
    finally:
        await redis.aclose()


async def copy_redis(source: str, target: str) -> int:
    """Copy every key under prefix ``source`` to the same name under ``target`` (values and time
    to live, by ``DUMP``/``RESTORE``); returns how many."""
    from redis.asyncio import Redis

    redis = Redis.from_url(REDIS_URL)
    copied = 0
    try:
        keys = [k async for k in redis.scan_iter(match=f"{source}*", count=5000)]
        for start in range(0, len(keys), 1000):
            batch = keys[start : start + 1000]
            async with redis.pipeline(transaction=False) as pipe:
                for key in batch:
                    pipe.dump(key)
                    pipe.pttl(key)
                dumped = await pipe.execute()
            async with redis.pipeline(transaction=False) as pipe:
                for key, value, ttl in zip(batch, dumped[::2], dumped[1::2], strict=True):
                    if value is not None:  # expired meanwhile
                        name = target.encode() + key[len(source.encode()) :]
                        pipe.restore(name, max(ttl, 0), value, replace=True)
                        copied += 1
                await pipe.execute()
    finally:
        await redis.aclose()
    return copied


@dataclass
class Scratch:
    """The stores of one benchmark run: the database URL the server is to use, and its settings."""

    url: str
    env: dict[str, str] = field(default_factory=dict)
    pg_name: str | None = None
    redis_prefix: str | None = None


async def open_scratch(data_dir: Path, *, postgres: bool, redis: bool) -> Scratch:
    """SQLite in ``data_dir``, or a PostgreSQL database of the run's own; with ``redis``, a key
    prefix of its own. ``close_scratch`` removes what this made."""
    from cordee.config import load_settings

    if postgres:
        name = f"cordee_bench_{uuid.uuid4().hex[:10]}"
        await pg(f'CREATE DATABASE "{name}"')
        scratch = Scratch(pg_url(name), {"CORDEE_DATABASE_URL": pg_url(name)}, pg_name=name)
    else:
        scratch = Scratch(load_settings({"CORDEE_DATA_DIR": str(data_dir)}).effective_database_url)
    if redis:
        scratch.redis_prefix = f"cordee-bench-{uuid.uuid4().hex[:10]}:"
        scratch.env.update(CORDEE_REDIS_URL=REDIS_URL, CORDEE_REDIS_PREFIX=scratch.redis_prefix)
    return scratch


async def close_scratch(scratch: Scratch) -> None:
    if scratch.pg_name is not None:
        with contextlib.suppress(Exception):
            await pg(f'DROP DATABASE IF EXISTS "{scratch.pg_name}" WITH (FORCE)')
    if scratch.redis_prefix is not None:
        with contextlib.suppress(Exception):
            await clean_redis(scratch.redis_prefix)


async def insert_tables(
    conn: Any, tables: Sequence[tuple[Any, Iterable[dict[str, Any]]]], size: int
) -> dict[str, int]:
    """Multi-row INSERTs of each table's rows on an open connection; the row count per table."""
    from sqlalchemy import insert

    counts: dict[str, int] = {}
    for table, rows in tables:
        for batch in batches(rows, size):
            await conn.execute(insert(table), batch)
            counts[table.__tablename__] = counts.get(table.__tablename__, 0) + len(batch)
    return counts


def batches(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    """``rows`` in lists of ``size`` (multi-row INSERTs)."""
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# -- rows of the server's own tables, as the bulk loaders write them ------------------------------


def account_row(account_id: int, username: str, now: Any, **counters: Any) -> dict[str, Any]:
    """An ``accounts`` row; ``counters``: followers_count, following_count, statuses_count,
    last_status_at, display_name (defaults: 0, 0, 0, None, the username)."""
    return {
        "id": account_id,
        "username": username,
        "username_key": username.lower(),
        "domain": None,
        "display_name": counters.get("display_name", username),
        "note": "",
        "avatar_url": "",
        "header_url": "",
        "locked": False,
        "bot": False,
        "discoverable": True,
        "followers_count": counters.get("followers_count", 0),
        "following_count": counters.get("following_count", 0),
        "statuses_count": counters.get("statuses_count", 0),
        "last_status_at": counters.get("last_status_at"),
        "created_at": now,
    }


def user_row(user_id: int, account_id: int, username: str, now: Any) -> dict[str, Any]:
    return {
        "id": user_id,
        "account_id": account_id,
        "email": f"{username}@bench.invalid",
        "password_hash": "!",  # nobody signs in with a password: the benchmarks use tokens
        "approved": True,
        "disabled": False,
        "admin": False,
        "locale": "en",
        "registration_reason": "",
        "created_at": now,
    }


def token_row(token_id: int, token: str, app_id: int, user_id: int, scopes: str, now: Any) -> dict[str, Any]:
    return {
        "id": token_id,
        "token": token,
        "refresh_token": None,
        "application_id": app_id,
        "user_id": user_id,
        "scopes": scopes,
        "revoked_at": None,
        "created_at": now,
    }


def follow_row(follow_id: int, follower: int, target: int, now: Any) -> dict[str, Any]:
    return {
        "id": follow_id,
        "account_id": follower,
        "target_account_id": target,
        "show_reblogs": True,
        "notify": False,
        "languages": None,
        "created_at": now,
    }


def application_row(app_id: int, name: str, scopes: str, now: Any) -> dict[str, Any]:
    import secrets

    return {
        "id": app_id,
        "name": name,
        "website": None,
        "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
        "scopes": scopes,
        "client_id": secrets.token_urlsafe(24),
        "client_secret": secrets.token_urlsafe(24),
        "created_at": now,
    }
