"""What every benchmark shares about its stores: a PostgreSQL database and a Redis key prefix of
its own on loopback, made for the run and removed after it, and batched bulk inserts."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

PG_ADMIN_DSN = os.environ.get("CORDEE_BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("CORDEE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def pg_url(name: str) -> str:
    """The SQLAlchemy URL of database ``name`` on the benchmark's PostgreSQL."""
    return PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1) + "/" + name


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
