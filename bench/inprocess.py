"""CPU per request of one endpoint, the whole ASGI app called in-process (no sockets, no load
generator sharing the cores): steadier than a wrk run on a noisy machine, and what py-spy or
cProfile should look at when a handler's own cost is the question.

```
python -m bench.mix --phases home1 --duration 2 --keep     # seeds a graph, keeps its folder
python -m bench.inprocess /tmp/cordee-mix-XXXX              # GET /api/v1/timelines/home
python -m bench.inprocess /tmp/cordee-mix-XXXX --path /api/v1/instance --profile
python -m bench.inprocess /tmp/cordee-mix-XXXX --copy --post --count 1000        # POST /api/v1/statuses
python -m bench.inprocess /tmp/cordee-mix-XXXX --copy --post --concurrency 32     # posts as under load
python -m bench.inprocess /tmp/cordee-mix-XXXX --copy --mix --concurrency 32      # the mix (posts too)
python -m bench.inprocess /tmp/cordee-mix-XXXX --copy --follow --concurrency 32   # follows under load
python -m bench.inprocess /tmp/cordee-mix-XXXX --random-readers --concurrency 16 \
    --path '/api/v1/accounts/{account}/statuses?limit=20'                   # anyone's page, by anyone
```

Reads as the first sampled reader of the kept folder (``readers.txt``), on its database, with
the rate limits off as in ``bench.mix`` and the garbage collector tuned as in the server;
``--post`` posts notes instead, as the sampled posters in turn (``posters.txt``, the mix's
fan-out; it changes the folder's database: ``--copy`` runs on a copy, removed after — on
PostgreSQL + Redis a database made from the kept one and a Redis prefix of its own). ``--mix``
draws each request as ``bench.mix``'s mix does (60 % home timelines, 30 % account timelines,
10 % posts, each by a random sampled reader, with a fixed seed): what a read costs while posts
keep changing the feeds.
``--method POST`` with ``--random-readers``: a write by path, ``{note}`` a recent public note
(``/api/v1/statuses/{note}/favourite``; SQLite folders, on a copy). ``--follow``: random sampled
readers follow random other ones (on a copy too). One
request at a time by default, so that this is a request's own cost; ``--concurrency N`` keeps N
in flight, as a loaded server does (the writes of a group commit then share a transaction).
Prints the CPU time of the process per request (threads included: aiosqlite's work counts), the
requests per second, and each kind of request's p50/p99 latency. Each client yields to the event
loop between its requests, as a socket's next request would arrive (without it a task ran its
reads back to back, never suspending, and the posts' latency measured that).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import pstats
import random
import shutil
import sqlite3
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from cordee.app import build_app, tune_gc
from cordee.config import load_settings

_WORDS = ("corde", "refuge", "soirée", "ticket", "tombola", "listen", "market", "summit", "river", "share")


async def _run(
    folder: Path,
    path: str,
    count: int,
    profile: bool,
    post: bool,
    concurrency: int = 1,
    mix: bool = False,
    warm: int = 200,
    sort: str = "tottime",
    only: str = "",
    follow: bool = False,
    random_readers: bool = False,
    append: str = "",
    method: str = "GET",
) -> None:
    restrict: tuple[str | int, ...] = (only, 40) if only else (30,)
    lines = (folder / ("posters.txt" if post else "readers.txt")).read_text().splitlines()
    accounts = [(line.split()[0], line.split()[1]) for line in lines]
    tokens = [token for token, _ in accounts]
    if not post and not mix and not follow and not random_readers:
        tokens = tokens[:1]
    draw = random.Random(7)
    notes: list[str] = []
    if "{note}" in path:  # recent public notes, from the kept SQLite file
        database = folder / "data" / "cordee.sqlite3"
        if not database.exists():
            raise SystemExit("{note} in --path needs a SQLite folder")
        with sqlite3.connect(database) as conn:
            query = "SELECT id FROM statuses WHERE visibility = 'public' ORDER BY id DESC LIMIT 2000"
            notes = [str(row[0]) for row in conn.execute(query)]
    sent_count = 0
    latencies: dict[str, list[float]] = {}  # seconds each request took, by kind of request
    # A PostgreSQL + Redis run kept its database and key prefix, named in ``store.env``.
    stores = folder / "store.env"
    kept = dict(line.split("=", 1) for line in stores.read_text().split()) if stores.exists() else {}
    settings = load_settings(
        {
            "CORDEE_DATA_DIR": str(folder / "data"),
            "CORDEE_BASE_URL": "http://127.0.0.1:9",
            "CORDEE_RATE_LIMITS": "off",
            **kept,
        }
    )
    app = build_app(settings)
    tune_gc(settings)  # as the server does (``cordee.asgi``)
    if post:
        path = "/api/v1/statuses"
    if mix:
        path = "the mix"
    if follow:
        path = "POST /api/v1/accounts/:id/follow"

    def mixed() -> tuple[str, str, bool]:
        """A token, a path and whether to post, drawn as ``bench/mix/wrk/mix.lua`` draws them."""
        token = draw.choice(tokens)
        roll = draw.randrange(100)
        if roll < 60:
            return token, "/api/v1/timelines/home?limit=20", False
        if roll < 90:
            return token, f"/api/v1/accounts/{draw.choice(accounts)[1]}/statuses?limit=20", False
        return token, "/api/v1/statuses", True

    async def call() -> None:
        nonlocal sent_count
        sent_count += 1
        token, path_here, posting = tokens[sent_count % len(tokens)], path, post
        if mix:
            token, path_here, posting = mixed()
        elif random_readers:  # each request by a sampled reader, on a sampled account's page
            token, path_here = draw.choice(tokens), path.replace("{account}", draw.choice(accounts)[1])
            if notes:
                path_here = path_here.replace("{note}", draw.choice(notes))
        if follow:  # a random reader follows a random other account, as ``one.lua follow`` does
            token, me = draw.choice(accounts)
            target = me
            while target == me:  # following oneself is refused (403)
                target = draw.choice(accounts)[1]
            path_here = f"/api/v1/accounts/{target}/follow"
        raw_path, _, query = path_here.partition("?")
        if posting:
            words = "+".join(draw.choice(_WORDS) for _ in range(draw.randint(4, 12)))
            body = urlencode({"status": f"{words.replace('+', ' ')} {sent_count} {append}".strip()}).encode()
        else:
            body = b""
        headers = [(b"host", b"127.0.0.1:9"), (b"authorization", f"Bearer {token}".encode())]
        if posting:
            headers += [
                (b"content-type", b"application/x-www-form-urlencoded"),
                (b"content-length", str(len(body)).encode()),
            ]
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST" if posting or follow else method,
            "scheme": "http",
            "path": raw_path,
            "raw_path": raw_path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 5555),
            "server": ("127.0.0.1", 9),
            "state": {},
        }
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        began = time.perf_counter()
        await app(scope, receive, send)
        kind = "post" if posting else "follow" if follow else raw_path.rsplit("/", 1)[-1]
        latencies.setdefault(kind, []).append(time.perf_counter() - began)
        if sent[0]["status"] != 200:
            raise SystemExit(f"{path_here} answered {sent[0]['status']}: {sent[-1].get('body', b'')[:200]!r}")

    async def calls(total: int) -> None:
        """``total`` requests, ``concurrency`` at a time (each task sends its share in turn)."""

        async def one_task(share: int) -> None:
            for _ in range(share):
                await call()
                await asyncio.sleep(0)  # the next request arrives by the loop, as over a socket

        shares = [total // concurrency + (i < total % concurrency) for i in range(concurrency)]
        await asyncio.gather(*(one_task(share) for share in shares))

    async with app.router.lifespan_context(app):
        await calls(warm)  # caches warm, as on a live instance
        latencies.clear()
        started, started_wall = time.process_time(), time.perf_counter()
        await calls(count)
        spent, wall = time.process_time() - started, time.perf_counter() - started_wall
        print(
            f"| {path} | {count} requests, {concurrency} at a time | {spent / count * 1e6:,.0f} µs of CPU a"
            f" request | {count / wall:,.0f} req/s |"
        )
        for kind, times in sorted(latencies.items()):  # what a closed loop waits on, by request
            times.sort()
            p50, p99 = times[len(times) // 2], times[int(len(times) * 0.99)]
            print(f"|   {kind} | {len(times)} | p50 {p50 * 1e3:.1f} ms | p99 {p99 * 1e3:.1f} ms |")
        if profile:
            profiler = cProfile.Profile()
            profiler.enable()
            await calls(count)
            profiler.disable()
            pstats.Stats(profiler).sort_stats(sort).print_stats(*restrict)


@contextlib.asynccontextmanager
async def _copied(folder: Path) -> AsyncIterator[Path]:
    """A copy of ``folder`` to write on, removed after: its SQLite file copied, or on PostgreSQL a
    database made from the kept one (``CREATE DATABASE … TEMPLATE``) with a Redis key prefix of its
    own, holding a copy of the kept prefix's keys — with the kept prefix, a copy's posts went into
    feeds the next copy read without their notes, and the in-process mix measured that (12.5 ms a
    request)."""
    from sqlalchemy.engine.url import make_url

    from bench.stores import clean_redis, copy_redis, pg, pg_url

    copy = Path(tempfile.mkdtemp(prefix="cordee-inprocess-"))
    shutil.copytree(folder, copy, dirs_exist_ok=True)
    stores = copy / "store.env"
    kept = dict(line.split("=", 1) for line in stores.read_text().split()) if stores.exists() else {}
    name = prefix = None
    try:
        if "CORDEE_DATABASE_URL" in kept:
            original = make_url(kept["CORDEE_DATABASE_URL"]).database
            name = f"{original}_copy_{uuid.uuid4().hex[:8]}"
            await pg(f'CREATE DATABASE "{name}" TEMPLATE "{original}"')
            kept["CORDEE_DATABASE_URL"] = pg_url(name)
        if "CORDEE_REDIS_PREFIX" in kept:
            # The kept run's keys copied too: its home feeds (warmed before its measures), or
            # every reader's first read would rebuild theirs and be measured doing so.
            source, prefix = kept["CORDEE_REDIS_PREFIX"], f"cordee-inprocess-{uuid.uuid4().hex[:10]}:"
            kept["CORDEE_REDIS_PREFIX"] = prefix
            await copy_redis(source, prefix)
        if kept:
            stores.write_text("".join(f"{key}={value}\n" for key, value in kept.items()))
        yield copy
    finally:
        if name is not None:
            with contextlib.suppress(Exception):
                await pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if prefix is not None:
            with contextlib.suppress(Exception):
                await clean_redis(prefix)
        shutil.rmtree(copy, ignore_errors=True)


async def _main(args: argparse.Namespace) -> None:
    run = (
        args.path,
        args.count,
        args.profile,
        args.post,
        args.concurrency,
        args.mix,
        args.warm,
        args.sort,
        args.only,
        args.follow,
        args.random_readers,
        args.append,
        args.method,
    )
    if not args.copy:
        await _run(args.folder, *run)
        return
    async with _copied(args.folder) as copy:
        await _run(copy, *run)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("folder", type=Path, help="a folder kept by `python -m bench.mix --keep`")
    p.add_argument("--path", default="/api/v1/timelines/home", help="the GET to time (with its query)")
    p.add_argument("--count", type=int, default=3000)
    p.add_argument("--profile", action="store_true", help="then the same under cProfile, by own time")
    p.add_argument("--post", action="store_true", help="time POST /api/v1/statuses as the sampled posters")
    p.add_argument("--mix", action="store_true", help="the mix's requests (posts too: run on a copy)")
    p.add_argument("--follow", action="store_true", help="random readers follow random accounts (on a copy)")
    p.add_argument(
        "--random-readers",
        action="store_true",
        help="each GET by a random sampled reader; {account} in --path: a random sampled account",
    )
    p.add_argument("--append", default="", help="what every post ends with (e.g. '#soiree #tombola @u5')")
    p.add_argument(
        "--method",
        default="GET",
        help="--path's method (POST: e.g. /api/v1/statuses/{note}/favourite with --random-readers)",
    )
    p.add_argument("--concurrency", type=int, default=1, help="requests in flight at once (default 1)")
    p.add_argument("--warm", type=int, default=200, help="requests before measuring (default 200)")
    p.add_argument("--sort", default="tottime", help="cProfile's order (e.g. cumulative; default tottime)")
    p.add_argument("--only", default="", help="cProfile's rows whose place matches this (e.g. cordee/)")
    p.add_argument(
        "--copy",
        action="store_true",
        help="run on a copy of the folder's database (and a Redis prefix of its own), removed after",
    )
    asyncio.run(_main(p.parse_args()))


if __name__ == "__main__":
    main()
