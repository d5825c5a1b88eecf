"""Finding 8 of the hardening issue: unbounded or malformed input must be refused with a 4xx and a
Mastodon-style ``{"error": …}``, never answered with a 500 or read whole before being refused.

- JSON nested too deeply, or holding an escaped lone surrogate (``"\\ud800"``), in any parameter;
- query strings and form bodies with invalid UTF-8 (a lone surrogate encoded as UTF-8 included);
- the same in the streaming WebSocket's JSON messages;
- request bodies over the cap of their route kind (JSON and forms small, media uploads up to the
  advertised image limit), with a Content-Length and streamed in chunks without one: 413 before
  the body is read.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from cordee.config import Settings
from tests.conftest import ApiUser
from tests.support.running import Running, launch, register

MB = 1024 * 1024
#: The documented caps: JSON and form bodies 1 MiB (nginx's default), media the image limit + 1 MiB.
SMALL = MB
MEDIA_OVERHEAD = MB
LONE_SURROGATE = b'"a \\ud800 b"'


def _json_with(field: str, raw_value: bytes, extra: bytes = b"") -> bytes:
    return b'{"' + field.encode() + b'": ' + raw_value + extra + b"}"


async def test_json_nested_50000_deep_is_a_4xx(client: httpx.AsyncClient, alice: ApiUser) -> None:
    body = b'{"status": "hi", "poll": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    r = await client.post(
        "/api/v1/statuses", content=body, headers={**alice.headers, "Content-Type": "application/json"}
    )
    assert r.status_code == 400, r.text
    assert "error" in r.json()


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("POST", "/api/v1/statuses", "status"),
        ("POST", "/api/v1/statuses", "spoiler_text"),
        ("PATCH", "/api/v1/accounts/update_credentials", "display_name"),
        ("POST", "/api/v1/lists", "title"),
        ("POST", "/api/v1/apps", "client_name"),
    ],
)
async def test_lone_surrogate_in_json_is_422(
    client: httpx.AsyncClient, alice: ApiUser, method: str, path: str, field: str
) -> None:
    extra = b', "status": "hello"' if field == "spoiler_text" else b""
    extra += b', "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"' if path == "/api/v1/apps" else b""
    body = _json_with(field, LONE_SURROGATE, extra)
    r = await client.request(
        method, path, content=body, headers={**alice.headers, "Content-Type": "application/json"}
    )
    assert r.status_code == 422, r.text
    assert "error" in r.json()


@pytest.mark.parametrize("encoded", ["%ED%A0%80", "%FF", "%C3", "%E2%82"])
async def test_invalid_utf8_in_form_and_query_is_400(
    client: httpx.AsyncClient, alice: ApiUser, encoded: str
) -> None:
    form = {**alice.headers, "Content-Type": "application/x-www-form-urlencoded"}
    for body in (f"status=a{encoded}b", f"status=hi&spoiler_text={encoded}", f"status=hi&visi{encoded}=x"):
        r = await client.post("/api/v1/statuses", content=body.encode(), headers=form)
        assert r.status_code == 400, (body, r.text)
        assert "error" in r.json()
    for query in (f"limit={encoded}", f"max_id=1&tagged={encoded}", f"{encoded}=1"):
        r = await client.get(f"/api/v1/timelines/home?{query}", headers=alice.headers)
        assert r.status_code == 400, (query, r.text)
        assert "error" in r.json()
    r = await client.get("/api/v1/timelines/home?limit=5&x=%C3%A9t%C3%A9", headers=alice.headers)
    assert r.status_code == 200  # valid UTF-8 is still fine


# -- body caps, through the ASGI interface (a receive that counts what the app pulls) -------------


async def _call(app: Any, method: str, path: str, headers: dict[str, str], chunks: list[bytes | None]) -> Any:
    """Run one request through the ASGI app; returns (status, body, bytes the app received). A
    ``None`` chunk is the client closing the connection."""
    pulled = 0
    queue = list(chunks)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        if not queue:
            await asyncio.sleep(3600)  # the app should have answered by now
        chunk = queue.pop(0)
        if chunk is None:
            return {"type": "http.disconnect"}
        pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": bool(queue)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        + [(b"host", b"cordee.test")],
        "client": ("127.0.0.1", 1234),
        "server": ("cordee.test", 80),
        "state": {},
    }
    await asyncio.wait_for(app(scope, receive, send), 10)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body, pulled


async def test_json_body_over_the_cap_is_413_before_it_is_read(app: Any, alice: ApiUser) -> None:
    declared = 60 * MB
    headers = {**alice.headers, "Content-Type": "application/json", "Content-Length": str(declared)}
    status, body, pulled = await _call(app, "POST", "/api/v1/statuses", headers, [b"x" * 65536] * 960)
    assert status == 413 and "error" in json.loads(body)
    assert pulled == 0  # refused on the header alone


async def test_chunked_body_over_the_cap_is_413_when_it_passes_the_cap(app: Any, alice: ApiUser) -> None:
    headers = {**alice.headers, "Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    status, body, pulled = await _call(app, "POST", "/api/v1/statuses", headers, [b" " * 65536] * 960)
    assert status == 413 and "error" in json.loads(body)
    assert pulled <= SMALL + 65536  # stopped at the first chunk past the cap


async def test_web_forms_have_the_small_cap(app: Any) -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Content-Length": str(SMALL + 1)}
    status, _, pulled = await _call(app, "POST", "/auth/sign_in", headers, [b"a" * (SMALL + 1)])
    assert status == 413 and pulled == 0


def _multipart(size: int) -> tuple[bytes, str]:
    boundary = "cordeeboundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
        f"Content-Type: image/png\r\n\r\n".encode()
        + b"\0" * size
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/media"),
        ("POST", "/api/v2/media"),
        ("PUT", "/api/v1/media/1"),
        ("PATCH", "/api/v1/accounts/update_credentials"),
    ],
)
async def test_media_routes_take_up_to_the_image_limit(
    app: Any, settings: Settings, alice: ApiUser, method: str, path: str
) -> None:
    body, ctype = _multipart(2 * MB)  # over the small cap, under the image limit: not a 413
    headers = {**alice.headers, "Content-Type": ctype, "Content-Length": str(len(body))}
    status, _, _ = await _call(app, method, path, headers, [body])
    assert status not in (413, 500)
    limit = settings.image_size_limit
    if method == "POST" and path.endswith("/media"):  # uploads also take video and audio
        limit = max(limit, settings.video_size_limit)
    too_big = limit + MEDIA_OVERHEAD + 1
    headers["Content-Length"] = str(too_big)
    status, answer, pulled = await _call(app, method, path, headers, [b"x"])
    assert status == 413 and "error" in json.loads(answer) and pulled == 0


# -- a real server (uvicorn, and granian: ``cordee serve --server``) answers the 413 at once, and
# -- the WebSocket's JSON messages ------------------------------------------------------------------


@pytest.fixture(scope="module", params=["uvicorn", "granian"])
def server(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Running]:
    running = launch(tmp_path_factory.mktemp("limits"), CORDEE_SERVER=request.param)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def server_headers(server: Running) -> dict[str, str]:
    return register(server.base_url, "limits")


def _raw_request(running: Running, head: bytes, body_chunks: Iterator[bytes]) -> bytes:
    port = int(running.base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(head)
        try:
            for chunk in body_chunks:
                s.sendall(chunk)
        except OSError:
            pass  # the server answered and closed: what we want
        s.settimeout(5)
        answer = b""
        try:
            while b"\r\n\r\n" not in answer:
                data = s.recv(65536)
                if not data:
                    break
                answer += data
        except OSError:
            pass
        return answer


def test_real_server_refuses_a_60_mb_declared_body_at_once(server: Running) -> None:
    head = (
        b"POST /api/v1/statuses HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 62914560\r\n\r\n"
    )
    started = time.monotonic()
    answer = _raw_request(server, head, iter([b"{" * 1000]))
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert time.monotonic() - started < 3


def test_real_server_refuses_a_chunked_body_past_the_cap(
    server: Running, server_headers: dict[str, str]
) -> None:
    head = (
        b"POST /api/v1/statuses HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Authorization: " + server_headers["Authorization"].encode() + b"\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"10000\r\n" + b" " * 65536 + b"\r\n"
    answer = _raw_request(server, head, iter([chunk] * (SMALL // 65536 + 8)))
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


async def test_websocket_messages_with_bad_json_get_an_error_frame(
    server: Running, server_headers: dict[str, str]
) -> None:
    url = server.base_url.replace("http://", "ws://") + "/api/v1/streaming"
    async with connect(url, additional_headers=server_headers) as ws:
        for message in (
            '{"type": "subscribe", "stream": "hashtag", "tag": "\\ud800"}',
            '{"type": "subscribe", "stream": "\\udfff"}',
            '{"type": "subscribe", "stream": ' + "[" * 5_000 + "]" * 5_000 + "}",
        ):
            await ws.send(message)
            frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert frame["status"] == 400 and "error" in frame
        await ws.send(json.dumps({"type": "subscribe", "stream": "nonsense"}))
        frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert frame == {"error": "Unknown stream type", "status": 400}  # still open and answering


async def test_websocket_binary_messages_are_read_as_their_utf8_text(
    server: Running, server_headers: dict[str, str]
) -> None:
    """A binary frame used to end the connection's reader without a word: the stream stayed open
    but deaf to every later (un)subscription."""
    url = server.base_url.replace("http://", "ws://") + "/api/v1/streaming"
    async with connect(url, additional_headers=server_headers) as ws:
        await ws.send(b'{"type": "subscribe", "stream": "nonsense"}')
        frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert frame == {"error": "Unknown stream type", "status": 400}
        await ws.send(b"\xff\xfe not UTF-8")
        frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert frame["status"] == 400 and "error" in frame
        await ws.send(json.dumps({"type": "subscribe", "stream": "nonsense"}))
        frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert frame == {"error": "Unknown stream type", "status": 400}  # still reading


@pytest.mark.parametrize("binary", [False, True])
async def test_websocket_messages_over_64_kib_close_the_connection(
    server: Running, server_headers: dict[str, str], binary: bool
) -> None:
    url = server.base_url.replace("http://", "ws://") + "/api/v1/streaming"
    async with connect(url, additional_headers=server_headers, max_size=None) as ws:
        message = '{"type": "subscribe", "stream": "' + "x" * 100_000 + '"}'
        await ws.send(message.encode() if binary else message)
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009  # message too big


@pytest.mark.parametrize("ctype", ["application/json", "application/x-www-form-urlencoded"])
async def test_a_client_gone_before_its_body_is_no_server_error(
    app: Any, client: httpx.AsyncClient, alice: ApiUser, ctype: str
) -> None:
    """A client that closes the connection while sending its body (a load generator stopping, a
    phone losing its network) gets nothing answered and leaves no "unhandled error": it is not a
    server error. Nothing is written either."""
    headers = {**alice.headers, "Content-Type": ctype, "Content-Length": "40"}
    status, body, _ = await _call(app, "POST", "/api/v1/statuses", headers, [None])
    assert (status, body) == (499, b"")  # raised ClientDisconnect before (uvicorn logged it)
    assert (await client.get(f"/api/v1/accounts/{alice.id}/statuses")).json() == []
