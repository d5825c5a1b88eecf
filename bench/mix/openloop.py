"""The mix as an open loop: requests sent on a fixed schedule whatever the server's answers, each
timed from the moment it was *due* (so a stalled server shows as latency instead of hiding it, the
coordinated-omission trap of closed loops). The client is Python (wrk2 is not packaged here);
at a few hundred requests/s it uses a fraction of a core beside the server."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import httpx

#: Requests in flight at most (beyond, the server is past saturation: they count as errors).
MAX_IN_FLIGHT = 2000
WORDS = ("corde", "refuge", "soirée", "ticket", "tombola", "listen", "market", "summit", "river", "share")


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(
    base_url: str, accounts: list[tuple[str, str]], rate: float, seconds: float, seed: int
) -> dict[str, Any]:
    """``rate`` requests/s of the mix (60 % home, 30 % account, 10 % post) for ``seconds``."""
    rng = random.Random(seed)
    latencies: list[float] = []
    by_kind: dict[str, list[float]] = {"home": [], "account": [], "post": []}
    statuses: dict[int, int] = {}
    in_flight = 0
    dropped = 0

    async def one(http: httpx.AsyncClient, due: float) -> None:
        nonlocal in_flight
        token, _ = rng.choice(accounts)
        headers = {"Authorization": f"Bearer {token}"}
        draw = rng.randrange(100)
        kind = "home" if draw < 60 else "account" if draw < 90 else "post"
        try:
            if kind == "home":
                r = await http.get("/api/v1/timelines/home?limit=20", headers=headers)
            elif kind == "account":
                r = await http.get(
                    f"/api/v1/accounts/{rng.choice(accounts)[1]}/statuses?limit=20", headers=headers
                )
            else:
                text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 12)))
                r = await http.post("/api/v1/statuses", data={"status": text}, headers=headers)
            code = r.status_code
        except httpx.HTTPError:
            code = 0
        finally:
            in_flight -= 1
        statuses[code] = statuses.get(code, 0) + 1
        latencies.append((time.monotonic() - due) * 1000)
        by_kind[kind].append(latencies[-1])

    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=10) as http:
        tasks = []
        count = int(rate * seconds)
        start = time.monotonic() + 0.1
        for i in range(count):
            due = start + i / rate
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if in_flight >= MAX_IN_FLIGHT:
                dropped += 1
                continue
            in_flight += 1
            tasks.append(asyncio.create_task(one(http, due)))
        await asyncio.gather(*tasks)
        elapsed = time.monotonic() - start
    ok = sum(n for code, n in statuses.items() if 200 <= code < 300)
    return {
        "offered": rate,
        "rps": ok / elapsed,
        "p50_ms": _percentile(latencies, 0.50),
        "p99_ms": _percentile(latencies, 0.99),
        "non2xx": sum(n for code, n in statuses.items() if code and not 200 <= code < 300),
        "socket_errors": statuses.get(0, 0) + dropped,
        # Each kind's own p50/p99: the posts' latency is not the reads' (a post waits for its commit).
        "by_kind": {k: (_percentile(v, 0.50), _percentile(v, 0.99)) for k, v in by_kind.items()},
    }
