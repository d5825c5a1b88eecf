"""Another program's writes to the same SQLite file (the CLI beside a server without Redis) reach
the server's caches within a fraction of a second (``db/outside_writes.py``), while the server's
own writes never make them forget: each test warms a cache through the API, writes through a
second ``Database`` on the same file (as the CLI does: a process of its own that tells nobody),
and asks again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, cast

import httpx
import pytest

from cordee.actions.accounts import set_user_flags
from cordee.actions.relationships import block
from cordee.db.engine import Database
from cordee.db.id_workers import WorkerLease
from tests.conftest import ApiUser
from tests.support.waiting import eventually

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

ME = "/api/v1/accounts/verify_credentials"
HOME = "/api/v1/timelines/home"
Post = Callable[..., Awaitable[dict[str, object]]]


@pytest.fixture
async def watched(db: Database) -> AsyncIterator[Database]:
    """The server's database watching for other programs' writes, as ``cordee serve`` does."""
    await db.watch_outside_writes()
    assert db.outside_writes is not None and db.outside_writes.watching
    yield db
    await db.outside_writes.stop()


async def _another_program(db: Database, write: Callable[[Database], Awaitable[object]]) -> None:
    other = Database(db.engine.url.render_as_string(hide_password=False))
    try:
        await write(other)
    finally:
        await other.dispose()


@pytest.fixture
async def alice_follows_bob(client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser) -> None:
    r = await client.post(f"/api/v1/accounts/{bob.account_id}/follow", headers=alice.headers)
    assert r.status_code == 200, r.text


async def test_caches_trust_longer_only_while_watching(db: Database) -> None:
    assert db.trust_seconds(1.0) == 1.0
    await db.watch_outside_writes()
    assert db.outside_writes is not None
    try:
        assert db.trust_seconds(1.0) == 60.0
    finally:
        await db.outside_writes.stop()
    assert db.trust_seconds(1.0) == 1.0


async def test_a_process_told_by_the_change_log_does_not_watch(db: Database) -> None:
    """With Redis, other server processes' commits come through the change log: taken for a
    stranger's, each would make every cache forget everything. The change log tells of every
    Cordée program's writes (the CLI's too), so the caches trust for the backstop's minute."""
    db.change_log = cast(Any, object())  # only its presence matters here
    try:
        await db.watch_outside_writes()
        assert db.outside_writes is not None and not db.outside_writes.watching
        assert db.trust_seconds(1.0) == 60.0
    finally:
        db.change_log = None


async def test_a_user_disabled_by_another_program_is_refused_within_a_second(
    watched: Database, client: httpx.AsyncClient, alice: ApiUser
) -> None:
    for _ in range(2):  # the caller is kept, and trusted for a minute while watching
        assert (await client.get(ME, headers=alice.headers)).status_code == 200
    await _another_program(watched, lambda other: set_user_flags(other, alice.username, disabled=True))

    async def refused() -> bool:
        return (await client.get(ME, headers=alice.headers)).status_code == 403

    assert await eventually(refused, 1.0)


@pytest.mark.usefixtures("alice_follows_bob")
async def test_a_block_made_by_another_program_empties_the_home_page_within_a_second(
    watched: Database, client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, post: Post
) -> None:
    note = await post(bob, "seen until blocked")
    for _ in range(2):  # the page is remembered (the memo's verdicts, the kept rendering)
        page = (await client.get(HOME, headers=alice.headers)).json()
        assert [s["id"] for s in page] == [note["id"]]
    await _another_program(watched, lambda other: block(other, alice.account_id, bob.account_id))

    async def gone() -> bool:
        return (await client.get(HOME, headers=alice.headers)).json() == []

    assert await eventually(gone, 1.0)


@pytest.mark.usefixtures("alice_follows_bob")
async def test_the_servers_own_writes_are_not_taken_for_another_programs(
    watched: Database, bob: ApiUser, post: Post
) -> None:
    assert watched.outside_writes is not None
    seen = watched.outside_writes.seen
    for i in range(5):
        await post(bob, f"note {i}")
    lease = WorkerLease(watched)  # the snowflake lease's writes are the server's own too
    await lease.acquire()
    assert await lease.renew()
    await lease.release()
    await asyncio.sleep(0.6)  # two looks at least
    assert watched.outside_writes.seen == seen
