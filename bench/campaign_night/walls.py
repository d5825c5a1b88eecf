"""The venue screens: a process holding every chapter's live wall and the campaign's thermometer.

Each wall does what ``wall.js`` does in a venue's browser: it loads the page
(``GET /chapters/:id/wall``), listens to ``/chapters/:id/wall/stream`` (SSE, no account), and on
every (re)connection fetches what it missed (``/chapters/:id/wall/notes?since_id=``); a stream
that drops is opened again a second later, as ``EventSource`` does. The thermometer listens to
``/campaigns/:id/stream`` like the campaign page. The SSE reading is ``bench.streaming.client``'s
raw protocol (``Stream``), so the screens cost little CPU per frame.

Every ``update`` frame is kept as (wall, note key, receive time, send time) — the key and send time
are the ``bench k=<key> t=<time>`` marker in the note's text —; ``delete`` frames as (wall, status
id); the last ``chapter_totals`` and ``totals`` amounts of each wall, and the thermometer's.

Driven by JSON lines on stdin like ``bench.streaming.client`` (``connect``, ``stats``, ``take``,
``quit``); quits when stdin closes or at ``--deadline``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import resource
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from bench.streaming.client import MARKER, Stream, run

RECONNECT_SECONDS = 1.0
HANDSHAKE_TIMEOUT = 30.0


@dataclass
class Screen:
    """One open page: a chapter's wall (``chapter`` set) or the campaign's thermometer."""

    index: int
    stream_path: str
    page_path: str
    notes_path: str | None
    newest: int = 0
    seen: set[str] = field(default_factory=set)
    chapter_total: int | None = None
    campaign_total: int | None = None
    stream: Stream | None = None
    connects: int = 0


class Screens:
    def __init__(self, args: argparse.Namespace, walls: list[dict[str, Any]]) -> None:
        self.args = args
        self.screens = [Screen(i, w["stream"], w["page"], w.get("notes")) for i, w in enumerate(walls)]
        self.updates: list[tuple[int, str, float, float, str]] = []
        self.deletes: list[tuple[int, int, float]] = []
        self.counts: dict[str, int] = defaultdict(int)
        self.closed: dict[str, int] = defaultdict(int)
        self.errors: dict[str, int] = defaultdict(int)
        self.quitting = False
        self.http = httpx.AsyncClient(base_url=f"http://{args.host}:{args.port}", timeout=60)

    # -- what a frame says --------------------------------------------------------------------------

    def note(self, screen: Screen, raw: bytes, now: float, source: str) -> None:
        found = MARKER.search(raw)
        if found is None:
            return
        key = found.group(1).decode()
        if source == "catch-up" and key in screen.seen:
            return  # the page already shows it
        screen.seen.add(key)
        self.updates.append((screen.index, key, now, float(found.group(2)), source))

    def frame(self, screen: Screen, block: bytes, now: float) -> None:
        event, data = b"message", b""
        for line in block.split(b"\n"):
            if line.startswith(b"event: "):
                event = line[7:]
            elif line.startswith(b"data: "):
                data = line[6:]
        name = event.decode()
        self.counts[name] += 1
        if name == "update":
            note = orjson.loads(data)
            screen.newest = max(screen.newest, int(note["id"]))
            self.note(screen, data, now, "stream")
        elif name == "delete":
            self.deletes.append((screen.index, int(data), now))
        elif name == "chapter_totals":
            screen.chapter_total = int(orjson.loads(data)["raised_cents"])
        elif name == "totals":
            screen.campaign_total = int(orjson.loads(data)["raised_cents"])

    # -- connections --------------------------------------------------------------------------------

    async def open(self, screen: Screen) -> None:
        """The page, its stream, then what was missed (as ``wall.js`` does on ``open``)."""
        args = self.args
        if screen.connects == 0:
            page = await self.http.get(screen.page_path)
            if page.status_code != 200:
                raise ConnectionError(f"page {screen.page_path}: HTTP {page.status_code}")
        loop = asyncio.get_running_loop()
        recorder = _Recorder(self, screen)
        async with asyncio.timeout(HANDSHAKE_TIMEOUT):
            _, stream = await loop.create_connection(
                lambda: Stream("sse", f"{args.host}:{args.port}", screen.stream_path, "", recorder),
                args.host,
                args.port,
            )
            await stream.ready
        screen.stream = stream
        screen.connects += 1
        stream.closed.add_done_callback(lambda f: self.lost(screen, f))
        if screen.notes_path is not None:
            answer = await self.http.get(screen.notes_path, params={"since_id": str(screen.newest)})
            now = time.monotonic()
            for note in reversed(answer.json() if answer.status_code == 200 else []):
                screen.newest = max(screen.newest, int(note["id"]))
                self.note(screen, orjson.dumps(note), now, "catch-up")

    def lost(self, screen: Screen, future: asyncio.Future[str]) -> None:
        if self.quitting:
            return
        self.closed["" if future.cancelled() else future.result()] += 1
        asyncio.get_running_loop().create_task(self.reopen(screen))

    async def reopen(self, screen: Screen) -> None:
        while not self.quitting:
            await asyncio.sleep(RECONNECT_SECONDS)
            try:
                await self.open(screen)
                return
            except Exception as e:  # noqa: BLE001 - counted and reported; try again like EventSource
                self.errors[f"reconnect: {type(e).__name__}: {str(e)[:100]}"] += 1

    async def connect(self) -> dict[str, Any]:
        gate = asyncio.Semaphore(self.args.concurrency)
        started = time.monotonic()

        async def one(screen: Screen) -> None:
            async with gate:
                try:
                    await self.open(screen)
                except Exception as e:  # noqa: BLE001 - counted and reported, never hidden
                    self.errors[f"{type(e).__name__}: {str(e)[:120]}"] += 1

        await asyncio.gather(*(one(s) for s in self.screens))
        return {
            "connected": sum(1 for s in self.screens if s.stream is not None),
            "errors": dict(self.errors),
            "seconds": time.monotonic() - started,
        }

    def stats(self) -> dict[str, Any]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "open": sum(1 for s in self.screens if s.stream is not None and not s.stream.closed.done()),
            "updates": len(self.updates),
            "deletes": len(self.deletes),
            "events": dict(self.counts),
            "closed": dict(self.closed),
            "errors": dict(self.errors),
            "reconnects": sum(max(0, s.connects - 1) for s in self.screens),
            "chapter_totals": [s.chapter_total for s in self.screens],
            "campaign_totals": [s.campaign_total for s in self.screens],
            "cpu": usage.ru_utime + usage.ru_stime,
        }

    def take(self) -> dict[str, Any]:
        taken = {"updates": self.updates, "deletes": self.deletes}
        self.updates, self.deletes = [], []
        return taken

    async def close(self) -> None:
        self.quitting = True
        for screen in self.screens:
            if screen.stream is not None:
                screen.stream.close()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await asyncio.gather(
                    *(s.stream.closed for s in self.screens if s.stream is not None), return_exceptions=True
                )
        await self.http.aclose()


class _Recorder:
    """``Stream`` hands each SSE event block to its recorder."""

    def __init__(self, screens: Screens, screen: Screen) -> None:
        self.screens = screens
        self.screen = screen

    def record(self, body: bytes, now: float) -> None:
        self.screens.frame(self.screen, body, now)


async def main(args: argparse.Namespace) -> None:
    with open(args.walls, "rb") as f:  # noqa: ASYNC230 - a small local file, read once at start
        screens = Screens(args, orjson.loads(f.read()))
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    def answer(value: Any) -> None:
        sys.stdout.buffer.write(orjson.dumps(value) + b"\n")
        sys.stdout.flush()

    try:
        async with asyncio.timeout(args.deadline):
            while True:
                line = await reader.readline()
                if not line:
                    break  # the orchestrator went away
                name = orjson.loads(line).get("cmd")
                if name == "connect":
                    answer(await screens.connect())
                elif name == "stats":
                    answer(screens.stats())
                elif name == "take":
                    answer(screens.take())
                elif name == "quit":
                    await screens.close()
                    answer({"bye": True})
                    break
                else:
                    answer({"error": f"unknown command {name!r}"})
    except TimeoutError:
        sys.stderr.write("bench walls: deadline reached, quitting\n")
    finally:
        if not screens.quitting:
            await screens.close()


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--walls", required=True, help="JSON: [{stream, page, notes}] per screen")
    parser.add_argument("--concurrency", type=int, default=50, help="screens opening at once")
    parser.add_argument("--deadline", type=float, default=3600.0, help="quit after this many seconds")
    return parser.parse_args(argv)


if __name__ == "__main__":
    run(main(parse()))
