"""The bare-framework baseline: the same streaming protocol on plain Starlette + uvicorn, no database.

It speaks what the benchmark client and posters use — ``POST /api/v1/statuses``, the WebSocket
``/api/v1/streaming`` with ``{"type": "subscribe", "stream": "user"}`` messages and the SSE
``/api/v1/streaming/user`` — with Mastodon's framing, tokens and follows held in memory (the graph
the orchestrator seeded into Cordée), and each note rendered from a real Cordée status entity
(``--template``), so frames have the same size. For ``bench.campaign_night`` it also serves a
campaign's live walls as venue screens open them (``/chapters/:id/wall`` and its SSE ``stream``,
``notes``; the thermometer's ``/campaigns/:id/stream``): a note goes to the walls of its hashtags
(the graph's ``walls``: chapter id → hashtags), once per wall, in the shape of Cordée's compact
wall note. Each connection has a bounded queue and a writer
task, as in Cordée: what differs is everything Cordée does besides moving frames (authentication
in the database, the write transaction, fan-out, audience queries, rendering, filtering).

Run by the orchestrator: ``python -m bench.streaming.baseline --port P --graph G --template T``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import itertools
import re
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

QUEUE_SIZE = 1000
HASHTAG = re.compile(r"#(\w+)")
BATCH = 64

DEFAULT_TEMPLATE: dict[str, Any] = {
    "id": "0",
    "created_at": "1970-01-01T00:00:00.000Z",
    "in_reply_to_id": None,
    "in_reply_to_account_id": None,
    "sensitive": False,
    "spoiler_text": "",
    "visibility": "public",
    "language": None,
    "uri": "http://127.0.0.1/users/someone/statuses/0",
    "url": "http://127.0.0.1/@someone/0",
    "replies_count": 0,
    "reblogs_count": 0,
    "favourites_count": 0,
    "content": "",
    "reblog": None,
    "account": {"id": "0", "username": "someone", "acct": "someone", "display_name": "someone"},
    "media_attachments": [],
    "mentions": [],
    "tags": [],
    "emojis": [],
    "card": None,
    "poll": None,
}


class Connection:
    def __init__(self, transport: str) -> None:
        self.transport = transport
        self.queue: asyncio.Queue[str | None] = asyncio.Queue(QUEUE_SIZE)
        self.closed = False

    def send(self, frame: str) -> None:
        if self.closed:
            return
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(None)


class State:
    def __init__(self, graph: dict[str, Any], template: dict[str, Any]) -> None:
        self.tokens: dict[str, int] = graph["tokens"]
        self.followers: dict[int, list[int]] = {int(k): v for k, v in graph["followers"].items()}
        self.template = template
        self.user_streams: dict[int, set[Connection]] = defaultdict(set)
        self.walls: dict[int, list[str]] = {
            int(k): [t.lower() for t in v] for k, v in graph.get("walls", {}).items()
        }
        self.wall_streams: dict[str, set[Connection]] = defaultdict(set)
        self.ids = itertools.count(int(time.time() * 1000) << 16)


STATE: State | None = None


def _state() -> State:
    assert STATE is not None
    return STATE


def frame(transport: str, event: str, payload: str) -> str:
    if transport == "sse":
        return f"event: {event}\ndata: {payload}\n\n"
    return orjson.dumps({"stream": ["user"], "event": event, "payload": payload}).decode()


def _token(headers: Any, query: Any) -> str | None:
    header = headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return str(header[7:].strip())
    token = query.get("access_token")
    return str(token) if token else None


async def post_status(request: Request) -> Response:
    state = _state()
    author = state.tokens.get(_token(request.headers, request.query_params) or "")
    if author is None:
        return JSONResponse({"error": "The access token is invalid"}, 401)
    if request.headers.get("content-type", "").startswith("application/json"):
        text = str((await request.json()).get("status", ""))
    else:
        text = str((await request.form()).get("status", ""))
    entity = dict(state.template)
    entity["id"] = str(next(state.ids))
    entity["created_at"] = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    entity["content"] = f"<p>{html.escape(text)}</p>"
    payload = orjson.dumps(entity).decode()
    frames: dict[str, str] = {}
    for account_id in (author, *state.followers.get(author, ())):
        for connection in state.user_streams.get(account_id, ()):
            built = frames.get(connection.transport)
            if built is None:
                built = frames[connection.transport] = frame(connection.transport, "update", payload)
            connection.send(built)
    walls = {c for tag in set(HASHTAG.findall(text.lower())) for c in state.wall_streams.get(tag, ())}
    if walls:
        account = entity.get("account") or {}
        note = orjson.dumps(
            {
                "id": entity["id"],
                "url": entity.get("url"),
                "created_at": entity["created_at"],
                "edited_at": None,
                "content": entity["content"],
                "spoiler_text": "",
                "sensitive": False,
                "language": entity.get("language"),
                "account": {
                    "acct": account.get("acct"),
                    "display_name": account.get("display_name"),
                    "url": account.get("url"),
                    "avatar": account.get("avatar"),
                },
                "media": [],
            }
        ).decode()
        built = f"event: update\ndata: {note}\n\n"
        for connection in walls:
            connection.send(built)
    return Response(payload, media_type="application/json")


def _subscribe(account_id: int, connection: Connection) -> None:
    _state().user_streams[account_id].add(connection)


def _unsubscribe(account_id: int, connection: Connection) -> None:
    streams = _state().user_streams.get(account_id)
    if streams is not None:
        streams.discard(connection)
        if not streams:
            del _state().user_streams[account_id]


async def websocket_endpoint(websocket: WebSocket) -> None:
    account_id = _state().tokens.get(_token(websocket.headers, websocket.query_params) or "")
    if account_id is None:
        await websocket.close(code=1008, reason="Invalid access token")
        return
    await websocket.accept()
    connection = Connection("ws")

    async def read() -> None:
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                message = orjson.loads(await websocket.receive_text())
                if message.get("type") == "subscribe" and message.get("stream") == "user":
                    _subscribe(account_id, connection)
                else:
                    connection.send(orjson.dumps({"error": "Unknown stream type", "status": 400}).decode())
        connection.close()

    reader = asyncio.create_task(read())
    try:
        while True:
            item = await connection.queue.get()
            if item is None:
                break
            await websocket.send_text(item)
        with contextlib.suppress(Exception):
            await websocket.close()
    except (WebSocketDisconnect, OSError, RuntimeError):
        pass
    finally:
        reader.cancel()
        _unsubscribe(account_id, connection)


class _EventStream:
    def __init__(self, connection: Connection, on_close: Callable[[], None]) -> None:
        self.connection = connection
        self.on_close = on_close

    async def _watch(self, receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self.connection.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        connection = self.connection
        watcher = asyncio.create_task(self._watch(receive))
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"text/event-stream; charset=utf-8")],
                }
            )
            await send({"type": "http.response.body", "body": b":)\n", "more_body": True})
            while True:
                item = await connection.queue.get()
                if item is None:
                    break
                frames = [item]
                while len(frames) < BATCH and not connection.queue.empty():
                    following = connection.queue.get_nowait()
                    if following is None:
                        break
                    frames.append(following)
                await send(
                    {"type": "http.response.body", "body": "".join(frames).encode(), "more_body": True}
                )
        except OSError:
            pass
        finally:
            watcher.cancel()
            self.on_close()


async def sse_user(request: Request) -> Response:
    account_id = _state().tokens.get(_token(request.headers, request.query_params) or "")
    if account_id is None:
        return JSONResponse({"error": "Invalid access token"}, 401)
    connection = Connection("sse")
    _subscribe(account_id, connection)
    return _EventStream(connection, lambda: _unsubscribe(account_id, connection))  # type: ignore[return-value]


async def wall_stream(request: Request) -> Response:
    """A chapter's wall (anonymous, SSE): the notes with its hashtags."""
    tags = _state().walls.get(int(request.path_params["id"]))
    if tags is None:
        return JSONResponse({"error": "Record not found"}, 404)
    connection = Connection("sse")
    for tag in tags:
        _state().wall_streams[tag].add(connection)

    def close() -> None:
        for tag in tags:
            _state().wall_streams[tag].discard(connection)

    return _EventStream(connection, close)  # type: ignore[return-value]


async def quiet_stream(request: Request) -> Response:
    """The thermometer's stream: open, silent (the baseline records no money)."""
    return _EventStream(Connection("sse"), lambda: None)  # type: ignore[return-value]


async def page(request: Request) -> Response:
    return HTMLResponse("<!doctype html><title>wall</title><ul></ul>")


async def no_notes(request: Request) -> Response:
    return JSONResponse([])


async def health(request: Request) -> Response:
    return PlainTextResponse("OK")


def build(graph: dict[str, Any], template: dict[str, Any]) -> Starlette:
    global STATE
    STATE = State(graph, template)
    return Starlette(
        routes=[
            Route("/api/v1/streaming/health", health),
            Route("/api/v1/streaming/user", sse_user),
            WebSocketRoute("/api/v1/streaming", websocket_endpoint),
            Route("/api/v1/statuses", post_status, methods=["POST"]),
            Route("/chapters/{id:int}/wall", page),
            Route("/chapters/{id:int}/wall/stream", wall_stream),
            Route("/chapters/{id:int}/wall/notes", no_notes),
            Route("/campaigns/{id:int}", page),
            Route("/campaigns/{id:int}/stream", quiet_stream),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--graph", required=True, help="JSON: tokens → account ids, followers per poster")
    parser.add_argument("--template", help="JSON of one status entity to render notes from")
    args = parser.parse_args()
    with open(args.graph, "rb") as f:
        graph = orjson.loads(f.read())
    template = DEFAULT_TEMPLATE
    if args.template:
        with open(args.template, "rb") as f:
            template = orjson.loads(f.read())
    # The same uvicorn settings as ``cordee serve``.
    uvicorn.run(
        build(graph, template),
        host=args.host,
        port=args.port,
        proxy_headers=True,
        log_level="info",
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
