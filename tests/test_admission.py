"""Reads wait at the door while the event loop's places are taken; writes, streams, uploads and
slow bodies never hold the line (``cordee/admission.py``). Driven through the middleware with an
application whose requests finish when the test says so."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from cordee.admission import SMALL_BODY, Admission
from cordee.config import ADMISSION_SLOTS, ConfigError, load_settings


class _Held:
    """An application whose requests each say they are in, then wait to be let go."""

    def __init__(self) -> None:
        self.entered: list[str] = []
        self._go: dict[str, asyncio.Event] = {}

    def go(self, name: str) -> None:
        self._go.setdefault(name, asyncio.Event()).set()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        name = scope["path"].rsplit("/", 1)[-1]
        while (await receive()).get("more_body"):
            pass
        self.entered.append(name)
        await self._go.setdefault(name, asyncio.Event()).wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def _request(
    door: Admission,
    name: str,
    method: str = "GET",
    *,
    path: str = "/api/v1/x/",
    body: list[bytes] | None = None,
) -> asyncio.Task[None]:
    parts = list(body or [b""])
    headers = [(b"content-length", str(sum(map(len, parts))).encode())] if body else []
    scope = {"type": "http", "method": method, "path": path + name, "headers": headers}

    async def receive() -> dict[str, Any]:
        if parts:
            part = parts.pop(0)
            if part == b"...":  # the client is slow: this part never comes
                await asyncio.Event().wait()
            return {"type": "http.request", "body": part, "more_body": bool(parts)}
        await asyncio.Event().wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        pass

    return asyncio.create_task(door(scope, receive, send))


async def _turns(count: int = 5) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


async def test_reads_wait_while_the_places_are_taken_and_go_in_in_order() -> None:
    app = _Held()
    door = Admission(app, places=1)
    tasks = [_request(door, "post", "POST")]
    await _turns()
    tasks += [_request(door, "first"), _request(door, "second")]
    await _turns()
    assert app.entered == ["post"]
    app.go("post")
    app.go("first")
    app.go("second")
    await asyncio.gather(*tasks)
    assert app.entered == ["post", "first", "second"]


async def test_writes_go_in_at_once_even_when_every_place_is_taken() -> None:
    app = _Held()
    door = Admission(app, places=1)
    tasks = [_request(door, "one", "POST"), _request(door, "two", "DELETE"), _request(door, "three", "PUT")]
    await _turns()
    assert app.entered == ["one", "two", "three"]
    for name in ("one", "two", "three"):
        app.go(name)
    await asyncio.gather(*tasks)


async def test_a_slow_body_holds_no_place() -> None:
    app = _Held()
    door = Admission(app, places=1)
    slow = _request(door, "slow", "POST", body=[b"status=", b"..."])
    await _turns()
    reader = _request(door, "read")
    await _turns()
    assert app.entered == ["read"]
    app.go("read")
    await reader
    slow.cancel()


async def test_streams_and_uploads_pass_at_once() -> None:
    app = _Held()
    door = Admission(app, places=1)
    tasks = [_request(door, "post", "POST")]
    await _turns()
    tasks += [
        _request(door, "public", path="/api/v1/streaming/"),
        _request(door, "upload", "GET", body=[b"x" * (SMALL_BODY + 1)]),
    ]
    await _turns()
    assert app.entered == ["post", "public", "upload"]
    for name in ("post", "public", "upload"):
        app.go(name)
    await asyncio.gather(*tasks)


async def test_a_read_cancelled_in_line_leaves_it_and_its_place_goes_on() -> None:
    app = _Held()
    door = Admission(app, places=1)
    post = _request(door, "post", "POST")
    await _turns()
    gone, waiting = _request(door, "gone"), _request(door, "waiting")
    await _turns()
    gone.cancel()
    await _turns()
    app.go("post")
    app.go("waiting")
    await asyncio.gather(post, waiting)
    assert app.entered == ["post", "waiting"]
    # Every place was given back: a new read goes in at once.
    last = _request(door, "last")
    await _turns()
    assert app.entered[-1] == "last"
    app.go("last")
    await last


async def test_the_door_is_on_for_one_sqlite_process_and_off_with_the_stores_unless_set() -> None:
    assert load_settings({}).effective_admission_slots == ADMISSION_SLOTS
    assert load_settings({"CORDEE_REDIS_URL": "redis://127.0.0.1:6379/0"}).effective_admission_slots == 0
    postgres = {"CORDEE_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1/cordee"}
    assert load_settings(postgres).effective_admission_slots == 0
    assert load_settings({**postgres, "CORDEE_ADMISSION_SLOTS": "6"}).effective_admission_slots == 6
    assert load_settings({"CORDEE_ADMISSION_SLOTS": "0"}).effective_admission_slots == 0
    with pytest.raises(ConfigError, match="CORDEE_ADMISSION_SLOTS"):
        load_settings({"CORDEE_ADMISSION_SLOTS": "-1"})
