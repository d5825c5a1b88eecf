"""One streaming client connection: a bounded queue of ready-to-send frames.

The hub only ever calls ``send`` (never awaits): when a client falls ``streaming_queue_size``
frames behind, its connection is closed instead of slowing the publisher or the other clients.
The client reconnects and fetches what it missed (``since_id``). The transport task (SSE or
WebSocket) is the only reader of the queue; ``None`` in it means "close now".
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Literal

from cordee.streaming.channels import Key

Transport = Literal["sse", "ws"]

#: WebSocket close codes: normal, going away (server shutting down), try again later (too slow).
NORMAL = 1000
GOING_AWAY = 1001
TRY_AGAIN_LATER = 1013
POLICY_VIOLATION = 1008  # what authorised the stream was revoked: do not reconnect with it
SERVICE_RESTART = 1012  # "the server is restarting": reconnect, then fetch what was missed
MESSAGE_TOO_BIG = 1009  # a client sent a message over ``http_limits.MAX_WEBSOCKET_MESSAGE``


@dataclass(eq=False)
class Connection:
    account_id: int
    transport: Transport
    queue_size: int
    #: The channels this connection listens to, and the ``stream`` array of each.
    streams: dict[Key, tuple[str, ...]] = field(default_factory=dict)
    closed: bool = False
    close_code: int = NORMAL
    #: The access token that opened it and its user: a revocation naming either closes it.
    token_id: int | None = None
    user_id: int | None = None
    #: The web session that opened it (the web app's own stream, ``web/live.py``).
    web_session_id: int | None = None
    queue: asyncio.Queue[str | None] = field(init=False)

    def __post_init__(self) -> None:
        self.queue = asyncio.Queue(self.queue_size)

    def send(self, frame: str) -> None:
        if self.closed:
            return
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.close(TRY_AGAIN_LATER)

    def close(self, code: int = NORMAL) -> None:
        """Ask the transport to close after what is queued (or at once, when the client is too slow
        or its authorisation was revoked: what it has not read yet is dropped)."""
        if self.closed:
            return
        self.closed = True
        self.close_code = code
        if self.queue.full() or code == POLICY_VIOLATION:
            while not self.queue.empty():
                self.queue.get_nowait()
        self.queue.put_nowait(None)
