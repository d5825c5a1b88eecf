"""Campaign night: 200 chapters' walls live while attendees post and tickets and raffles sell.

    .venv/bin/python -m bench.campaign_night                  # the issue's sizes, SQLite
    .venv/bin/python -m bench.campaign_night --postgres       # PostgreSQL + Redis (their own DB/keys)

One command: seeds a fresh database (``seed.py``: accounts through ``bench.mix``'s bulk path, the
campaign, chapters, tiers and raffles through the actions), starts ``cordee serve`` on 127.0.0.1,
opens every chapter's wall and the campaign's thermometer as venue screens do (``walls.py``, its
own process), then over HTTP (``night.py``): a steady posting rate, a burst of ``--burst-factor``×
that rate, steady again, with ticket, RSVP and raffle sales throughout and an organiser hiding
notes from one wall. At the end it checks that every acknowledged note reached every wall it
should (posts lost must be 0) and that every chapter's and the campaign's totals, from the API and
from the live thermometer and walls, equal the sums the bench computed from its own answers
(must be exact). Then the same walls and posting schedule against the bare Starlette baseline of
``bench.streaming`` (no database, no sales): the same-run floor for the delivery latency.
Exits 1 when a post was lost or a total is off.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import resource
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from bench.campaign_night import report
from bench.campaign_night.night import PHASES, Load
from bench.campaign_night.seed import Night, seed
from bench.stores import close_scratch, open_scratch
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
from bench.streaming.report import machine, say

POLL_SECONDS = 0.1


async def _get(http: aiohttp.ClientSession, path: str) -> Any:
    async with http.get(path) as response:
        response.raise_for_status()
        return orjson.loads(await response.read())


def _own_cpu() -> float:
    """This process's CPU time (the posting and selling client)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def screens(night: Night) -> list[dict[str, Any]]:
    """Every chapter's wall (index = chapter), then the campaign's thermometer."""
    walls: list[dict[str, Any]] = [
        {
            "page": f"/chapters/{c.chapter_id}/wall",
            "stream": f"/chapters/{c.chapter_id}/wall/stream",
            "notes": f"/chapters/{c.chapter_id}/wall/notes",
        }
        for c in night.chapters
    ]
    campaign = night.campaign_id
    return walls + [{"page": f"/campaigns/{campaign}", "stream": f"/campaigns/{campaign}/stream"}]


async def wait_for(walls: ClientProcess, done: Any, seconds: float) -> dict[str, Any]:
    """Poll the screens' stats until ``done(stats)`` or ``seconds``; the last stats."""
    deadline = time.monotonic() + seconds
    while True:
        stats: dict[str, Any] = await walls.ask({"cmd": "stats"})
        if done(stats) or time.monotonic() > deadline:
            return stats
        await asyncio.sleep(POLL_SECONDS)


async def measure(
    server: Server, night: Night, args: argparse.Namespace, tmp: Path, baseline: bool
) -> dict[str, Any]:
    name = server.name
    walls_file = tmp / f"{name}-walls.json"
    walls_file.write_bytes(orjson.dumps(screens(night)))
    argv = ["--port", str(server.port), "--walls", str(walls_file), "--deadline", str(args.max_seconds)]
    walls = await ClientProcess.spawn("bench.campaign_night.walls", argv, tmp / f"{name}-walls.log")
    result: dict[str, Any] = {"cpu": {}, "client_cpu": {}, "seconds": {}}
    try:
        async with aiohttp.ClientSession(
            base_url=server.base_url,
            timeout=aiohttp.ClientTimeout(total=args.timeout),
            # Idle connections are dropped before uvicorn's 5 s keep-alive ends: reusing one the
            # server is closing is reset (one sale of 200 failed so in a run).
            connector=aiohttp.TCPConnector(limit=args.connections, keepalive_timeout=2),
        ) as http:
            connected = await walls.ask({"cmd": "connect"})
            say(f"{name}: {connected['connected']} screens open in {connected['seconds']:.1f} s")
            load = Load(http, night, args, sales=not baseline)
            # Warm-up: one note with the campaign's tag reaches every wall once all are listening.
            await load.post("w", night.chapters[0], True, "warm-up")
            await wait_for(walls, lambda s: s["updates"] >= len(night.chapters), args.timeout)
            await walls.ask({"cmd": "take"})
            load.posts.clear()
            stop = asyncio.Event()
            sales = asyncio.create_task(load.sales_loop(stop))
            rates = (args.rate, args.rate * args.burst_factor, args.rate)
            seconds = (args.steady_seconds, args.burst_seconds, args.steady_seconds)
            for phase, rate, span in zip(PHASES, rates, seconds, strict=True):
                cpu0, own0, t0 = cpu_seconds(server.pid), _own_cpu(), time.monotonic()
                await load.posts_phase(phase, rate, span)
                took = time.monotonic() - t0
                result["cpu"][phase] = (cpu_seconds(server.pid) - cpu0) / took
                result["client_cpu"][phase] = (_own_cpu() - own0) / took
                result["seconds"][phase] = took
                say(f"{name}: {phase} done ({len(load.posts)} posts so far, {len(load.sales)} sales)")
            stop.set()
            await sales
            await load.finish()
            expected = sum(len(night.chapters) if p.campaign else 1 for p in load.posts.values() if p.acked)
            chapters, by_currency = report.expected_totals(night, load)
            home = by_currency.get(night.currency, 0)
            walls_n = len(night.chapters)

            def settled(s: dict[str, Any]) -> bool:
                """Every expected frame, and every screen showing the last totals (or the timeout)."""
                if s["updates"] < expected:
                    return False
                shown = [t or 0 for t in s["chapter_totals"][:walls_n]]
                return baseline or (
                    [t or 0 for t in s["campaign_totals"]] == [home] * (walls_n + 1) and shown == chapters
                )

            stats = await wait_for(walls, settled, args.timeout)
            taken = await walls.ask({"cmd": "take"})
            result.update(
                screens_open=stats["open"],
                screens_closed=stats["closed"],
                screens_errors=stats["errors"],
                reconnects=stats["reconnects"],
                events=stats["events"],
                walls_cpu_seconds=stats["cpu"],
                rss_end_mb=rss_mb(server.pid),
                deliveries=report.deliveries(load, walls_n, taken),
                errors=load.errors,
            )
            if not baseline:
                result["sales"] = report.sales(load)
                chapters = [
                    (await _get(http, f"/api/v1/chapters/{c.chapter_id}/totals"))["raised_cents"]
                    for c in night.chapters
                ]
                campaign = await _get(http, f"/api/v1/campaigns/{night.campaign_id}/totals")
                result["totals"] = report.check_totals(night, load, chapters, campaign, stats)
    finally:
        await walls.stop()
        result["server_problems"] = server.log_problems()
    return result


async def bench(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    from cordee.db.engine import Database
    from cordee.db.migrate import upgrade

    out: dict[str, Any] = {}
    data_dir = tmp / "data"
    data_dir.mkdir(parents=True)
    scratch = await open_scratch(data_dir, postgres=args.postgres, redis=args.postgres)
    server: Server | None = None
    try:
        started = time.monotonic()
        await asyncio.to_thread(upgrade, scratch.url)
        db = Database(scratch.url)
        try:
            night = await seed(db, scratch.url, args.chapters, args.attendees)
        finally:
            await db.dispose()
        out["seed_seconds"] = time.monotonic() - started
        say(f"seeded {night.rows} and {len(night.chapters)} chapters in {out['seed_seconds']:.1f} s")
        server = cordee_server(free_port(), data_dir, tmp / "cordee.log", scratch.env, None)
        await server.wait_ready()
        say(f"cordee serve on port {server.port} (pid {server.pid})")
        try:
            out["cordee"] = await measure(server, night, args, tmp, baseline=False)
        finally:
            server.stop()
            server = None
        if not args.no_baseline:
            graph = tmp / "graph.json"
            graph.write_bytes(orjson.dumps(baseline_graph(night)))
            server = baseline_server(free_port(), graph, None, tmp / "baseline.log", None)
            await server.wait_ready()
            say(f"baseline on port {server.port} (pid {server.pid})")
            try:
                out["baseline"] = await measure(server, night, args, tmp, baseline=True)
            finally:
                server.stop()
                server = None
    finally:
        if server is not None:
            server.stop()
        await close_scratch(scratch)
    return out


def baseline_graph(night: Night) -> dict[str, Any]:
    """What the bare server needs: who each token is, and each wall's hashtags."""
    return {
        "tokens": {t: night.account_ids[i] for i, t in enumerate(night.tokens)},
        "followers": {},
        "walls": {str(c.chapter_id): [c.hashtag, night.campaign_tag] for c in night.chapters},
    }


def render(out: dict[str, Any], args: argparse.Namespace, command: str) -> str:
    cordee = out["cordee"]
    store = "PostgreSQL + Redis" if args.postgres else "SQLite"
    lines = [
        f"### Campaign night, {args.chapters} chapters, {store} — "
        f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        "",
        "```",
        command,
        "```",
        "",
        f"{args.chapters} chapters (one wall each, SSE, plus the campaign's thermometer), {args.attendees:,} "
        f"attendees; posts at {args.rate:g}/s for {args.steady_seconds:g} s, "
        f"{args.rate * args.burst_factor:g}/s for {args.burst_seconds:g} s, "
        f"{args.rate:g}/s for {args.steady_seconds:g} s, "
        f"{args.campaign_share:.0%} with the campaign's hashtag; sales at {args.sales_rate:g}/s throughout "
        f"(40 % paid tickets, 20 % RSVPs, 40 % raffle sales); seeding took {out['seed_seconds']:.1f} s.",
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in machine().items() if v) + ".",
        "",
        *report.table(cordee, out.get("baseline")),
        "",
        *report.totals_lines(cordee["totals"]),
        "",
    ]
    lost = cordee["deliveries"]["lost"]
    lines.append(
        f"Posts lost: {'0 — met' if lost == 0 else f'**{lost}** — missed'}; totals exact: "
        f"{'met' if cordee['totals']['exact'] else '**missed**'}."
    )
    for name in ("cordee", "baseline"):
        r = out.get(name)
        if not r:
            continue
        notes = [f"request error ×{n}: {m}" for m, n in r["errors"].items()]
        notes += [f"screen closed ×{n}: {m}" for m, n in r["screens_closed"].items()]
        notes += [f"screen error ×{n}: {m}" for m, n in r["screens_errors"].items()]
        notes += r["server_problems"]
        if r["deliveries"]["lost_sample"]:
            notes.append(f"lost (wall, key), first: {r['deliveries']['lost_sample']}")
        if notes:
            lines += ["", f"Notes ({name}):", *[f"- {n}" for n in notes[:12]]]
    return "\n".join(lines)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.campaign_night",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--chapters", type=int, default=200, help="chapters (cities), one open wall each")
    p.add_argument(
        "--attendees", type=int, default=10_000, help="attendee accounts, spread over the chapters"
    )
    p.add_argument("--rate", type=float, default=3.0, help="notes/s in the steady phases")
    p.add_argument("--burst-factor", type=float, default=25.0, help="the burst's rate, × --rate")
    p.add_argument("--steady-seconds", type=float, default=20.0, help="each steady phase (before, after)")
    p.add_argument("--burst-seconds", type=float, default=10.0)
    p.add_argument("--campaign-share", type=float, default=0.1, help="notes with the campaign's hashtag too")
    p.add_argument("--sales-rate", type=float, default=4.0, help="sales/s, through every phase")
    p.add_argument(
        "--hides",
        type=int,
        default=10,
        help="notes the first chapter's lead hides from its wall (every third)",
    )
    p.add_argument("--connections", type=int, default=64, help="HTTP connections of the posting client")
    p.add_argument(
        "--postgres", action="store_true", help="PostgreSQL + Redis on 127.0.0.1 (their own DB/keys)"
    )
    p.add_argument("--no-baseline", action="store_true", help="skip the bare Starlette baseline")
    p.add_argument(
        "--timeout", type=float, default=60.0, help="seconds for a request, and for the last frames"
    )
    p.add_argument("--max-seconds", type=float, default=1800.0, help="the whole run stops after this")
    p.add_argument("--seed", type=int, default=1, help="random seed of who posts and buys where")
    p.add_argument("--json", type=Path, help="also write the raw results here")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, database)")
    args = p.parse_args(argv)
    if args.chapters < 1 or args.attendees < args.chapters:
        p.error("at least one chapter, and at least one attendee per chapter")
    if args.rate <= 0 or args.burst_factor <= 0:
        p.error("--rate and --burst-factor must be positive")
    return args


def main(argv: list[str] | None = None) -> tuple[int, dict[str, Any]]:
    args = parse(argv)
    command = ".venv/bin/python -m bench.campaign_night " + shlex.join(sys.argv[1:] if argv is None else argv)
    raise_fd_limit()
    tmp = Path(tempfile.mkdtemp(prefix="cordee-night-"))
    say(f"work directory {tmp}")
    try:
        out = asyncio.run(asyncio.wait_for(bench(args, tmp), args.max_seconds))
    except BaseException:
        say(f"failed; logs are in {tmp}")
        args.keep = True
        raise
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print(render(out, args, command))
    if args.json:
        args.json.write_bytes(orjson.dumps(out, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS))
    ok = out["cordee"]["deliveries"]["lost"] == 0 and out["cordee"]["totals"]["exact"]
    return (0 if ok else 1), out


if __name__ == "__main__":
    sys.exit(main()[0])
