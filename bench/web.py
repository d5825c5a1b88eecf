"""The server-rendered pages under load, beside the same data through the API: ``python -m bench.web``.

Seeds ``bench.mix``'s social graph (``--size``, reed98 by default) through its bulk path, opens a web
session for each sampled reader (``actions.sessions.start``, the last step of every web sign-in),
starts ``cordee serve``, reads every reader's home once (the feeds exist, as on a live instance),
then drives it with wrk on loopback, phase by phase, ``--duration`` seconds each, 32 connections:

- ``ceiling``: a bare Starlette app on the same uvicorn stack (``bench/mix/ceiling.py``), same run;
- ``page_home``: ``GET /home`` with a reader's session cookie (the page: compose box, 20 notes);
- ``api_home``: ``GET /api/v1/timelines/home?limit=20`` with the same reader's token;
- ``page_profile``: ``GET /@username``, a random account's public profile, without an account;
- ``api_account``: ``GET /api/v1/accounts/:id/statuses?limit=20&exclude_replies=true``, the same
  account's notes (a profile page shows notes without replies, as Mastodon's does), without an account.

Prints a markdown table: requests/s, share of the ceiling, p50/p90/p99 latency, non-2xx answers and
socket errors (every 2xx page is counted, nothing else). ``--profile DIR`` records each phase with
py-spy (``python -m bench.mix.topstacks DIR/page_home.txt`` summarises one).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.mix.__main__ import _py_spy, say, warm, wrk
from bench.mix.graph import SIZES, generate, load
from bench.stores import close_scratch, open_scratch
from bench.streaming.procs import ROOT, Server, free_port, raise_fd_limit, rss_mb

PHASES = ("page_home", "api_home", "page_profile", "api_account")
CONNECTIONS = 32


async def _web_sessions(url: str, account_ids: list[int]) -> list[str]:
    """A web session key (the ``cordee_sid`` cookie) for each account, as signing in would give."""
    from sqlalchemy import select

    from cordee.actions import sessions
    from cordee.db.engine import Database
    from cordee.db.tables import User

    db = Database(url)
    try:
        async with db.read() as session:
            users = {a: u for a, u in (await session.execute(select(User.account_id, User.id))).all()}
        return [await sessions.start(db, users[a], "127.0.0.1", "bench.web") for a in account_ids]
    finally:
        await db.dispose()


async def bench(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    from sqlalchemy.ext.asyncio import create_async_engine

    from cordee.db.migrate import upgrade

    report: dict[str, Any] = {"size": args.size, "store": "PostgreSQL + Redis" if args.postgres else "SQLite"}
    data_dir = tmp / "data"
    data_dir.mkdir(parents=True)
    scratch = await open_scratch(data_dir, postgres=args.postgres, redis=args.postgres)
    servers: list[Server] = []
    try:
        await asyncio.to_thread(upgrade, scratch.url)
        graph = generate(*SIZES[args.size], seed=args.seed)
        engine = create_async_engine(scratch.url)
        try:
            report["rows"] = await load(engine, graph)
        finally:
            await engine.dispose()
        rng = random.Random(args.seed)
        everyone = list(range(len(graph.usernames)))
        readers = everyone if len(everyone) <= args.readers else rng.sample(everyone, args.readers)
        keys = await _web_sessions(scratch.url, [graph.account_ids[i] for i in readers])
        readers_file = tmp / "readers.txt"
        readers_file.write_text(
            "".join(
                f"{graph.tokens[i]} {graph.account_ids[i]} {key} {graph.usernames[i]}\n"
                for i, key in zip(readers, keys, strict=True)
            )
        )
        say(f"seeded {report['rows']}; {len(keys)} web sessions")

        port = free_port()
        ceiling = Server(
            "ceiling",
            [sys.executable, "-m", "bench.mix.ceiling", "--port", str(port)],
            {**os.environ, "PYTHONPATH": str(ROOT)},
            port,
            tmp / "ceiling.log",
        )
        servers.append(ceiling)
        await ceiling.wait_ready()
        report["ceiling"] = await asyncio.to_thread(
            wrk, ceiling.base_url + "/", "web.lua", [str(readers_file), "get"], CONNECTIONS, args.duration
        )
        ceiling.stop()
        say(f"ceiling: {report['ceiling']['rps']:,.0f} req/s")

        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CORDEE_", "BENCH_"))}
        env.update(scratch.env, CORDEE_DATA_DIR=str(data_dir), CORDEE_BASE_URL=f"http://127.0.0.1:{port}")
        env["CORDEE_RATE_LIMITS"] = "off"  # a few sessions make thousands of requests a second
        argv = [sys.executable, "-m", "cordee.cli", "serve", "--port", str(port), "--workers", "1"]
        server = Server("cordee", argv, env, port, tmp / "cordee.log")
        servers.append(server)
        await server.wait_ready()
        await warm(server.base_url, [(graph.tokens[i], graph.account_ids[i]) for i in readers])
        for phase in args.phases:
            profiler = None
            if args.profile:
                args.profile.mkdir(parents=True, exist_ok=True)
                profiler = await asyncio.create_subprocess_exec(
                    *[_py_spy(), "record", "--nonblocking", "-p", str(server.pid), "-d", str(args.duration)],
                    *["-r", "200", "-f", "raw", "-o", str(args.profile / f"{phase}.txt")],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            figures = await asyncio.to_thread(
                wrk, server.base_url + "/", "web.lua", [str(readers_file), phase], CONNECTIONS, args.duration
            )
            if profiler is not None:
                async with asyncio.timeout(60):
                    await profiler.wait()
            report[phase] = figures
            say(
                f"{phase}: {figures['rps']:,.0f} req/s, p50 {figures['p50_ms']:.1f} ms, "
                f"p99 {figures['p99_ms']:.1f} ms, errors {figures['errors']}"
            )
        report["rss_end_mb"] = rss_mb(server.pid)
        report["problems"] = server.log_problems()
    finally:
        for s in servers:
            s.stop()
        await close_scratch(scratch)
    return report


def table(report: dict[str, Any]) -> str:
    ceiling = report["ceiling"]
    rows = report["rows"]
    lines = [
        f"Graph `{report['size']}` ({rows.get('accounts', 0):,} accounts, {rows.get('follows', 0):,} "
        f"follows, {rows.get('statuses', 0):,} notes), {report['store']}, one server process, "
        f"{CONNECTIONS} connections.",
        "",
        "| phase | req/s | % of ceiling | p50 ms | p90 ms | p99 ms | non-2xx | socket errors |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for phase in ("ceiling", *PHASES):
        f = report.get(phase)
        if not f:
            continue
        lines.append(
            f"| {phase} | {f['rps']:,.0f} | {100 * f['rps'] / ceiling['rps']:.1f} % | {f['p50_ms']:.1f} "
            f"| {f['p90_ms']:.1f} | {f['p99_ms']:.1f} | {f['non2xx']} | {f['socket_errors']} |"
        )
    lines += ["", f"Server RSS at the end: {report['rss_end_mb']:.0f} MiB."]
    if report.get("problems"):
        lines.append("Server log problems: " + "; ".join(report["problems"]))
    return "\n".join(lines) + "\n"


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.web", description=__doc__.split("\n\n")[0])
    p.add_argument("--size", choices=sorted(SIZES), default="reed98", help="graph size (default reed98)")
    p.add_argument("--duration", type=int, default=10, help="seconds per phase (default 10)")
    p.add_argument("--phases", default=",".join(PHASES), help="comma-separated phases to run")
    p.add_argument("--readers", type=int, default=200, help="accounts sampled as readers (default 200)")
    p.add_argument("--postgres", action="store_true", help="PostgreSQL + Redis instead of SQLite")
    p.add_argument("--seed", type=int, default=2009)
    p.add_argument("--markdown", type=Path, help="append the table to this file")
    p.add_argument("--profile", type=Path, help="record each phase with py-spy (raw stacks) in this folder")
    args = p.parse_args(argv)
    args.phases = [x for x in args.phases.split(",") if x]
    unknown = set(args.phases) - set(PHASES)
    if unknown:
        p.error(f"unknown phases: {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if shutil.which("wrk") is None:
        print("bench.web needs wrk (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    raise_fd_limit()
    tmp = Path(tempfile.mkdtemp(prefix="cordee-web-"))
    try:
        report = asyncio.run(bench(args, tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    text = table(report)
    print(text)
    if args.markdown:
        with args.markdown.open("a") as out:
            out.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
