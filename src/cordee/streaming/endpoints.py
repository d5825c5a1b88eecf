"""The streaming routes: ``/api/v1/streaming/<stream>`` (server-sent events), ``/api/v1/streaming``
(WebSocket, several streams on one connection) and ``/api/v1/streaming/health``.

As in Mastodon 4.2 and later, every stream needs a user token: in the ``Authorization`` header, the
``access_token`` parameter, or (WebSocket only, for browsers) the ``Sec-WebSocket-Protocol`` header.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

import orjson
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from cordee.api.mastodon.base import Caller, bearer_token, resolve_caller
from cordee.api.mastodon.errors import error_response
from cordee.domain import scopes as sc
from cordee.http_limits import MAX_WEBSOCKET_MESSAGE
from cordee.queries.lists import owned_list
from cordee.queries.tracking import readable as readable_search
from cordee.streaming.channels import SSE_PATHS, StreamError, channel_for
from cordee.streaming.connections import MESSAGE_TOO_BIG, Connection
from cordee.streaming.frames import frame
from cordee.streaming.hub import Hub, HubClosed

BATCH = 64  # frames written to a socket at once when a client has several waiting


def _hub(app: object) -> Hub:
    hub: Hub | None = getattr(getattr(app, "state", None), "hub", None)
    if hub is None:
        raise HubClosed()
    return hub


async def _authenticate(app: object, token: str | None) -> Caller:
    if not token:
        raise StreamError(401, "Missing access token")
    caller = await resolve_caller(app.state.db, token)  # type: ignore[attr-defined]
    if caller is None or caller.account_id is None:
        raise StreamError(401, "Invalid access token")
    if caller.disabled or not caller.approved:
        raise StreamError(401, "Invalid access token")
    return caller


async def _open(
    hub: Hub, caller: Caller, connection: Connection, name: str, params: Mapping[str, str]
) -> None:
    assert caller.account_id is not None
    channel = channel_for(name, params, caller.account_id)
    if not sc.grants(caller.scopes, channel.scope):
        raise StreamError(401, "Access token does not have the required scopes")
    if channel.key[0] == "list":
        async with hub.db.read() as session:
            if await owned_list(session, caller.account_id, int(str(channel.key[1]))) is None:
                raise StreamError(404, "Record not found")  # missing, or someone else's: the same answer
    if channel.key[0] == "tracked":
        async with hub.db.read() as session:
            if await readable_search(session, caller.account_id, int(str(channel.key[1]))) is None:
                raise StreamError(404, "Record not found")
    hub.subscribe(connection, channel)


# -- server-sent events ------------------------------------------------------------------------


class _EventStream:
    """A raw ASGI response: headers, then frames from the connection's queue until it closes or the
    client goes away (a task watches for the disconnect and closes the connection)."""

    def __init__(self, hub: Hub, connection: Connection) -> None:
        self.hub = hub
        self.connection = connection

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
                    "headers": [
                        (b"content-type", b"text/event-stream; charset=utf-8"),
                        (b"cache-control", b"private, no-store"),
                        (b"x-accel-buffering", b"no"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b":)\n", "more_body": True})
            ended = False
            while not ended:
                item = await connection.queue.get()
                if item is None:
                    break
                frames = [item]
                while len(frames) < BATCH and not connection.queue.empty():
                    following = connection.queue.get_nowait()
                    if following is None:
                        ended = True
                        break
                    frames.append(following)
                await send(
                    {"type": "http.response.body", "body": "".join(frames).encode(), "more_body": True}
                )
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:
            pass  # the client went away mid-write
        finally:
            watcher.cancel()
            self.hub.disconnect(connection)


def _sse(name: str) -> Route:
    async def endpoint(request: Request) -> Response:
        try:
            hub = _hub(request.app)
            caller = await _authenticate(request.app, bearer_token(request))
            assert caller.account_id is not None
            connection = await hub.connect(
                caller.account_id, "sse", token_id=caller.token_id, user_id=caller.user_id
            )
        except StreamError as e:
            return error_response(e.status, e.message)
        except HubClosed:
            return error_response(503, "The server is restarting; reconnect in a moment")
        try:
            await _open(hub, caller, connection, name, request.query_params)
        except StreamError as e:
            hub.disconnect(connection)
            return error_response(e.status, e.message)
        return _EventStream(hub, connection)  # type: ignore[return-value]

    path = next(p for p, n in SSE_PATHS.items() if n == name)
    return Route(f"/api/v1/streaming/{path}", endpoint, methods=["GET"])


async def health(request: Request) -> Response:
    return PlainTextResponse("OK")


# -- WebSocket ---------------------------------------------------------------------------------


def _ws_token(websocket: WebSocket) -> tuple[str | None, str | None]:
    """The token, and the subprotocol to answer with when the token came as one."""
    header = websocket.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None, None
    protocol = websocket.headers.get("sec-websocket-protocol", "").split(",")[0].strip()
    if protocol:
        return protocol, protocol
    return websocket.query_params.get("access_token") or None, None


def _error(message: str, status: int) -> str:
    return orjson.dumps({"error": message, "status": status}).decode()


async def _deny(websocket: WebSocket, status: int, message: str) -> None:
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(error_response(status, message))
    else:
        await websocket.close(code=1008 if status < 500 else 1013, reason=message)


async def _ws_read(websocket: WebSocket, hub: Hub, caller: Caller, connection: Connection) -> None:
    """Handle ``{"type": "subscribe" | "unsubscribe", "stream": …, "tag"/"list": …}`` messages."""
    assert caller.account_id is not None
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            received = await websocket.receive()
            if received["type"] == "websocket.disconnect":
                break
            # A text frame, or a binary one read as its UTF-8 text (orjson takes either).
            raw: str | bytes = (
                received["text"] if received.get("text") is not None else received.get("bytes") or b""
            )
            if _size(raw) > MAX_WEBSOCKET_MESSAGE:
                connection.close(MESSAGE_TOO_BIG)  # as uvicorn's cap closes it (granian has none)
                return
            try:
                message = orjson.loads(raw)
                if not isinstance(message, dict):
                    raise ValueError
            except ValueError:
                connection.send(_error("Could not parse message", 400))
                continue
            kind, name = message.get("type"), message.get("stream")
            params = {k: str(v) for k, v in message.items() if k in ("tag", "list", "id") and v is not None}
            if kind not in ("subscribe", "unsubscribe") or not isinstance(name, str):
                connection.send(_error("Unknown message type or stream", 400))
                continue
            try:
                if kind == "subscribe":
                    await _open(hub, caller, connection, name, params)
                else:
                    hub.unsubscribe(connection, channel_for(name, params, caller.account_id).key)
            except StreamError as e:
                connection.send(_error(e.message, e.status))
    connection.close()


def _size(raw: str | bytes) -> int:
    """A message's size to compare with the cap: bytes as they are; text by its UTF-8 encoding,
    encoded only when it could pass the cap (4 bytes a character at most), else its length."""
    if isinstance(raw, bytes) or len(raw) * 4 <= MAX_WEBSOCKET_MESSAGE:
        return len(raw)
    return len(raw.encode())


async def _ws_write(websocket: WebSocket, connection: Connection) -> None:
    while True:
        item = await connection.queue.get()
        if item is None:
            break
        await websocket.send_text(item)
    with contextlib.suppress(Exception):
        await websocket.close(code=connection.close_code)


async def websocket_endpoint(websocket: WebSocket) -> None:
    token, subprotocol = _ws_token(websocket)
    try:
        hub = _hub(websocket.app)
        caller = await _authenticate(websocket.app, token)
        assert caller.account_id is not None
        connection = await hub.connect(
            caller.account_id, "ws", token_id=caller.token_id, user_id=caller.user_id
        )
    except StreamError as e:
        await _deny(websocket, e.status, e.message)
        return
    except HubClosed:
        await _deny(websocket, 503, "The server is restarting; reconnect in a moment")
        return
    try:
        await websocket.accept(subprotocol=subprotocol)
        name = websocket.query_params.get("stream")
        if name:
            try:
                await _open(hub, caller, connection, name, websocket.query_params)
            except StreamError as e:
                connection.send(_error(e.message, e.status))
        reader = asyncio.create_task(_ws_read(websocket, hub, caller, connection))
        try:
            await _ws_write(websocket, connection)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
    except (WebSocketDisconnect, OSError, RuntimeError):
        pass  # the client went away (Starlette raises RuntimeError for a send after a close)
    finally:
        hub.disconnect(connection)


def routes() -> list[BaseRoute]:
    return [
        Route("/api/v1/streaming/health", health, methods=["GET", "HEAD"]),
        *(_sse(name) for name in SSE_PATHS.values()),
        WebSocketRoute("/api/v1/streaming", websocket_endpoint),
        WebSocketRoute("/api/v1/streaming/", websocket_endpoint),
    ]


__all__ = ["frame", "routes"]
