"""Finding 3: an open stream ends when what authorised it ends — within a second, on every process.

Against real servers: an SSE and a WebSocket stream are opened with a token, then the token is
revoked (``/oauth/revoke``), the user is disabled (``cordee user disable``, a separate process) or
changes their password (the settings page); both streams must end within a second and carry no
note posted afterwards. With PostgreSQL and Redis, the change is made through one process and the
streams are open on another.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.streaming.conftest import PASSWORD, Server, start_server
from tests.streaming.test_scale_out_and_shutdown import run, shared_stores  # noqa: F401 (a fixture)
from tests.web.test_auth_pages import form_to

pytestmark = pytest.mark.clients
DEADLINE = 1.0


async def _sse(base_url: str, token: str, ended: dict[str, float], lines: list[str]) -> None:
    async with (
        httpx.AsyncClient(timeout=30) as http,
        http.stream(
            "GET", f"{base_url}/api/v1/streaming/user", headers={"Authorization": f"Bearer {token}"}
        ) as response,
    ):
        assert response.status_code == 200
        async for line in response.aiter_lines():
            lines.append(line)
    ended["sse"] = time.monotonic()


async def _ws(base_url: str, token: str, ended: dict[str, float], frames: list[str]) -> None:
    url = base_url.replace("http://", "ws://") + "/api/v1/streaming?stream=user"
    async with connect(url, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
        try:
            while True:
                frames.append(str(await ws.recv()))
        except ConnectionClosed:
            pass
    ended["ws"] = time.monotonic()


def streams_end_after(
    stream_url: str, token: str, change: Callable[[], Awaitable[None]], after: Callable[[], None]
) -> tuple[dict[str, float], list[str]]:
    """Open both streams, make the change, then ``after`` (post a note); returns how long each stream
    took to end after the change was done (negative: before its answer came back), and everything
    the streams carried."""
    received: list[str] = []

    async def scenario() -> tuple[dict[str, float], list[str]]:
        ended: dict[str, float] = {}
        tasks = [
            asyncio.create_task(_sse(stream_url, token, ended, received)),
            asyncio.create_task(_ws(stream_url, token, ended, received)),
        ]
        await asyncio.sleep(0.5)  # both streams are open and subscribed
        assert not any(t.done() for t in tasks), [t.exception() for t in tasks if t.done()]
        await change()  # returns once the change is committed (an HTTP answer, the CLI's exit)
        started = time.monotonic()
        await asyncio.to_thread(after)
        done, _ = await asyncio.wait(tasks, timeout=3)
        for task in tasks:
            task.cancel()
        return {k: v - started for k, v in ended.items()}, received

    return run(scenario())


def assert_ended_quietly(took: dict[str, float], received: list[str], secret: str) -> None:
    assert set(took) == {"sse", "ws"}, f"streams still open: {took}"
    assert max(took.values()) < DEADLINE, took
    assert not any(secret in r for r in received)


def private_note(server: Server, author: object, text: str) -> Callable[[], None]:
    def post() -> None:
        time.sleep(0.2)
        author.status_post(text, visibility="private")  # type: ignore[attr-defined]

    return post


def test_oauth_revoke_ends_open_streams(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    try:
        reader, writer = server.user("reader"), server.user("writer")
        reader.account_follow(writer.me().id)
        client_id, client_secret = server.app_keys

        async def revoke() -> None:
            async with httpx.AsyncClient() as http:
                r = await http.post(
                    f"{server.base_url}/oauth/revoke",
                    data={
                        "client_id": client_id,
                        "client_secret": client_secret,
                        "token": reader.access_token,
                    },
                )
                assert r.status_code == 200

        took, got = streams_end_after(
            server.base_url, reader.access_token, revoke, private_note(server, writer, "after the revoke")
        )
        assert_ended_quietly(took, got, "after the revoke")
    finally:
        server.stop()


def test_disabling_a_user_from_the_cli_ends_their_streams(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    try:
        reader, writer = server.user("reader"), server.user("writer")
        reader.account_follow(writer.me().id)
        username = reader.me().username

        async def disable() -> None:
            done = await asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-m", "cordee.cli", "user", "disable", username],
                env=server.running.env,
                capture_output=True,
                timeout=30,
            )
            assert done.returncode == 0, done.stderr

        took, got = streams_end_after(
            server.base_url, reader.access_token, disable, private_note(server, writer, "after disabling")
        )
        assert_ended_quietly(took, got, "after disabling")
    finally:
        server.stop()


def test_a_password_change_ends_the_users_streams(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    try:
        reader, writer = server.user("reader"), server.user("writer")
        reader.account_follow(writer.me().id)
        me = reader.me()

        async def change_password() -> None:
            async with httpx.AsyncClient(base_url=server.base_url) as web:
                page = await web.get("/auth/sign_in")
                form = form_to(page.text, "/auth/sign_in")
                login = {"login": f"{me.username}@example.org", "password": PASSWORD}
                assert (await web.post("/auth/sign_in", data={**form.fields, **login})).status_code == 303
                page = await web.get("/settings/password")
                fields = form_to(page.text, "/settings/password").fields
                new = "a brand new passphrase"
                r = await web.post(
                    "/settings/password",
                    data={**fields, "current_password": PASSWORD, "password": new, "confirm": new},
                )
                assert r.status_code == 303, r.text

        took, got = streams_end_after(
            server.base_url,
            reader.access_token,
            change_password,
            private_note(server, writer, "after the change"),
        )
        assert_ended_quietly(took, got, "after the change")
    finally:
        server.stop()


def test_a_revoke_on_one_process_ends_streams_on_another(
    tmp_path: Path,
    shared_stores: dict[str, str],  # noqa: F811
) -> None:
    first = start_server(tmp_path, **shared_stores)
    second = start_server(tmp_path, **shared_stores)
    try:
        reader, writer = first.user("reader"), first.user("writer")
        reader.account_follow(writer.me().id)
        client_id, client_secret = first.app_keys

        async def revoke() -> None:
            async with httpx.AsyncClient() as http:
                r = await http.post(
                    f"{first.base_url}/oauth/revoke",
                    data={
                        "client_id": client_id,
                        "client_secret": client_secret,
                        "token": reader.access_token,
                    },
                )
                assert r.status_code == 200

        took, got = streams_end_after(
            second.base_url, reader.access_token, revoke, private_note(first, writer, "across processes")
        )
        assert_ended_quietly(took, got, "across processes")
    finally:
        first.stop()
        second.stop()
