"""A streaming client process: opens many Mastodon streaming connections and timestamps every note.

Run by the orchestrator (``python -m bench.streaming.client``), driven by JSON lines on stdin, one
answer line on stdout per command. The connections are raw ``asyncio.Protocol`` objects (a tiny
WebSocket / chunked SSE reader, no library), so that a client process costs little CPU per frame
and the server, not the client, is what gets measured.

Notes carry ``bench k=<tag> t=<monotonic send time>`` in their text; each received frame's first
marker gives one latency sample (receive time − send time; ``time.monotonic`` is system-wide on
Linux, the same clock in every process). Samples are kept per tag.

Commands: ``connect`` · ``stats`` · ``take`` (samples of one tag, removed) · ``quit``. The process
also quits when its stdin closes (the orchestrator went away) or after ``--deadline`` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import os
import re
import resource
import struct
import sys
import time
from collections import defaultdict
from typing import Any, Protocol
from urllib.parse import quote

import orjson

MARKER = re.compile(rb"bench k=(\w+) t=(\d+\.\d+)")
READY = b"Unknown stream type"  # the answer to the probe subscription: earlier ones are in place
HANDSHAKE_TIMEOUT = 30.0


class Samples:
    """Latencies (ms) per tag, with the first and last receive time of each tag."""

    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.first: dict[str, float] = {}
        self.last: dict[str, float] = {}
        self.frames = 0

    def record(self, body: bytes, now: float) -> None:
        self.frames += 1
        found = MARKER.search(body)
        if found is None:
            return
        tag = found.group(1).decode()
        self.latencies[tag].append((now - float(found.group(2))) * 1000.0)
        self.first.setdefault(tag, now)
        self.last[tag] = now


def _mask(payload: bytes) -> bytes:
    """A client → server WebSocket text frame (clients must mask)."""
    key = os.urandom(4)
    n = len(payload)
    header = bytes([0x81, 0x80 | n]) if n < 126 else bytes([0x81, 0x80 | 126]) + struct.pack("!H", n)
    masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return header + key + masked


class Recorder(Protocol):
    """What a stream hands each received message (a WebSocket message, or an SSE event block)."""

    def record(self, body: bytes, now: float) -> None: ...


class Stream(asyncio.Protocol):
    """One streaming connection; ``ready`` resolves once the user stream is subscribed (SSE: once
    the response's headers arrived). An SSE stream with an empty ``token`` is opened without an
    ``Authorization`` header (an anonymous page's stream: a campaign wall, a widget)."""

    def __init__(self, kind: str, host: str, path: str, token: str, samples: Recorder) -> None:
        self.kind = kind
        self.host = host
        self.path = path
        self.token = token
        self.samples = samples
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgraded = False
        self.fragments = bytearray()
        self.event = bytearray()  # SSE: the event being read
        self.chunk_left = 0  # SSE: data bytes left in the current chunk
        self.crlf_left = 0  # SSE: bytes left of the CRLF that ends a chunk
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    # -- lifecycle -------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment] # uvloop's are not asyncio.Transport
        if self.kind == "ws":
            key = base64.b64encode(os.urandom(16)).decode()
            request = (
                f"GET {self.path}?access_token={quote(self.token)} HTTP/1.1\r\nHost: {self.host}\r\n"
                f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            )
        else:
            auth = f"Authorization: Bearer {self.token}\r\n" if self.token else ""
            request = (
                f"GET {self.path} HTTP/1.1\r\nHost: {self.host}\r\n{auth}Accept: text/event-stream\r\n\r\n"
            )
        transport.write(request.encode())

    def connection_lost(self, exc: Exception | None) -> None:
        reason = f"lost: {exc!r}" if exc else "closed by the server"
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(reason))
        if not self.closed.done():
            self.closed.set_result(reason)

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            if self.kind == "ws" and self.upgraded:
                self.transport.write(bytes([0x88, 0x82]) + b"\0\0\0\0" + struct.pack("!H", 1000))
            self.transport.close()

    def _fail(self, reason: str) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(reason))
        if self.transport is not None:
            self.transport.close()

    # -- reading ---------------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).decode("latin-1")
            del self.buffer[: end + 4]
            status = head.split(" ", 2)[1] if " " in head else "?"
            wanted = "101" if self.kind == "ws" else "200"
            if status != wanted:
                self._fail(f"HTTP {status}: {head.splitlines()[0] if head else ''}")
                return
            self.upgraded = True
            if self.kind == "ws":
                assert self.transport is not None
                self.transport.write(_mask(b'{"type":"subscribe","stream":"user"}'))
                self.transport.write(_mask(b'{"type":"subscribe","stream":"bench-ready-probe"}'))
            else:
                if "chunked" not in head.lower():
                    self._fail("SSE response is not chunked")
                    return
                self.ready.set_result(None)  # the SSE stream is subscribed before the headers are sent
        if self.kind == "ws":
            self._ws_frames(now)
        else:
            self._sse_chunks(now)

    def _ws_frames(self, now: float) -> None:
        buf = self.buffer
        pos = 0
        size = len(buf)
        while size - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            length = b1 & 0x7F
            start = pos + 2
            if length == 126:
                if size - pos < 4:
                    break
                length = (buf[pos + 2] << 8) | buf[pos + 3]
                start = pos + 4
            elif length == 127:
                if size - pos < 10:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                start = pos + 10
            end = start + length
            if end > size:
                break
            opcode = b0 & 0x0F
            payload = bytes(buf[start:end])
            pos = end
            if opcode in (0x0, 0x1, 0x2):
                if not b0 & 0x80:  # fragmented: keep until the last frame
                    self.fragments += payload
                    continue
                if self.fragments:
                    payload = bytes(self.fragments) + payload
                    self.fragments.clear()
                self._message(payload, now)
            elif opcode == 0x9 and self.transport is not None:  # ping → pong
                self.transport.write(bytes([0x8A, 0x80 | len(payload)]) + b"\0\0\0\0" + payload)
            elif opcode == 0x8:
                self._fail("WebSocket closed by the server: " + payload[2:].decode(errors="replace"))
                if not self.closed.done():
                    code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                    self.closed.set_result(f"close {code}")
                return
        if pos:
            del buf[:pos]

    def _message(self, payload: bytes, now: float) -> None:
        if not self.ready.done() and READY in payload:
            self.ready.set_result(None)
            return
        self.samples.record(payload, now)

    def _sse_chunks(self, now: float) -> None:
        buf = self.buffer
        pos = 0
        size = len(buf)
        while pos < size:
            if self.chunk_left > 0:  # the chunk's data
                take = min(self.chunk_left, size - pos)
                self.event += buf[pos : pos + take]
                pos += take
                self.chunk_left -= take
                if self.chunk_left == 0:
                    self.crlf_left = 2
                continue
            if self.crlf_left > 0:  # the CRLF after the chunk's data
                take = min(self.crlf_left, size - pos)
                pos += take
                self.crlf_left -= take
                continue
            line_end = buf.find(b"\r\n", pos)
            if line_end < 0:
                break
            try:
                length = int(bytes(buf[pos:line_end]).split(b";")[0], 16)
            except ValueError:
                self._fail("bad chunk header")
                return
            pos = line_end + 2
            if length == 0:
                self._fail("the server ended the stream")
                return
            self.chunk_left = length
        if pos:
            del buf[:pos]
        while True:
            end = self.event.find(b"\n\n")
            if end < 0:
                break
            block = bytes(self.event[:end])
            del self.event[: end + 2]
            if b"\ndata: " in block or block.startswith(b"data: "):
                self.samples.record(block, now)


class Client:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.samples = Samples()
        self.streams: list[Stream] = []
        self.closed_reasons: dict[str, int] = defaultdict(int)

    async def connect(self) -> dict[str, Any]:
        args = self.args
        tokens = [t for t in open(args.tokens).read().split() if t]  # noqa: ASYNC230, SIM115 - small local file
        loop = asyncio.get_running_loop()
        gate = asyncio.Semaphore(args.concurrency)
        errors: dict[str, int] = defaultdict(int)
        failed: list[str] = []
        path = "/api/v1/streaming" if args.transport == "ws" else "/api/v1/streaming/user"
        started = time.monotonic()

        async def one(token: str) -> None:
            async with gate:
                try:
                    async with asyncio.timeout(HANDSHAKE_TIMEOUT):
                        _, stream = await loop.create_connection(
                            lambda: Stream(
                                args.transport, f"{args.host}:{args.port}", path, token, self.samples
                            ),
                            args.host,
                            args.port,
                        )
                        await stream.ready
                except Exception as e:  # noqa: BLE001 - counted and reported, never hidden
                    errors[f"{type(e).__name__}: {str(e)[:120]}"] += 1
                    failed.append(token)
                    return
                self.streams.append(stream)
                stream.closed.add_done_callback(lambda f: self._lost(f))

        await asyncio.gather(*(one(t) for t in tokens))
        return {
            "connected": len(self.streams),
            "failed": failed,
            "errors": dict(sorted(errors.items(), key=lambda kv: -kv[1])[:5]),
            "seconds": time.monotonic() - started,
        }

    def _lost(self, future: asyncio.Future[str]) -> None:
        if not future.cancelled():
            self.closed_reasons[future.result()] += 1

    def stats(self) -> dict[str, Any]:
        s = self.samples
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "open": sum(1 for st in self.streams if not st.closed.done()),
            "frames": s.frames,
            "counts": {tag: len(v) for tag, v in s.latencies.items()},
            "closed": dict(self.closed_reasons),
            "cpu": usage.ru_utime + usage.ru_stime,
        }

    def take(self, tag: str) -> dict[str, Any]:
        s = self.samples
        return {
            "latencies": s.latencies.pop(tag, []),
            "first": s.first.pop(tag, None),
            "last": s.last.pop(tag, None),
        }

    async def close(self) -> None:
        for stream in self.streams:
            stream.close()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await asyncio.gather(*(st.closed for st in self.streams), return_exceptions=True)


def _raise_fd_limit(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


async def main(args: argparse.Namespace) -> None:
    _raise_fd_limit(args.fds)
    client = Client(args)
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
                command = orjson.loads(line)
                name = command.get("cmd")
                if name == "connect":
                    answer(await client.connect())
                elif name == "stats":
                    answer(client.stats())
                elif name == "take":
                    answer(client.take(command["tag"]))
                elif name == "quit":
                    await client.close()
                    answer({"bye": True})
                    break
                else:
                    answer({"error": f"unknown command {name!r}"})
    except TimeoutError:
        sys.stderr.write("bench client: deadline reached, quitting\n")
    finally:
        await client.close()


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--transport", choices=("ws", "sse"), default="ws")
    parser.add_argument("--tokens", required=True, help="a file of access tokens, one per connection")
    parser.add_argument("--concurrency", type=int, default=100, help="handshakes under way at once")
    parser.add_argument("--deadline", type=float, default=3600.0, help="quit after this many seconds")
    parser.add_argument("--fds", type=int, default=20_000, help="raise the open-file soft limit to this")
    return parser.parse_args(argv)


def run(coroutine: Any) -> Any:
    """Run on uvloop when it is installed (uvicorn uses it too), else on asyncio's loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coroutine)


if __name__ == "__main__":
    run(main(parse()))
