"""SQLite's writers that queue up share one commit (``db/group_commit.py``): fewer disk syncs,
the same guarantees — every acknowledged change is committed before its answer, and a writer that
fails takes nothing of the others' with it."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from cordee.db.engine import Database
from cordee.db.sqlite_driver import OneHopConnection
from cordee.db.tables import Status
from tests.conftest import ApiUser


@pytest.fixture
def sqlite_only(backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("group commit is SQLite's (PostgreSQL runs writers side by side)")


async def test_concurrent_posts_share_commits_and_all_stand(
    sqlite_only: None,
    db: Database,
    client: httpx.AsyncClient,
    alice: ApiUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    commits: list[int] = []
    original: Any = OneHopConnection.hop

    def counted(self: OneHopConnection, fn: Any, *args: Any) -> Any:
        if fn.__name__ == "_commit_after":
            commits.append(1)
        return original(self, fn, *args)

    monkeypatch.setattr(OneHopConnection, "hop", counted)

    async def one(i: int) -> httpx.Response:
        return await client.post("/api/v1/statuses", json={"status": f"together {i}"}, headers=alice.headers)

    answers = await asyncio.gather(*(one(i) for i in range(30)))
    assert [r.status_code for r in answers] == [200] * 30
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Status)) == 30
    assert 0 < len(commits) < 30  # queued writers were committed together


async def test_a_failing_writer_rolls_back_alone(
    sqlite_only: None, db: Database, client: httpx.AsyncClient, alice: ApiUser
) -> None:
    class Refused(Exception):
        pass

    async def failing() -> None:
        async with db.write() as tx:
            tx.session.add(Status(account_id=alice.account_id, text="never", content="", visibility="public"))
            await tx.session.flush()
            await asyncio.sleep(0)  # let the others queue behind
            raise Refused

    async def post(i: int) -> Any:
        return await client.post("/api/v1/statuses", json={"status": f"kept {i}"}, headers=alice.headers)

    results = await asyncio.gather(post(0), failing(), post(1), post(2), return_exceptions=True)
    assert isinstance(results[1], Refused)
    assert [r.status_code for r in results if isinstance(r, httpx.Response)] == [200, 200, 200]
    async with db.read() as session:
        texts = set(await session.scalars(select(Status.text)))
    assert texts == {"kept 0", "kept 1", "kept 2"}
