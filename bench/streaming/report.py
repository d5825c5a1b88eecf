"""Turning a benchmark run into results: derived figures, the table, the targets, the markdown."""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.streaming.procs import (
    ROOT,
)


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def say_results(name: str, r: dict[str, Any]) -> None:
    s = r.get("steady", {}).get("latency", {})
    say(
        f"{name}: {r.get('connected')} streams, steady p50 {s.get('p50', float('nan')):.1f} ms, "
        f"p99 {s.get('p99', float('nan')):.1f} ms"
    )


# -- the report -------------------------------------------------------------------------------------


def _get(r: dict[str, Any] | None, *path: str) -> float | None:
    value: Any = r
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return float(value) if isinstance(value, int | float) else None


def _fmt(value: float | None, digits: int = 1) -> str:
    if value is None or value != value:
        return "—"
    return f"{value:,.{digits}f}"


ROWS: list[tuple[str, tuple[str, ...], int]] = [
    ("streams open after connecting", ("connected",), 0),
    ("connect time (s)", ("connect_seconds",), 1),
    ("connections/s while connecting", ("connect_rate",), 0),
    ("server RSS idle (MiB)", ("rss_idle_mb",), 1),
    ("server RSS with streams (MiB)", ("rss_connected_mb",), 1),
    ("server RSS at end (MiB)", ("rss_end_mb",), 1),
    ("memory per stream (KiB)", ("kib_per_stream",), 1),
    ("steady: deliveries (expected)", ("steady", "expected"), 0),
    ("steady: deliveries (received)", ("steady", "delivered"), 0),
    ("steady: latency p50 (ms)", ("steady", "latency", "p50"), 1),
    ("steady: latency p95 (ms)", ("steady", "latency", "p95"), 1),
    ("steady: latency p99 (ms)", ("steady", "latency", "p99"), 1),
    ("steady: latency max (ms)", ("steady", "latency", "max"), 1),
    ("steady: POST time p50 (ms)", ("steady", "write", "p50"), 1),
    ("steady: POST time p99 (ms)", ("steady", "write", "p99"), 1),
    ("steady: events/s", ("steady", "events_per_s"), 0),
    ("steady: server CPU (cores)", ("steady", "server_cpu"), 2),
    ("steady: streaming node CPU (cores)", ("steady", "streaming_node_cpu"), 2),
    ("burst: posts/s", ("burst", "posts_per_s"), 1),
    ("burst: events/s", ("burst", "events_per_s"), 0),
    ("burst: deliveries (expected)", ("burst", "expected"), 0),
    ("burst: deliveries (received)", ("burst", "delivered"), 0),
    ("burst: latency p50 (ms)", ("burst", "latency", "p50"), 1),
    ("burst: latency p99 (ms)", ("burst", "latency", "p99"), 1),
    ("burst: POST time p50 (ms)", ("burst", "write", "p50"), 1),
    ("burst: server CPU (cores)", ("burst", "server_cpu"), 2),
    ("burst: streaming node CPU (cores)", ("burst", "streaming_node_cpu"), 2),
    ("10-follower post: write (ms, median)", ("big", "small_write", "p50"), 1),
    ("big post: write (ms, median)", ("big", "big_write", "p50"), 1),
    ("big post: write (ms, max)", ("big", "big_write", "max"), 1),
    ("big post: all open streams have it (ms, median)", ("big", "reach_all", "p50"), 1),
    ("big post: all open streams have it (ms, max)", ("big", "reach_all", "max"), 1),
    ("big post: half the streams have it (ms, median)", ("big", "reach_p50", "p50"), 1),
    ("steady: GC pauses ≥ 10 ms", ("steady", "gc_pauses"), 0),
    ("steady: longest GC pause (ms)", ("steady", "gc_max_ms"), 1),
    ("burst: longest GC pause (ms)", ("burst", "gc_max_ms"), 1),
    ("big: longest GC pause (ms)", ("big", "gc_max_ms"), 1),
    ("full GC collections (whole run)", ("gc", "full_collections"), 0),
    ("longest full GC collection (ms)", ("gc", "full_max_ms"), 1),
    ("streams still open at end", ("open_at_end",), 0),
    ("client CPU (s, all client processes)", ("client_cpu_seconds",), 1),
]


def derive(report: dict[str, Any]) -> None:
    for r in report["targets"].values():
        if r.get("connected") and "rss_connected_mb" in r:
            r["kib_per_stream"] = (r["rss_connected_mb"] - r["rss_idle_mb"]) * 1024 / r["connected"]


def table(report: dict[str, Any]) -> list[str]:
    cordee = report["targets"].get("cordee")
    base = report["targets"].get("baseline")
    lines = ["| metric | Cordée | baseline | Cordée / baseline |", "| --- | ---: | ---: | ---: |"]
    for label, path, digits in ROWS:
        a, b = _get(cordee, *path), _get(base, *path)
        ratio = a / b if a is not None and b not in (None, 0) and a == a and b == b else None
        lines.append(f"| {label} | {_fmt(a, digits)} | {_fmt(b, digits)} | {_fmt(ratio, 2)} |")
    return lines


def targets(report: dict[str, Any], args: argparse.Namespace) -> list[tuple[str, bool | None, str]]:
    r = report["targets"].get("cordee")
    if r is None:
        return []
    out: list[tuple[str, bool | None, str]] = []
    p50, p99 = _get(r, "steady", "latency", "p50"), _get(r, "steady", "latency", "p99")
    if p50 is not None and p99 is not None:
        scope = (
            "" if args.streams == 1000 else f" (target set for 1,000 streams; this run has {args.streams:,})"
        )
        out.append((f"steady p50 < 50 ms{scope}", p50 < 50, f"{p50:.1f} ms"))
        out.append((f"steady p99 < 250 ms{scope}", p99 < 250, f"{p99:.1f} ms"))
    held = r.get("connected") == args.streams and r.get("open_at_end") == args.streams
    out.append(
        (
            f"{args.streams:,} streams held",
            held,
            f"{r.get('connected')} connected, {r.get('open_at_end')} open at end",
        )
    )
    reach = _get(r, "big", "reach_all", "max")
    if reach is not None:
        complete = not r["big"]["incomplete"]
        out.append(
            (
                f"{r['big']['followers']:,}-follower post reaches every open stream "
                f"({r['big']['open_follower_streams']:,}) in < 1 s",
                complete and reach < 1000,
                f"max {reach:.0f} ms over {r['big']['posts']} posts" + ("" if complete else " (incomplete!)"),
            )
        )
    return out


def machine() -> dict[str, str]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    commit = ""
    with contextlib.suppress(Exception):
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        if dirty:
            commit += f" + uncommitted changes in {len(dirty.splitlines())} files"
    mem = ""
    with contextlib.suppress(OSError):
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split(":", 1)[1].strip()
    return {
        "cpus (nproc)": str(os.cpu_count()),
        "cpu": model,
        "memory": mem,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "commit": commit,
    }


def render(report: dict[str, Any], args: argparse.Namespace, command: str) -> str:
    store = ("PostgreSQL" if args.postgres else "SQLite") + (" + Redis" if args.redis else "")
    store += f", Cordée on {getattr(args, 'server', 'uvicorn')}"
    lines = [
        f"### {args.streams:,} streams, {args.transport.upper()}, {store} — "
        f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        "",
        "```",
        command,
        "```",
        "",
        f"Graph: {args.listeners:,} listeners, {args.streams:,} of them with a user stream open "
        f"({args.clients} client processes), "
        f"{args.posters} posters, each listener follows {args.follows} of them and `big`; `big` has "
        f"{args.big_followers:,} followers; `small` has 10. Steady: {args.posts} notes at {args.rate:g}/s; "
        f"burst: {args.burst_posts} notes from {args.posters} closed loops; big: {args.big_posts} × "
        f"(small note, big note). Seeding took {report.get('seed_seconds', 0):.1f} s.",
        "",
        "Server GC thresholds: "
        + (
            "Cordée's own default (CORDEE_GC_THRESHOLD, 50000,20,100, with gc.freeze() after start-up); "
            "Python's default (700, 10, 10) in the baseline"
            if not args.gc_threshold
            else f"gc.set_threshold({args.gc_threshold}) in both servers"
        )
        + "; their GC pauses are measured through gc.callbacks (bench/streaming/probe).",
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in machine().items() if v) + ".",
        "",
        *table(report),
        "",
    ]
    checks = targets(report, args)
    if checks:
        lines += ["Targets:", ""]
        for name, ok, value in checks:
            mark = "met" if ok else "**missed**" if ok is not None else "n/a"
            lines.append(f"- {name}: {mark} — {value}")
        lines.append("")
    r = report["targets"].get("cordee", {})
    big = r.get("big", {})
    if big:
        sw, bw = _get(big, "small_write", "p50"), _get(big, "big_write", "p50")
        if sw and bw:
            lines += [f"Write time of a note by `big` / by `small` (same run): {bw / sw:.2f}.", ""]
    for name, res in report["targets"].items():
        problems = res.get("errors") or []
        connect_errors = res.get("connect_errors") or {}
        closed = res.get("closed") or {}
        if problems or connect_errors or closed:
            lines.append(f"Notes ({name}):")
            lines += [f"- {p}" for p in problems[:10]]
            lines += [f"- connect error ×{n}: {m}" for m, n in connect_errors.items()]
            lines += [f"- streams closed ×{n}: {m}" for m, n in closed.items()]
            lines.append("")
    return "\n".join(lines)
