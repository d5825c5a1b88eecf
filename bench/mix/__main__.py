"""The read/write benchmark: ``python -m bench.mix`` (``--help`` for the options).

Seeds a generated social graph (``graph.py``) through the bulk path, starts ``cordee serve`` on it,
reads every sampled home timeline once (the feeds exist, as on a live instance), then drives it with
wrk on loopback, phase by phase, and does the same to a bare Starlette app (``ceiling.py``) in the
same run. Prints a markdown table; ``--markdown FILE`` appends it to a file.

Phases (each ``--duration`` seconds, wrk with 2 threads):

- ``ceiling``: the bare app, ``GET /``, 32 connections (with ``--server granian``, also the bare app
  on granian);
- ``instance``: ``GET /api/v1/instance``, 32 connections;
- ``home1``: one reader's home timeline, 16 connections;
- ``home``: random readers' home timelines, 32 connections;
- ``account``: random accounts' statuses read by random readers, 32 connections;
- ``mix``: DeathStarBench's social-network mix (60 % home, 30 % account, 10 % posts), 32 connections;
- ``apps``: what client apps read besides the home page, in turns by random readers: notifications,
  a home poll with ``min_id`` (nothing new), the public timeline and a hashtag's, 32 connections
  (not in the default phases);
- ``post``: posts only, by accounts whose follower counts average about ``--fanout`` (126 by
  default, Twitter's 2009 average), 32 connections;
- ``follow``: follows of random accounts by random accounts, 32 connections (the writes' phases
  with ``--write-connections N``: N).

Then, with ``--open-rates 100,200,400``, the mix as an **open loop** at each of those rates
(``openloop.py``: requests sent on schedule, latency counted from when each was due); with
``--closed-kinds``, the mix as a closed loop of 32 connections from the same Python client, which
tells each kind's latency (wrk cannot say which requests were the slow ones).

Every figure counts non-2xx answers and socket errors: a fast run full of errors is worthless.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import httpx

from bench.mix import openloop
from bench.mix.graph import SIZES, Graph, generate, load
from bench.stores import close_scratch, open_scratch
from bench.streaming.procs import (
    ROOT,
    Server,
    cpu_seconds,
    cpu_since,
    free_port,
    named_cpu_seconds,
    raise_fd_limit,
    rss_tree_mb,
)
from cordee.ratelimit import RULES

WRK_DIR = Path(__file__).resolve().parent / "wrk"
PHASES = ("instance", "home1", "home", "account", "mix", "post", "follow", "apps")
#: Run when ``--phases`` is not given (``apps`` only when asked: its figures are for the reads
#: apps make beside the issue's mix).
DEFAULT_PHASES = PHASES[:-1]
CONNECTIONS = {"home1": 16}


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def wrk(
    url: str, script: str, args: list[str], connections: int, seconds: int, post_suffix: str = ""
) -> dict[str, Any]:
    """One wrk run; returns its figures (requests/s, latency percentiles, errors). ``post_suffix``:
    what every post ends with (``--post-suffix``)."""
    argv = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(WRK_DIR / script), url]
    env = {**os.environ, "BENCH_POST_SUFFIX": quote_plus(" " + post_suffix) if post_suffix else ""}
    out = subprocess.run(
        [*argv, "--", *args], capture_output=True, text=True, timeout=seconds + 60, check=False, env=env
    )
    line = next((x for x in out.stdout.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no figures: {out.stdout[-2000:]} {out.stderr[-2000:]}")
    figures: dict[str, Any] = json.loads(line[6:])
    figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
    figures["errors"] = figures["non2xx"] + figures["socket_errors"]
    return figures


async def warm(base_url: str, readers: list[tuple[str, int]], concurrency: int = 8) -> int:
    """Read each reader's home timeline and own first page once, as a live instance would have
    (builds the feeds, renders the notes); returns how many answered 200."""
    queue = list(readers)
    ok = 0

    async def worker(http: httpx.AsyncClient) -> None:
        nonlocal ok
        while queue:
            token, account_id = queue.pop()
            headers = {"Authorization": f"Bearer {token}"}
            r = await http.get("/api/v1/timelines/home?limit=20", headers=headers)
            ok += r.status_code == 200
            await http.get(f"/api/v1/accounts/{account_id}/statuses?limit=20", headers=headers)

    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
    return ok


def _py_spy() -> str:
    """py-spy from this environment (``pip install -e '.[bench]'``), else from the PATH."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else "py-spy"


def connections_for(phase: str, args: argparse.Namespace) -> int:
    """wrk's connections for a phase: the writes' own with ``--write-connections``."""
    if phase in ("post", "follow") and args.write_connections:
        return int(args.write_connections)
    return CONNECTIONS.get(phase, 32)


def write_accounts(path: Path, graph: Graph, indexes: list[int]) -> None:
    path.write_text("".join(f"{graph.tokens[i]} {graph.account_ids[i]}\n" for i in indexes))


def posters_near(graph: Graph, fanout: int, count: int = 50) -> list[int]:
    """``count`` accounts whose follower counts average ``fanout`` as closely as the graph allows:
    the nearest above it and below it, taken from whichever side brings the average nearer. (The
    ``count`` nearest alone averaged about 93 for 126 on reed98: a 1/rank popularity has few accounts
    near 126 followers and many below.)"""
    followers = graph.followers_of()
    everyone = range(len(graph.usernames))
    above = sorted((i for i in everyone if followers.get(i, 0) >= fanout), key=lambda i: followers.get(i, 0))
    below = sorted((i for i in everyone if followers.get(i, 0) < fanout), key=lambda i: -followers.get(i, 0))
    chosen: list[int] = []
    total = 0

    def gap(side: list[int], total: int, size: int) -> float:
        """How far the average would be from ``fanout`` with the next account of ``side``."""
        return abs((total + followers.get(side[0], 0)) / size - fanout) if side else float("inf")

    while len(chosen) < count and (above or below):
        size = len(chosen) + 1
        side = above if gap(above, total, size) <= gap(below, total, size) else below
        chosen.append(side.pop(0))
        total += followers.get(chosen[-1], 0)
    return chosen


async def bench(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    from sqlalchemy.ext.asyncio import create_async_engine

    from cordee.db.migrate import upgrade

    report: dict[str, Any] = {
        "size": args.size,
        "store": "PostgreSQL + Redis" if args.postgres else "SQLite",
        "server": args.server,
        "post_suffix": args.post_suffix,
    }
    data_dir = tmp / "data"
    data_dir.mkdir(parents=True)
    scratch = await open_scratch(data_dir, postgres=args.postgres, redis=args.postgres)
    url, env = scratch.url, scratch.env
    servers: list[Server] = []
    try:
        started = time.monotonic()
        await asyncio.to_thread(upgrade, url)
        graph = generate(*SIZES[args.size], seed=args.seed)
        engine = create_async_engine(url)
        try:
            report["rows"] = await load(engine, graph)
        finally:
            await engine.dispose()
        report["seed_seconds"] = time.monotonic() - started
        say(f"seeded {report['rows']} in {report['seed_seconds']:.1f} s")

        rng = random.Random(args.seed)
        everyone = list(range(len(graph.usernames)))
        readers = everyone if len(everyone) <= args.readers else rng.sample(everyone, args.readers)
        readers_file, posters_file = tmp / "readers.txt", tmp / "posters.txt"
        write_accounts(readers_file, graph, readers)
        posters = posters_near(graph, args.fanout)
        write_accounts(posters_file, graph, posters)
        followers = graph.followers_of()
        report["post_fanout"] = sum(followers.get(i, 0) for i in posters) / len(posters)

        # The ceiling the targets are measured against: bare Starlette on uvicorn. With ``--server
        # granian``, also the same bare app on granian: what that server alone gains.
        for ceiling_name in ["ceiling"] + (["ceiling_granian"] if args.server == "granian" else []):
            argv_ceiling = [sys.executable, "-m", "bench.mix.ceiling", "--port", str(port := free_port())]
            if ceiling_name == "ceiling_granian":
                argv_ceiling.append("--granian")
            ceiling = Server(
                ceiling_name,
                argv_ceiling,
                {**os.environ, "PYTHONPATH": str(ROOT)},
                port,
                tmp / f"{ceiling_name}.log",
            )
            servers.append(ceiling)
            await ceiling.wait_ready()
            report[ceiling_name] = wrk(
                ceiling.base_url + "/", "one.lua", [str(readers_file), "get"], 32, args.duration
            )
            report[ceiling_name]["rss_mb"] = rss_tree_mb(ceiling.pid)[0]
            ceiling.stop()
            say(f"{ceiling_name}: {report[ceiling_name]['rps']:,.0f} req/s")

        port = free_port()
        server_env = {k: v for k, v in os.environ.items() if not k.startswith(("CORDEE_", "BENCH_"))}
        server_env.update(env, CORDEE_DATA_DIR=str(data_dir), CORDEE_BASE_URL=f"http://127.0.0.1:{port}")
        if args.python_gc:
            server_env["CORDEE_GC_THRESHOLD"] = ""
        elif args.gc_threshold:
            server_env["CORDEE_GC_THRESHOLD"] = args.gc_threshold
        # A few readers' tokens make thousands of requests a second: the figures measure the server,
        # not its 429s. ``--rate-limits`` keeps them on with each limit far above the load.
        if args.rate_limits:
            server_env["CORDEE_RATE_LIMITS_CUSTOM"] = ",".join(f"{n}=1000000000/300" for n in RULES)
        else:
            server_env["CORDEE_RATE_LIMITS"] = "off"
        argv = [
            sys.executable,
            "-m",
            "cordee.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
        ]
        if args.server != "uvicorn":  # the default named only when changed: older trees run in turns
            argv += ["--server", args.server]
        server = Server("cordee", argv, server_env, port, tmp / "cordee.log")
        servers.append(server)
        await server.wait_ready()
        await asyncio.sleep(1)
        report["rss_idle_mb"] = rss_tree_mb(server.pid)[0]
        t0 = time.monotonic()
        report["warmed"] = await warm(
            server.base_url, [(graph.tokens[i], graph.account_ids[i]) for i in readers]
        )
        say(f"warmed {report['warmed']} home timelines in {time.monotonic() - t0:.1f} s")
        for phase in args.phases:
            kind_file = posters_file if phase == "post" else readers_file
            script, extra_args = ("mix.lua", []) if phase == "mix" else ("one.lua", [phase])
            path = "/api/v1/instance" if phase == "instance" else "/"
            profiler = None
            if args.profile:
                args.profile.mkdir(parents=True, exist_ok=True)
                # ``--subprocesses``: the workers of ``--workers`` or of granian run the application.
                profile_argv = [_py_spy(), "record", "--nonblocking", "--subprocesses", "-p", str(server.pid)]
                profile_argv += ["-d", str(args.duration), "-r", "200", "-f", "raw"]
                profile_argv += ["-o", str(args.profile / f"{phase}.txt")]
                profiler = await asyncio.create_subprocess_exec(
                    *profile_argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
            wrk_args = [str(kind_file), *extra_args] if phase != "instance" else [str(kind_file), "get"]
            started = time.monotonic()
            stores = STORES if args.postgres else {}  # SQLite runs in the server
            server_before = cpu_seconds(server.pid)
            stores_before = {key: named_cpu_seconds(names) for key, names in stores.items()}
            figures = await asyncio.to_thread(
                wrk,
                server.base_url + path,
                script,
                wrk_args,
                connections_for(phase, args),
                args.duration,
                args.post_suffix,
            )
            figures["connections"] = connections_for(phase, args)
            figures["window"] = (started, time.monotonic())
            # CPU a request, the server's (all its processes) and the stores': unlike the rate, it
            # does not depend on how many cores are left (scaling: the same cost with 2 workers).
            requests = max(figures["requests"], 1)
            figures["cpu_us"] = (cpu_seconds(server.pid) - server_before) / requests * 1e6
            for key, names in stores.items():
                figures[key] = cpu_since(stores_before[key], named_cpu_seconds(names)) / requests * 1e6
            if profiler is not None:
                async with asyncio.timeout(60):
                    await profiler.wait()
            report[phase] = figures
            say(
                f"{phase}: {figures['rps']:,.0f} req/s, p50 {figures['p50_ms']:.1f} ms, "
                f"p99 {figures['p99_ms']:.1f} ms, errors {figures['errors']}"
            )
        accounts = [(graph.tokens[i], str(graph.account_ids[i])) for i in readers]
        report["open"] = []
        for rate in args.open_rates:
            figures = await openloop.run(server.base_url, accounts, rate, args.duration, args.seed)
            report["open"].append(figures)
            say(
                f"open loop at {rate:,.0f}/s: {figures['rps']:,.0f} req/s answered 2xx, "
                f"p50 {figures['p50_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms"
            )
        if args.closed_kinds:
            figures = await openloop.closed(server.base_url, accounts, 32, args.duration, args.seed)
            report["closed"] = figures
            say(
                f"closed loop (Python client): {figures['rps']:,.0f} req/s, p50 {figures['p50_ms']:.1f} ms, "
                f"p99 {figures['p99_ms']:.1f} ms"
            )
        report["rss_end_mb"] = rss_tree_mb(server.pid)[0]
        report["problems"] = server.log_problems()
        await asyncio.sleep(0.6)  # the probe writes its record every half second
        gc_pauses(report, server.gc_stats())
    finally:
        for s in servers:
            s.stop()
        if args.keep:  # the stores too, named in the folder, for ``bench.inprocess``
            (tmp / "store.env").write_text("".join(f"{k}={v}\n" for k, v in env.items()))
        else:
            await close_scratch(scratch)
    return report


#: The stores' processes, whose CPU a request is reported beside the server's.
STORES = {"postgres_cpu_us": frozenset({"postgres"}), "redis_cpu_us": frozenset({"redis-server"})}


def gc_pauses(report: dict[str, Any], stats: dict[str, Any]) -> None:
    """Each phase's garbage-collector pauses of 10 ms or more (the probe's record, bench/streaming/
    probe): they stop every request in flight, and set the tail of a read-only phase."""
    for phase in PHASES:
        figures = report.get(phase)
        if not figures or not stats:
            continue
        start, end = figures["window"]
        pauses = [(ms, generation) for at, ms, generation in stats.get("pauses", ()) if start <= at <= end]
        longest = max(pauses, default=(0.0, None))
        figures["gc_pauses"], figures["gc_max_ms"], figures["gc_max_generation"] = len(pauses), *longest


def _longest(figures: dict[str, Any]) -> str:
    """The longest pause, and its generation (2: a full collection)."""
    generation = figures.get("gc_max_generation")
    return f"{figures.get('gc_max_ms', 0):.0f}" + (f", gen {generation}" if generation is not None else "")


def _cpu(figures: dict[str, Any]) -> str:
    """The server's CPU a request, and the stores' where they run apart (PostgreSQL, Redis)."""
    keys = ("cpu_us", *STORES)
    return " / ".join(f"{figures[key]:,.0f}" if key in figures else "—" for key in keys)


def table(report: dict[str, Any]) -> str:
    ceiling = report["ceiling"]["rps"]
    on_granian = report.get("ceiling_granian")
    lines = [
        f"Graph `{report['size']}` ({report['rows'].get('accounts', 0):,} accounts, "
        f"{report['rows'].get('follows', 0):,} follows, {report['rows'].get('statuses', 0):,} notes), "
        f"{report['store']}, Cordée on {report['server']}; ceiling (bare Starlette + uvicorn, same run): "
        f"{ceiling:,.0f} req/s, p99 {report['ceiling']['p99_ms']:.1f} ms"
        + (
            f"; the same bare app on granian: {on_granian['rps']:,.0f} req/s, "
            f"p99 {on_granian['p99_ms']:.1f} ms."
            if on_granian
            else "."
        ),
        "",
        "| phase | conns | req/s | % of ceiling | p50 ms | p99 ms | non-2xx | socket errors "
        "| GC pauses ≥ 10 ms (longest ms, generation) | CPU µs a request: server / PostgreSQL / Redis |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for phase in PHASES:
        f = report.get(phase)
        if not f:
            continue
        share = f"{100 * f['rps'] / ceiling:.1f} %"
        if on_granian:
            share += f" ({100 * f['rps'] / on_granian['rps']:.1f} % on granian)"
        lines.append(
            f"| {phase} | {f.get('connections', CONNECTIONS.get(phase, 32))} | {f['rps']:,.0f} | {share} "
            f"| {f['p50_ms']:.1f} | {f['p99_ms']:.1f} | {f['non2xx']} | {f['socket_errors']} "
            f"| {f.get('gc_pauses', '—')} ({_longest(f)}) "
            f"| {_cpu(f)} |"
        )
    if report.get("open"):
        lines += [
            "",
            "Open loop (the mix on a fixed schedule, latency from when each request was due):",
            "",
            "| offered req/s | answered 2xx req/s | p50 ms | p99 ms | non-2xx | socket errors or dropped "
            "| home p50 / p99 | account p50 / p99 | post p50 / p99 | client: cores, sent late |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for f in report["open"]:
            kinds = " | ".join(f"{p50:.1f} / {p99:.1f}" for p50, p99 in f["by_kind"].values())
            lines.append(
                f"| {f['offered']:,.0f} | {f['rps']:,.0f} | {f['p50_ms']:.1f} | {f['p99_ms']:.1f} "
                f"| {f['non2xx']} | {f['socket_errors']} | {kinds} "
                f"| {f['client_cpu']:.2f}, {f['sent_late']} |"
            )
    if report.get("closed"):
        f = report["closed"]
        kinds = " | ".join(f"{p50:.1f} / {p99:.1f}" for p50, p99 in f["by_kind"].values())
        lines += [
            "",
            "The mix as a closed loop from a Python client (as wrk, 32 connections; each kind's latency):",
            "",
            "| req/s | p50 ms | p99 ms | non-2xx | socket errors | home p50 / p99 | account p50 / p99 "
            "| post p50 / p99 | client cores |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
            f"| {f['rps']:,.0f} | {f['p50_ms']:.1f} | {f['p99_ms']:.1f} | {f['non2xx']} "
            f"| {f['socket_errors']} | {kinds} | {f['client_cpu']:.2f} |",
        ]
    lines += [
        "",
        f"Posts by accounts with {report['post_fanout']:.0f} followers on average"
        + (f", each ending with {report['post_suffix']!r}. " if report.get("post_suffix") else ". ")
        + f"Server RSS: {report['rss_idle_mb']:.0f} MiB idle, {report['rss_end_mb']:.0f} MiB at the end "
        f"(ceiling {report['ceiling']['rss_mb']:.0f} MiB). Seeding took {report['seed_seconds']:.0f} s.",
    ]
    if report.get("problems"):
        lines.append("Server log problems: " + "; ".join(report["problems"]))
    return "\n".join(lines) + "\n"


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.mix", description=__doc__.split("\n\n")[0])
    p.add_argument("--size", choices=sorted(SIZES), default="reed98", help="graph size (default reed98)")
    p.add_argument("--duration", type=int, default=10, help="seconds per phase (default 10)")
    p.add_argument("--phases", default=",".join(DEFAULT_PHASES), help="comma-separated phases to run")
    p.add_argument("--readers", type=int, default=1000, help="accounts sampled as readers (default 1000)")
    p.add_argument("--fanout", type=int, default=126, help="average followers of posting accounts")
    p.add_argument(
        "--write-connections",
        type=int,
        default=0,
        help="connections of the post and follow phases (default 32, as every phase): more writes in flight",
    )
    p.add_argument(
        "--open-rates", default="", help="comma-separated rates (req/s) for open-loop runs of the mix"
    )
    p.add_argument(
        "--closed-kinds",
        action="store_true",
        help="after the phases, the mix as a closed loop from a Python client, with each kind's latency",
    )
    p.add_argument(
        "--post-suffix",
        default="",
        help="what every post of wrk's post and mix phases ends with (e.g. '#soiree @u5')",
    )
    p.add_argument("--postgres", action="store_true", help="PostgreSQL + Redis instead of SQLite")
    p.add_argument("--workers", type=int, default=1, help="server processes (with --postgres)")
    p.add_argument(
        "--server",
        choices=["uvicorn", "granian"],
        default="uvicorn",
        help="cordee serve's HTTP server (with granian, the bare app is measured on it too)",
    )
    p.add_argument("--python-gc", action="store_true", help="Python's default GC thresholds in the server")
    p.add_argument(
        "--gc-threshold", help="the server's CORDEE_GC_THRESHOLD (e.g. 10000,10,10), to measure a tuning"
    )
    p.add_argument(
        "--rate-limits",
        action="store_true",
        help="count rate limits (figures far above the load) to cost them",
    )
    p.add_argument("--seed", type=int, default=2009)
    p.add_argument("--markdown", type=Path, help="append the table to this file")
    p.add_argument("--json", type=Path, help="write the raw figures to this file")
    p.add_argument("--profile", type=Path, help="record each phase with py-spy (raw stacks) in this folder")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (server logs)")
    args = p.parse_args(argv)
    args.phases = [x for x in args.phases.split(",") if x]
    args.open_rates = [float(x) for x in args.open_rates.split(",") if x.strip()]
    unknown = set(args.phases) - set(PHASES)
    if unknown:
        p.error(f"unknown phases: {', '.join(sorted(unknown))}")
    if args.workers > 1 and not args.postgres:
        p.error("--workers > 1 needs --postgres (SQLite has one writer)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if shutil.which("wrk") is None:
        print("bench.mix needs wrk (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    raise_fd_limit()
    tmp = Path(tempfile.mkdtemp(prefix="cordee-mix-"))
    try:
        report = asyncio.run(bench(args, tmp))
    finally:
        if args.keep:
            say(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    text = table(report)
    print(text)
    if args.markdown:
        with args.markdown.open("a") as out:
            out.write(text + "\n")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
