"""Feed tests run against both feed stores: SQL (the default) and Redis (a real Redis on
127.0.0.1:6379, under a key prefix of their own, removed afterwards)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from cordee.config import Settings
from tests.conftest import BASE_URL

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(params=["sql", "redis"])
def store(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def settings(tmp_path: Path, store: str) -> AsyncIterator[Settings]:
    base = Settings(base_url=BASE_URL, data_dir=tmp_path / "data", secret_key="test-secret")
    if store == "sql":
        yield base
        return
    prefix = f"cordee-test-{uuid.uuid4().hex[:10]}:"
    yield replace(base, redis_url=REDIS_URL, redis_prefix=prefix)
    redis = Redis.from_url(REDIS_URL)
    try:
        keys = [k async for k in redis.scan_iter(match=f"{prefix}*")]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The API client, with the app's lifespan running (so the Redis connections are closed)."""
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=BASE_URL) as c,
    ):
        yield c
