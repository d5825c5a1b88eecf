"""Streaming benchmark: post → stream delivery latency, events/s, memory, and the 100K-follower post.

    .venv/bin/python -m bench.streaming --streams 1000 --posters 20 --posts 200

One command: it seeds a fresh database (temporary directory; ``--postgres`` / ``--redis`` use the
local services with a database and key prefix of their own, removed afterwards), starts
``cordee serve`` on 127.0.0.1, opens ``--streams`` user streams from ``--clients`` client
processes, posts through the HTTP API and times every delivered frame. Then it does the same
against a bare Starlette/uvicorn broadcast server (``bench.streaming.baseline``) with the same
clients, graph and payload, and prints both with their ratios. See bench/README.md.

Phases, for each server:

1. connect every stream (user stream, subscribed by a ``subscribe`` message), then warm up;
2. *steady*: ``--posts`` notes at ``--rate`` notes/s (open loop, round-robin over the posters);
3. *burst*: ``--burst-posts`` notes as fast as the posters can (one closed loop per poster);
4. *big*: ``--big-posts`` times, a note by ``small`` (10 followers) then one by ``big``
   (``--big-followers`` followers, all N listeners among them): write time, and time until every
   open follower stream has it.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.stores import REDIS_URL, close_scratch, open_scratch
from bench.streaming.procs import (
    ClientProcess,
    Server,
    baseline_server,
    cordee_server,
    cpu_seconds,
    free_port,
    raise_fd_limit,
    rss_mb,
)
from bench.streaming.report import derive, render, say, say_results
from bench.streaming.seed import Graph, Member, build_graph, insert_graph, seed_redis_feeds

POLL_SECONDS = 0.05
MAX_IN_FLIGHT = 200  # steady phase: posts waiting for an answer before the schedule waits too


# -- measuring --------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of sorted ``values`` (NaN when empty)."""
    if not values:
        return float("nan")
    rank = max(1, min(len(values), int(-(-q * len(values) // 100))))
    return values[rank - 1]


def summary(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": values[-1] if values else float("nan"),
    }


@dataclass
class Run:
    """One server under test, its client processes and posting client."""

    server: Server
    graph: Graph
    args: argparse.Namespace
    #: With ``--streaming-node``: the process the streams connect to (the posts go to ``server``).
    streams_at: Server | None = None
    clients: list[ClientProcess] = field(default_factory=list)
    connected: set[int] = field(default_factory=set)  # listener account ids with an open stream
    http: httpx.AsyncClient | None = None
    results: dict[str, Any] = field(default_factory=dict)
    template: dict[str, Any] | None = None
    errors: list[str] = field(default_factory=list)

    def expected(self, author: Member) -> int:
        return sum(1 for a in author.followers if a in self.connected)

    async def post(self, author: Member, tag: str) -> tuple[float, float]:
        """Post one note; returns (send time, write time in ms)."""
        assert self.http is not None and author.token is not None
        sent = time.monotonic()
        response = await self.http.post(
            "/api/v1/statuses",
            json={"status": f"bench k={tag} t={sent:.6f}", "visibility": "public"},
            headers={"Authorization": f"Bearer {author.token}"},
        )
        took = (time.monotonic() - sent) * 1000
        if response.status_code != 200:
            self.errors.append(f"POST by {author.username}: {response.status_code} {response.text[:200]}")
        elif self.template is None:
            self.template = response.json()
        return sent, took

    async def stats(self) -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(c.ask({"cmd": "stats"}) for c in self.clients)))

    async def wait_for(self, expected: dict[str, int], seconds: float) -> dict[str, int]:
        """Wait until every tag has its expected number of frames (or ``seconds``); the counts."""
        deadline = time.monotonic() + seconds
        while True:
            stats = await self.stats()
            got = {tag: sum(s["counts"].get(tag, 0) for s in stats) for tag in expected}
            if all(got[t] >= n for t, n in expected.items()) or time.monotonic() > deadline:
                return got
            await asyncio.sleep(POLL_SECONDS)

    async def take(self, tag: str) -> tuple[list[float], float | None, float | None]:
        """Latency samples (ms) of a tag from every client, and its first and last receive time."""
        answers = await asyncio.gather(*(c.ask({"cmd": "take", "tag": tag}) for c in self.clients))
        latencies = [x for a in answers for x in a["latencies"]]
        firsts = [a["first"] for a in answers if a["first"] is not None]
        lasts = [a["last"] for a in answers if a["last"] is not None]
        return latencies, min(firsts, default=None), max(lasts, default=None)


async def connect(run: Run, tmp: Path) -> None:
    args, graph = run.args, run.graph
    pid = run.server.pid
    run.results["rss_idle_mb"] = rss_mb(pid)
    streaming = graph.listeners[: args.streams]  # the others follow and are followed, never connect
    slices = [streaming[i :: args.clients] for i in range(args.clients)]
    run.clients = [
        await ClientProcess.start(
            (run.streams_at or run.server).port,
            args.transport,
            [m.token or "" for m in part],
            tmp / f"{run.server.name}-tokens-{i}.txt",
            tmp / f"{run.server.name}-client-{i}.log",
            args.connect_concurrency,
            args.max_seconds,
        )
        for i, part in enumerate(slices)
        if part
    ]
    started = time.monotonic()
    answers = await asyncio.gather(*(c.ask({"cmd": "connect"}) for c in run.clients))
    seconds = time.monotonic() - started
    failed = {t for a in answers for t in a["failed"]}
    run.connected = {m.account_id for m in streaming if m.token not in failed}
    errors: dict[str, int] = {}
    for a in answers:
        for message, n in a["errors"].items():
            errors[message] = errors.get(message, 0) + n
    run.results.update(
        connected=len(run.connected),
        connect_seconds=seconds,
        connect_rate=len(run.connected) / seconds if seconds else float("nan"),
        connect_errors=errors,
    )


async def warm_up(run: Run) -> None:
    """A note by ``big`` (reaches every stream: all are subscribed once it arrived everywhere),
    then one by each poster; their samples are dropped."""
    graph = run.graph
    await run.post(graph.big, "w")
    got = await run.wait_for({"w": len(run.connected)}, run.args.timeout)
    if got["w"] < len(run.connected):
        run.errors.append(f"warm-up: {got['w']} of {len(run.connected)} streams got the first note")
    await asyncio.gather(*(run.post(p, "v") for p in graph.posters))
    await run.wait_for({"v": sum(run.expected(p) for p in graph.posters)}, run.args.timeout)
    await run.take("w")
    await run.take("v")


def _node_cpu(run: Run) -> float:
    return cpu_seconds(run.streams_at.pid) if run.streams_at is not None else float("nan")


async def steady(run: Run) -> None:
    args, posters = run.args, run.graph.posters
    pid = run.server.pid
    cpu0, node0, started = cpu_seconds(pid), _node_cpu(run), time.monotonic()
    tasks: list[asyncio.Task[tuple[float, float]]] = []
    in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
    for i in range(args.posts):
        at = started + i / args.rate
        delay = at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        await in_flight.acquire()
        task = asyncio.create_task(run.post(posters[i % len(posters)], "s"))
        task.add_done_callback(lambda _: in_flight.release())
        tasks.append(task)
    writes = [took for _, took in await asyncio.gather(*tasks)]
    expected = sum(run.expected(posters[i % len(posters)]) for i in range(args.posts))
    got = (await run.wait_for({"s": expected}, args.timeout))["s"]
    latencies, _, last = await run.take("s")
    ended = last or time.monotonic()
    run.results["steady"] = {
        "posts": args.posts,
        "offered_rate": args.rate,
        "expected": expected,
        "delivered": got,
        "latency": summary(latencies),
        "write": summary(writes),
        "events_per_s": got / (ended - started),
        "server_cpu": (cpu_seconds(pid) - cpu0) / (time.monotonic() - started),
        "streaming_node_cpu": (_node_cpu(run) - node0) / (time.monotonic() - started),
        "window": [started, time.monotonic()],
    }


async def burst(run: Run) -> None:
    args, posters = run.args, run.graph.posters
    pid = run.server.pid
    shares = [
        args.burst_posts // len(posters) + (1 if j < args.burst_posts % len(posters) else 0)
        for j in range(len(posters))
    ]
    writes: list[float] = []

    async def worker(poster: Member, count: int) -> None:
        for _ in range(count):
            writes.append((await run.post(poster, "b"))[1])

    cpu0, node0, started = cpu_seconds(pid), _node_cpu(run), time.monotonic()
    await asyncio.gather(*(worker(p, n) for p, n in zip(posters, shares, strict=True)))
    posted = time.monotonic()
    expected = sum(run.expected(p) * n for p, n in zip(posters, shares, strict=True))
    got = (await run.wait_for({"b": expected}, args.timeout))["b"]
    latencies, _, last = await run.take("b")
    ended = last or time.monotonic()
    run.results["burst"] = {
        "posts": args.burst_posts,
        "expected": expected,
        "delivered": got,
        "latency": summary(latencies),
        "write": summary(writes),
        "posts_per_s": args.burst_posts / (posted - started),
        "events_per_s": got / (ended - started),
        "server_cpu": (cpu_seconds(pid) - cpu0) / (time.monotonic() - started),
        "streaming_node_cpu": (_node_cpu(run) - node0) / (time.monotonic() - started),
        "window": [started, time.monotonic()],
    }


async def big_and_small(run: Run) -> None:
    graph, args = run.graph, run.args
    small_writes: list[float] = []
    big_writes: list[float] = []
    reach_all: list[float] = []
    reach_p50: list[float] = []
    incomplete = 0
    started = time.monotonic()
    for r in range(args.big_posts):
        _, took = await run.post(graph.small, f"x{r}")
        small_writes.append(took)
        await run.wait_for({f"x{r}": run.expected(graph.small)}, args.timeout)
        await run.take(f"x{r}")
        _, took = await run.post(graph.big, f"B{r}")
        big_writes.append(took)
        want = run.expected(graph.big)
        got = (await run.wait_for({f"B{r}": want}, args.timeout))[f"B{r}"]
        latencies, _, _ = await run.take(f"B{r}")
        if got < want:
            incomplete += 1
        latencies.sort()
        reach_all.append(latencies[-1] if latencies else float("nan"))
        reach_p50.append(percentile(latencies, 50))
    run.results["big"] = {
        "posts": args.big_posts,
        "followers": len(graph.big.followers) + len(graph.fillers),
        "open_follower_streams": run.expected(graph.big),
        "small_write": summary(small_writes),
        "big_write": summary(big_writes),
        "reach_all": summary(reach_all),
        "reach_p50": summary(reach_p50),
        "incomplete": incomplete,
        "window": [started, time.monotonic()],
    }


def gc_summary(run: Run) -> None:
    """The server's garbage-collector pauses (from the probe), overall and in each phase."""
    stats = run.server.gc_stats()
    if not stats:
        return
    run.results["gc"] = {
        "threshold": stats["threshold"],
        "full_collections": stats["collections"][2],
        "full_max_ms": stats["max_ms"][2],
        "pause_total_ms": sum(stats["total_ms"]),
    }
    for phase in ("steady", "burst", "big"):
        window = run.results.get(phase, {}).get("window")
        if window is None:
            continue
        pauses = [ms for at, ms, _ in stats["pauses"] if window[0] <= at <= window[1]]
        run.results[phase]["gc_pauses"] = len(pauses)
        run.results[phase]["gc_max_ms"] = max(pauses, default=0.0)


async def measure(run: Run, tmp: Path) -> None:
    """Every phase against one server; the clients are stopped whatever happens."""
    pid = run.server.pid
    try:
        async with httpx.AsyncClient(
            base_url=run.server.base_url,
            timeout=httpx.Timeout(60.0),
            limits=httpx.Limits(max_connections=len(run.graph.posters) + 8),
        ) as http:
            run.http = http
            await connect(run, tmp)
            await warm_up(run)
            run.results["rss_connected_mb"] = rss_mb(pid)
            await steady(run)
            await burst(run)
            await big_and_small(run)
            run.results["rss_end_mb"] = rss_mb(pid)
            if run.streams_at is not None:
                run.results["streaming_node_rss_end_mb"] = rss_mb(run.streams_at.pid)
            stats = await run.stats()
            closed: dict[str, int] = {}
            for s in stats:
                for reason, n in s["closed"].items():
                    closed[reason] = closed.get(reason, 0) + n
            run.results.update(
                open_at_end=sum(s["open"] for s in stats),
                closed=closed,
                client_cpu_seconds=sum(s["cpu"] for s in stats),
            )
    finally:
        run.http = None
        gc_summary(run)
        await asyncio.gather(*(c.stop() for c in run.clients), return_exceptions=True)
        run.results["errors"] = run.errors + run.server.log_problems()


# -- the stores -------------------------------------------------------------------------------------


# -- the run ----------------------------------------------------------------------------------------


async def bench(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    from cordee.config import load_settings
    from cordee.db.migrate import upgrade

    report: dict[str, Any] = {"targets": {}}
    data_dir = tmp / "data"
    data_dir.mkdir(parents=True)
    scratch = await open_scratch(data_dir, postgres=args.postgres, redis=args.redis)
    url, env, redis_prefix = scratch.url, scratch.env, scratch.redis_prefix or ""
    server: Server | None = None
    try:
        started = time.monotonic()
        await asyncio.to_thread(upgrade, url)
        graph = build_graph(args.listeners, args.posters, args.follows, args.big_followers, args.seed)
        report["rows"] = await insert_graph(url, graph)
        if args.redis:
            settings = load_settings()
            await seed_redis_feeds(
                REDIS_URL,
                redis_prefix,
                (m.account_id for m in graph.members()),
                settings.feed_inactive_days * 86400,
            )
        report["seed_seconds"] = time.monotonic() - started
        say(f"seeded {report['rows']} in {report['seed_seconds']:.1f} s")

        if not args.no_cordee:
            server = cordee_server(
                free_port(), data_dir, tmp / "cordee.log", env, args.gc_threshold, args.server
            )
            await server.wait_ready()
            say(f"cordee serve on port {server.port} (pid {server.pid}); connecting {args.streams} streams")
            node: Server | None = None
            if args.streaming_node:
                # A second ``cordee serve`` on the same database and Redis, the streams' only server:
                # docs/deployment.md's streaming nodes. Events reach it over the Redis bus.
                node = cordee_server(
                    free_port(), data_dir, tmp / "cordee-streaming.log", env, args.gc_threshold, args.server
                )
                node.name = "cordee-streaming"
                await node.wait_ready()
                say(f"streaming node on port {node.port} (pid {node.pid})")
            run = Run(server, graph, args, streams_at=node)
            try:
                await measure(run, tmp)
            finally:
                server.stop()
                server = None
                if run.streams_at is not None:
                    run.streams_at.stop()
            report["targets"]["cordee"] = run.results
            template = run.template
            say_results("cordee", run.results)
        else:
            template = None

        if not args.no_baseline:
            graph_file = tmp / "graph.json"
            graph_file.write_bytes(orjson.dumps(graph.to_json()))
            template_file = None
            if template is not None:
                template_file = tmp / "template.json"
                template_file.write_bytes(orjson.dumps(template))
            server = baseline_server(
                free_port(), graph_file, template_file, tmp / "baseline.log", args.gc_threshold
            )
            await server.wait_ready()
            say(f"baseline on port {server.port} (pid {server.pid}); connecting {args.streams} streams")
            run = Run(server, graph, args)
            try:
                await measure(run, tmp)
            finally:
                server.stop()
                server = None
            report["targets"]["baseline"] = run.results
            say_results("baseline", run.results)
    finally:
        if server is not None:
            server.stop()
        await close_scratch(scratch)
    return report


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.streaming",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--streams", type=int, default=1000, help="open user streams (one account each)")
    p.add_argument(
        "--listeners",
        type=int,
        default=None,
        help="accounts that follow the posters (default: --streams); the first --streams of them stream."
        " Set it to compare open streams on the same graph: a post's fan-out grows with its followers",
    )
    p.add_argument("--posters", type=int, default=20, help="posting accounts")
    p.add_argument("--follows", type=int, default=5, help="posters each listener follows")
    p.add_argument("--posts", type=int, default=200, help="notes in the steady phase")
    p.add_argument("--rate", type=float, default=10.0, help="notes/s in the steady phase")
    p.add_argument(
        "--burst-posts", type=int, default=None, help="notes in the burst phase (default: --posts)"
    )
    p.add_argument("--big-followers", type=int, default=100_000, help="followers of the big account")
    p.add_argument("--big-posts", type=int, default=5, help="big (and small) notes")
    p.add_argument("--clients", type=int, default=2, help="client processes holding the streams")
    p.add_argument("--transport", choices=("ws", "sse"), default="ws")
    p.add_argument(
        "--connect-concurrency", type=int, default=50, help="handshakes under way per client process"
    )
    p.add_argument(
        "--postgres", action="store_true", help="PostgreSQL at 127.0.0.1:5432 (a database of its own)"
    )
    p.add_argument("--redis", action="store_true", help="Redis at 127.0.0.1:6379 (a key prefix of its own)")
    p.add_argument(
        "--streaming-node",
        action="store_true",
        help="streams on a second cordee serve process (needs --redis), posts on the first",
    )
    p.add_argument(
        "--server",
        choices=("uvicorn", "granian"),
        default="uvicorn",
        help="Cordée's HTTP server (`cordee serve --server`)",
    )
    p.add_argument("--no-baseline", action="store_true", help="skip the bare Starlette baseline")
    p.add_argument("--no-cordee", action="store_true", help="only the baseline")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for a phase's deliveries")
    p.add_argument("--max-seconds", type=float, default=3600.0, help="the whole run stops after this")
    p.add_argument(
        "--gc-threshold",
        help="call gc.set_threshold(A, B, C) in both servers (e.g. 50000,20,100), to measure a tuning",
    )
    p.add_argument("--seed", type=int, default=1, help="random seed of the follow graph")
    p.add_argument("--json", type=Path, help="also write the raw results here")
    p.add_argument("--markdown", type=Path, help="append the results (markdown) to this file")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, database)")
    args = p.parse_args(argv)
    if args.burst_posts is None:
        args.burst_posts = args.posts
    if args.listeners is None:
        args.listeners = args.streams
    if args.listeners < args.streams:
        p.error("--listeners must be at least --streams (each stream is a listener's)")
    for name in ("streams", "posters", "follows", "posts", "burst_posts", "big_posts", "clients"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.rate <= 0:
        p.error("--rate must be positive")
    if args.streaming_node and not args.redis:
        p.error("--streaming-node needs --redis: events reach the streaming node over the Redis bus")
    if args.gc_threshold is not None:
        parts = args.gc_threshold.split(",")
        if not 1 <= len(parts) <= 3 or not all(x.strip().isdigit() for x in parts):
            p.error("--gc-threshold takes one to three whole numbers, e.g. 50000,20,100")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    command = ".venv/bin/python -m bench.streaming " + shlex.join(sys.argv[1:] if argv is None else argv)
    limit = raise_fd_limit()
    if args.streams + 1000 > limit:
        say(f"warning: the open-file limit is {limit}; {args.streams} streams may not all open")
    tmp = Path(tempfile.mkdtemp(prefix="cordee-bench-"))
    say(f"work directory {tmp}")
    try:
        report = asyncio.run(asyncio.wait_for(bench(args, tmp), args.max_seconds))
    except BaseException:
        say(f"failed; logs are in {tmp}")
        args.keep = True
        raise
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    derive(report)
    text = render(report, args, command)
    print(text)
    if args.json:
        args.json.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    if args.markdown:
        with args.markdown.open("a") as f:
            f.write("\n" + text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
