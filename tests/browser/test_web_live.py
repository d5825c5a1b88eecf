"""The web app's live stream (``/web/stream``) on a real server: it needs a signed-in browser, it
carries the notes of the people followed, and it ends when the session that opened it ends."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable

import httpx
import pytest

from tests.clients.conftest import Server
from tests.support.running import register

pytestmark = pytest.mark.clients
PASSWORD = "a long password"  # what tests.support.running.register gives


def _signed_in(server: Server, name: str) -> httpx.Client:
    web = httpx.Client(base_url=server.base_url, timeout=10)
    page = web.get("/auth/sign_in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    r = web.post("/auth/sign_in", data={"csrf_token": token.group(1), "login": name, "password": PASSWORD})
    assert r.status_code == 303, r.text
    return web


def _csrf(web: httpx.Client) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', web.get("/home").text)
    assert found is not None
    return found.group(1)


def _read_stream(web: httpx.Client, seen: list[str], ended: threading.Event) -> None:
    try:
        with web.stream("GET", "/web/stream", timeout=httpx.Timeout(10, read=15)) as r:
            seen.append(f"status {r.status_code}")
            for line in r.iter_lines():
                seen.append(line)
    except httpx.HTTPError as e:
        seen.append(f"error {e!r}")
    finally:
        ended.set()


def test_the_stream_needs_a_session(server: Server) -> None:
    assert httpx.get(server.base_url + "/web/stream").status_code == 401


def test_the_stream_carries_new_notes_and_ends_with_the_session(
    server: Server, unique: Callable[[str], str]
) -> None:
    reader, author = unique("listener"), unique("speaker")
    reader_headers = register(server.base_url, reader)
    author_headers = register(server.base_url, author)
    web = _signed_in(server, reader)
    target = httpx.get(server.base_url + "/api/v1/accounts/lookup", params={"acct": author}).json()
    followed = httpx.post(f"{server.base_url}/api/v1/accounts/{target['id']}/follow", headers=reader_headers)
    assert followed.status_code == 200

    seen: list[str] = []
    ended = threading.Event()
    threading.Thread(target=_read_stream, args=(web, seen, ended), daemon=True).start()
    time.sleep(0.5)
    posted = httpx.post(
        server.base_url + "/api/v1/statuses", headers=author_headers, data={"status": "Belay on"}
    )
    note_id = posted.json()["id"]
    deadline = time.monotonic() + 5
    while not any(note_id in line for line in seen) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert seen[0] == "status 200"
    assert "event: update" in seen and any(note_id in line for line in seen)

    signed_out = time.monotonic()
    r = web.post("/auth/sign_out", data={"csrf_token": _csrf(web)})
    assert r.status_code == 303
    assert ended.wait(3), "the stream of a signed-out session stayed open"
    assert time.monotonic() - signed_out < 2
    web.close()
