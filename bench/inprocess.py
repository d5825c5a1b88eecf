"""CPU per request of one endpoint, the whole ASGI app called in-process (no sockets, no load
generator sharing the cores): steadier than a wrk run on a noisy machine, and what py-spy or
cProfile should look at when a handler's own cost is the question.

```
python -m bench.mix --phases home1 --duration 2 --keep     # seeds a graph, keeps its folder
python -m bench.inprocess /tmp/cordee-mix-XXXX              # GET /api/v1/timelines/home
python -m bench.inprocess /tmp/cordee-mix-XXXX --path /api/v1/instance --profile
```

Reads as the first sampled reader of the kept folder (``readers.txt``), on its database, with
the rate limits off as in ``bench.mix``. Prints the CPU time of the process per request (threads
included: aiosqlite's work counts).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import time
from pathlib import Path
from typing import Any

from cordee.app import build_app
from cordee.config import load_settings


async def _run(folder: Path, path: str, count: int, profile: bool) -> None:
    token = (folder / "readers.txt").read_text().split()[0]
    settings = load_settings(
        {
            "CORDEE_DATA_DIR": str(folder / "data"),
            "CORDEE_BASE_URL": "http://127.0.0.1:9",
            "CORDEE_RATE_LIMITS": "off",
        }
    )
    app = build_app(settings)
    raw_path, _, query = path.partition("?")

    async def call() -> None:
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": raw_path,
            "raw_path": raw_path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": [(b"host", b"127.0.0.1:9"), (b"authorization", f"Bearer {token}".encode())],
            "client": ("127.0.0.1", 5555),
            "server": ("127.0.0.1", 9),
            "state": {},
        }
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await app(scope, receive, send)
        if sent[0]["status"] != 200:
            raise SystemExit(f"{path} answered {sent[0]['status']}: {sent[-1].get('body', b'')[:200]!r}")

    async with app.router.lifespan_context(app):
        for _ in range(200):  # caches warm, as on a live instance
            await call()
        started = time.process_time()
        for _ in range(count):
            await call()
        spent = time.process_time() - started
        print(f"| {path} | {count} requests | {spent / count * 1e6:,.0f} µs of CPU a request |")
        if profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(count):
                await call()
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("folder", type=Path, help="a folder kept by `python -m bench.mix --keep`")
    p.add_argument("--path", default="/api/v1/timelines/home", help="the GET to time (with its query)")
    p.add_argument("--count", type=int, default=3000)
    p.add_argument("--profile", action="store_true", help="then the same under cProfile, by own time")
    args = p.parse_args()
    asyncio.run(_run(args.folder, args.path, args.count, args.profile))


if __name__ == "__main__":
    main()
