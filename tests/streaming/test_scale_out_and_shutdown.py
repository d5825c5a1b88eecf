"""Several server processes sharing PostgreSQL and Redis (a note posted through one reaches a stream
open on the other, home feeds in Redis), and a clean drain of open streams on shutdown."""

from __future__ import annotations

import asyncio
import json
import signal
import time
import uuid
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
import pytest
from mastodon import MastodonUnauthorizedError
from redis import Redis
from websockets.asyncio.client import connect

from tests.conftest import PG_ADMIN_DSN
from tests.streaming.conftest import Server, start_server

pytestmark = pytest.mark.clients

REDIS_URL = "redis://127.0.0.1:6379/0"
T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on a thread of its own (never on this thread: another test may
    have left an event loop running here, e.g. Playwright's sync API)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.fixture
def shared_stores() -> Iterator[dict[str, str]]:
    """A PostgreSQL database and a Redis key prefix of the test's own, removed afterwards."""
    name = f"cordee_stream_{uuid.uuid4().hex[:10]}"
    prefix = f"cordee-test-{uuid.uuid4().hex[:10]}:"

    async def admin(statement: str) -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    run(admin(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1) + "/" + name
    try:
        yield {"CORDEE_DATABASE_URL": url, "CORDEE_REDIS_URL": REDIS_URL, "CORDEE_REDIS_PREFIX": prefix}
    finally:
        run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        redis = Redis.from_url(REDIS_URL)
        keys = list(redis.scan_iter(match=f"{prefix}*"))
        if keys:
            redis.delete(*keys)
        redis.close()


def test_a_note_posted_on_one_process_reaches_a_stream_on_another(
    tmp_path: Path, shared_stores: dict[str, str]
) -> None:
    first = start_server(tmp_path, **shared_stores)
    second = start_server(tmp_path, **shared_stores)
    try:
        alice, bob = first.user("alice"), first.user("bob")
        alice.account_follow(bob.me().id)
        assert alice.timeline_home() == []  # alice's feed now exists (in Redis)

        async def listen() -> tuple[str, list[dict[str, object]]]:
            url = second.base_url.replace("http://", "ws://") + "/api/v1/streaming?stream=user"
            async with connect(
                url, additional_headers={"Authorization": f"Bearer {alice.access_token}"}
            ) as ws:
                await ws.send(json.dumps({"type": "subscribe", "stream": "public"}))
                await asyncio.to_thread(time.sleep, 0.3)  # let the subscription land
                note = str((await asyncio.to_thread(bob.status_post, "hello across processes")).id)
                got: list[dict[str, object]] = []
                async with asyncio.timeout(10):
                    while len(got) < 2:
                        got.append(json.loads(await ws.recv()))
                return note, got

        note, got = run(listen())
        assert sorted(f["stream"][0] for f in got) == ["public", "user"]  # type: ignore[index]
        assert all(json.loads(str(f["payload"]))["id"] == note for f in got)
        # The home feed was fanned out in Redis by the process that wrote the note.
        second_alice = type(alice)(access_token=alice.access_token, api_base_url=second.base_url)
        assert [str(s.id) for s in second_alice.timeline_home()] == [note]
    finally:
        first.stop()
        second.stop()


def test_what_one_process_answers_the_other_serves_at_once_with_its_caches_warm(
    tmp_path: Path, shared_stores: dict[str, str]
) -> None:
    # Each process keeps home pages and callers between requests; the change log tells each of
    # the other's writes before it serves the next request (db/change_log.py).
    first = start_server(tmp_path, **shared_stores)
    second = start_server(tmp_path, **shared_stores)
    try:
        alice, bob, carol = first.user("alice"), first.user("bob"), first.user("carol")
        alice.account_follow(bob.me().id)
        note = bob.status_post("warm")
        on_second = type(alice)(access_token=alice.access_token, api_base_url=second.base_url)
        for _ in range(3):  # warm: the page is kept, the token's holder too
            assert [s.id for s in on_second.timeline_home()] == [note.id]
        carol.status_favourite(note.id)
        assert on_second.timeline_home()[0].favourites_count == 1
        bob.status_update(note.id, "edited")
        assert "edited" in on_second.timeline_home()[0].content
        bob.account_update_credentials(display_name="Bob B.")
        assert on_second.timeline_home()[0].account.display_name == "Bob B."
        alice.account_block(bob.me().id)
        assert on_second.timeline_home() == []
        client_id, client_secret = first.app_keys
        type(alice)(
            client_id=client_id,
            client_secret=client_secret,
            access_token=alice.access_token,
            api_base_url=first.base_url,
        ).revoke_access_token(allow_http=True)
        with pytest.raises(MastodonUnauthorizedError):
            on_second.timeline_home()
    finally:
        first.stop()
        second.stop()


@pytest.mark.parametrize("http_server", ["uvicorn", "granian"])
def test_streams_are_drained_on_shutdown(tmp_path: Path, http_server: str) -> None:
    server: Server = start_server(tmp_path, CORDEE_SERVER=http_server)
    user = server.user("leaving")
    with httpx.stream(
        "GET",
        f"{server.base_url}/api/v1/streaming/user",
        headers={"Authorization": f"Bearer {user.access_token}"},
        timeout=10,
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.iter_lines()
        assert next(lines) == ":)"
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        rest = list(lines)  # ends when the server closes the stream
        assert time.monotonic() - started < 5, "the stream was not closed promptly"
    assert all(line.startswith(":") or not line for line in rest)
    # Once shut down cleanly, uvicorn re-raises the signal: exit 0 or "terminated by SIGTERM".
    assert server.process.wait(10) in (0, -signal.SIGTERM)
    assert time.monotonic() - started < 5
    log = server.log.read_text(errors="replace")
    assert "timeout graceful shutdown exceeded" not in log and "Traceback" not in log, log
