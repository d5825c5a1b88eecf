"""Reads wait at the door while a few requests are at work; writes go in at once.

One server process runs every request's Python on one event loop, and each turn of the loop runs
every request that is ready. On SQLite a read runs in one piece (its statements run on the loop),
while a post waits for its batch's commit in SQLite's thread, is told in a later turn, and wakes
in the turn after: about four turns. Under a closed loop of 32 connections (the mix: home pages,
account pages, posts) a turn ran ~30 requests, ~20 ms, so the posts made the tail: p99 ~100 ms
against a p50 of ~18 ms (docs/benchmarks.md, "Reads at the door").

So a read waits at the door, in arrival order, while ``places`` requests are at work — in
practice posts waiting for their commit: the turns in which those posts hear of their commit and
answer then run a few requests, not thirty. A write (any other method) goes in at once, even past
the count: held at the door it would miss the batch being gathered, and posts alone would commit
in smaller batches (measured: posts alone 212 against 248 /s when writes waited too). The loop
does the same work in the same order of magnitude of time; what moves is who waits: the mix's
p99 fell to ~50 ms, its p50 rose from ~18 to ~24 ms.

- Only plain HTTP requests with a small body use the door, once their body is all here (read
  before any wait: a client sending its body slowly holds no place). Large or chunked bodies
  (uploads), WebSockets and the server-sent event streams pass at once: they wait on the
  network, not on the loop.
- Off by default on PostgreSQL and with Redis (``Settings.effective_admission_slots``): there
  every read awaits the database or Redis (the change log), so reads themselves would hold the
  places across their round trips (measured: 20 requests at once then read the change log 12
  times instead of once or twice, each request waiting for the places).
"""

from __future__ import annotations

import asyncio
from collections import deque
from contextvars import ContextVar
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Bodies read in full before a request waits for its place (a post, a form, a JSON body).
SMALL_BODY = 64 * 1024
#: Paths whose requests stream for their whole life (server-sent events).
_STREAMING = "/api/v1/streaming"
#: Requests that only read: the ones that wait at the door.
_READS = frozenset({"GET", "HEAD", "OPTIONS"})


class _Door:
    """Places on the event loop: ``enter`` takes one, waiting in arrival order when all are taken
    (a write takes one at once, even past the count); ``leave`` gives it to the next in line."""

    def __init__(self, places: int) -> None:
        self._places = places
        self._in_use = 0
        self._line: deque[asyncio.Future[None]] = deque()

    async def enter(self, *, wait: bool) -> None:
        if not wait or (self._in_use < self._places and not self._line):
            self._in_use += 1
            return
        turn = asyncio.get_running_loop().create_future()
        self._line.append(turn)
        try:
            await turn  # ``leave`` counted this request in before waking it
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():  # let in, then cancelled: pass it on
                self.leave()
            else:
                self._line.remove(turn)
            raise

    def leave(self) -> None:
        self._in_use -= 1
        while self._line and self._in_use < self._places:
            turn = self._line.popleft()
            if not turn.done():
                self._in_use += 1
                turn.set_result(None)


class _Place:
    """One request's place, given back once: when it ends, or when it steps aside."""

    __slots__ = ("_door", "_held")

    def __init__(self, door: _Door) -> None:
        self._door = door
        self._held = True

    def give_back(self) -> None:
        if self._held:
            self._held = False
            self._door.leave()


_place: ContextVar[_Place | None] = ContextVar("cordee_admission_place", default=None)


def step_aside() -> None:
    """The request under way waits on something else than the event loop from now on (a read
    whose statements run in SQLite's threads, one hop each: search, the general paths): its place
    goes on to the next in line, so that a few slow reads cannot hold the door shut. Not for a
    post waiting for its commit: its place held is what keeps the turns short (measured: with
    posts stepping aside, the mix's p99 stayed at ~100 ms)."""
    place = _place.get()
    if place is not None:
        place.give_back()


def _body_announced(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"transfer-encoding":
            return True
        if name == b"content-length":
            return bool(value != b"0")
    return False


def _small_body(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"transfer-encoding":
            return False
        if name == b"content-length":
            try:
                return int(value) <= SMALL_BODY
            except ValueError:
                return False
    return True  # no body announced


class Admission:
    def __init__(self, app: ASGIApp, places: int) -> None:
        self.app = app
        self.places = places
        self._door = _Door(places)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.places <= 0
            or scope["type"] != "http"
            or scope["path"].startswith(_STREAMING)
            or not _small_body(scope)
        ):
            await self.app(scope, receive, send)
            return
        if _body_announced(scope):  # read before taking a place: a slow client holds none
            receive = _replay(await _whole_body(receive), receive)
        await self._door.enter(wait=scope["method"] in _READS)
        place = _Place(self._door)
        token = _place.set(place)
        try:
            await self.app(scope, receive, send)
        finally:
            _place.reset(token)
            place.give_back()


async def _whole_body(receive: Receive) -> list[Message]:
    """The request's messages up to its last body part (or the client leaving)."""
    messages = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            return messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Any:
        if pending:
            return pending.pop(0)
        return await receive()  # after the body: the client leaving (``http.disconnect``)

    return replayed
