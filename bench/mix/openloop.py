"""The mix as an open loop: requests sent on a fixed schedule whatever the server's answers, each
timed from the moment it was *due* (so a stalled server shows as latency instead of hiding it, the
coordinated-omission trap of closed loops). wrk2 is not packaged here, so the client is Python —
on plain asyncio streams (HTTP/1.1, keep-alive connections opened as needed): httpx, used before,
cost ~1.5 ms of CPU a request and saturated its own core at ~400 requests/s, so that higher
rates measured the client (a "collapse" at 600/s with the server at a fifth of a core). The
client's own CPU and the requests it sent late (more than 10 ms after due) are reported: a row
where it fell behind measures the client, not the server."""

from __future__ import annotations

import asyncio
import gc
import random
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

#: Requests in flight at most (beyond, the server is past saturation: they count as errors).
MAX_IN_FLIGHT = 2000
#: Connections at most; a request waits for a free one beyond (its latency still counts from due).
MAX_CONNECTIONS = 256
#: Seconds a request may take before it counts as a socket error.
TIMEOUT = 10.0
#: A request sent later than this after it was due was held up by the client itself.
LATE = 0.010
WORDS = ("corde", "refuge", "soirée", "ticket", "tombola", "listen", "market", "summit", "river", "share")


class _Connections:
    """Keep-alive HTTP/1.1 connections to one server, opened on demand up to ``MAX_CONNECTIONS``."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.opened = 0
        self.freed = asyncio.Condition()

    async def take(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        async with self.freed:
            while not self.idle and self.opened >= MAX_CONNECTIONS:
                await self.freed.wait()
            if self.idle:
                return self.idle.pop()
            self.opened += 1
        try:
            return await asyncio.open_connection(self.host, self.port)
        except OSError:
            await self.lost()
            raise

    async def give_back(self, conn: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> None:
        async with self.freed:
            self.idle.append(conn)
            self.freed.notify()

    async def lost(self) -> None:
        async with self.freed:
            self.opened -= 1
            self.freed.notify()

    async def close(self) -> None:
        for _, writer in self.idle:
            writer.close()


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bool]:
    """Send one request, read its whole answer; returns the status and whether to keep the
    connection."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {
        k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)
    }
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers.get("connection", "").lower() != "close"


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(
    base_url: str, accounts: list[tuple[str, str]], rate: float, seconds: float, seed: int
) -> dict[str, Any]:
    """``rate`` requests/s of the mix (60 % home, 30 % account, 10 % post) for ``seconds``."""
    # What the process already holds (``bench.mix``'s seeded graph) is left out of the collector's
    # full passes while sending: a pass over a large heap held the schedule up (seen: 40–56 of 300
    # requests sent late after other benchmark tests had filled the heap, none with it frozen).
    gc.collect()
    gc.freeze()
    try:
        return await _send(base_url, accounts, rate, seconds, seed)
    finally:
        gc.unfreeze()


async def closed(
    base_url: str, accounts: list[tuple[str, str]], connections: int, seconds: float, seed: int
) -> dict[str, Any]:
    """The mix as a closed loop (as wrk runs it): ``connections`` clients, each sending its next
    request when its last is answered, for ``seconds``. wrk cannot say which kind of request was
    slow; this can, at the cost of its own CPU (reported)."""
    gc.collect()
    gc.freeze()
    mix = _Mix(base_url, accounts, seed)
    end = time.monotonic() + seconds

    async def client() -> None:
        while time.monotonic() < end:
            await mix.one(time.monotonic())

    cpu, start = time.process_time(), time.monotonic()
    try:
        await asyncio.gather(*(client() for _ in range(connections)))
    finally:
        gc.unfreeze()
    elapsed = time.monotonic() - start
    await mix.pool.close()
    return {"connections": connections, **mix.figures(elapsed, (time.process_time() - cpu) / elapsed)}


class _Mix:
    """The mix's requests (60 % home, 30 % account, 10 % post), sent and timed one by one."""

    def __init__(self, base_url: str, accounts: list[tuple[str, str]], seed: int) -> None:
        self.rng = random.Random(seed)
        self.accounts = accounts
        self.latencies: list[float] = []
        self.by_kind: dict[str, list[float]] = {"home": [], "account": [], "post": []}
        self.statuses: dict[int, int] = {}
        self.url = urlsplit(base_url)
        self.pool = _Connections(self.url.hostname or "127.0.0.1", self.url.port or 80)

    def build(self, token: str, kind: str) -> bytes:
        common = f"Host: {self.url.netloc}\r\nAuthorization: Bearer {token}\r\n"
        if kind == "home":
            return f"GET /api/v1/timelines/home?limit=20 HTTP/1.1\r\n{common}\r\n".encode()
        if kind == "account":
            path = f"/api/v1/accounts/{self.rng.choice(self.accounts)[1]}/statuses?limit=20"
            return f"GET {path} HTTP/1.1\r\n{common}\r\n".encode()
        text = " ".join(self.rng.choice(WORDS) for _ in range(self.rng.randint(4, 12)))
        body = urlencode({"status": text}).encode()
        head = (
            f"POST /api/v1/statuses HTTP/1.1\r\n{common}"
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        return head.encode() + body

    async def one(self, due: float) -> None:
        """Send one request of a random kind; its latency counts from ``due``."""
        token, _ = self.rng.choice(self.accounts)
        draw = self.rng.randrange(100)
        kind = "home" if draw < 60 else "account" if draw < 90 else "post"
        request = self.build(token, kind)
        code = 0
        pool = self.pool
        try:
            conn = await asyncio.wait_for(pool.take(), TIMEOUT)
        except (OSError, TimeoutError):
            conn = None
        if conn is not None:
            try:
                code, keep = await asyncio.wait_for(_exchange(*conn, request), TIMEOUT)
            except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError):
                conn[1].close()
                await pool.lost()
            else:
                if keep:
                    await pool.give_back(conn)
                else:
                    conn[1].close()
                    await pool.lost()
        self.statuses[code] = self.statuses.get(code, 0) + 1
        self.latencies.append((time.monotonic() - due) * 1000)
        self.by_kind[kind].append(self.latencies[-1])

    def figures(self, elapsed: float, client_cpu: float) -> dict[str, Any]:
        statuses = self.statuses
        ok = sum(n for code, n in statuses.items() if 200 <= code < 300)
        return {
            "rps": ok / elapsed,
            "p50_ms": _percentile(self.latencies, 0.50),
            "p99_ms": _percentile(self.latencies, 0.99),
            "non2xx": sum(n for code, n in statuses.items() if code and not 200 <= code < 300),
            "socket_errors": statuses.get(0, 0),
            # Each kind's own p50/p99: the posts' latency is not the reads' (a post waits for its commit).
            "by_kind": {k: (_percentile(v, 0.50), _percentile(v, 0.99)) for k, v in self.by_kind.items()},
            # Whether the client kept up: its share of a core.
            "client_cpu": client_cpu,
        }


async def _send(
    base_url: str, accounts: list[tuple[str, str]], rate: float, seconds: float, seed: int
) -> dict[str, Any]:
    mix = _Mix(base_url, accounts, seed)
    in_flight = 0
    dropped = 0
    late = 0

    async def one(due: float) -> None:
        nonlocal in_flight
        await mix.one(due)
        in_flight -= 1

    tasks = []
    count = int(rate * seconds)
    cpu = time.process_time()
    start = time.monotonic() + 0.1
    for i in range(count):
        due = start + i / rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        elif -delay > LATE:
            late += 1
        if in_flight >= MAX_IN_FLIGHT:
            dropped += 1
            continue
        in_flight += 1
        tasks.append(asyncio.create_task(one(due)))
    await asyncio.gather(*tasks)
    elapsed = time.monotonic() - start
    figures = mix.figures(elapsed, (time.process_time() - cpu) / elapsed)
    await mix.pool.close()
    figures["socket_errors"] += dropped
    # Whether the client kept up: the requests it sent late.
    return {"offered": rate, **figures, "sent_late": late}
