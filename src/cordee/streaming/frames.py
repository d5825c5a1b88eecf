"""Mastodon's streaming framing: how one event becomes the text sent on a stream (SSE or
WebSocket), built once per transport and stream name however many connections receive it."""

from __future__ import annotations

from typing import Any

import orjson

from cordee.streaming.connections import Transport


def frame(transport: Transport, stream: tuple[str, ...], event: str, payload: str | None) -> str:
    """One message in Mastodon's framing: SSE ``event:``/``data:`` lines, or a WebSocket JSON
    object whose ``payload`` is itself a JSON string."""
    if transport == "sse":
        return f"event: {event}\ndata: {payload if payload is not None else 'undefined'}\n\n"
    body: dict[str, Any] = {"stream": list(stream), "event": event}
    if payload is not None:
        body["payload"] = payload
    return orjson.dumps(body).decode()


class Frames:
    """Frames of one payload, built once per transport and stream name."""

    def __init__(self, event: str, payload: str | None) -> None:
        self.event = event
        self.payload = payload
        self._built: dict[tuple[Transport, tuple[str, ...]], str] = {}

    def get(self, transport: Transport, stream: tuple[str, ...]) -> str:
        key = (transport, stream)
        found = self._built.get(key)
        if found is None:
            found = self._built[key] = frame(transport, stream, self.event, self.payload)
        return found
