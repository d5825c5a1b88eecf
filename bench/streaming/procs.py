"""Processes of the benchmark: the server under test (Cordée or the baseline), the client processes,
and what ``/proc`` says of them (resident memory, CPU time)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

ROOT = Path(__file__).resolve().parents[2]
PROBE_DIR = Path(__file__).resolve().parent / "probe"  # its sitecustomize records GC pauses
STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
COMMAND_TIMEOUT = 600.0
_TICKS = os.sysconf("SC_CLK_TCK")


def raise_fd_limit() -> int:
    """Raise this process's open-file soft limit to the hard one (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    return int(soft)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    """Resident memory (VmRSS) of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _tree(pid: int) -> list[int]:
    """A process and its live descendants (a server's workers: granian serves from a child)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, ()))
    return found


def rss_tree_mb(pid: int) -> tuple[float, float]:
    """Resident memory of a process and its descendants (a server's workers), in MiB: the
    largest of them, and their sum."""
    sizes = []
    for member in _tree(pid):
        with contextlib.suppress(OSError):
            sizes.append(rss_mb(member))
    return max(sizes, default=float("nan")), sum(sizes)


def _cpu_of(stat: str) -> float:
    """User + system CPU seconds in a ``/proc/<pid>/stat`` line (after the name, which may hold
    spaces and parentheses)."""
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of a process and its live descendants."""
    total = 0.0
    for member in _tree(pid):
        with contextlib.suppress(OSError):
            total += _cpu_of(Path(f"/proc/{member}/stat").read_text())
    return total


def named_cpu_seconds(names: frozenset[str]) -> dict[int, float]:
    """User + system CPU time so far of each live process named one of ``names`` (``comm``:
    ``postgres``, ``redis-server``), by pid: what the stores spent, beside the server's own.
    ``cpu_since`` takes the difference (a process gone meanwhile, e.g. a closed connection's
    backend, leaves its last moments uncounted)."""
    found: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError):
            text = stat.read_text()
            if text[text.index("(") + 1 : text.rindex(")")] in names:
                found[int(stat.parent.name)] = _cpu_of(text)
    return found


def cpu_since(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds the processes of ``after`` spent since ``before`` (new ones: all of theirs)."""
    return sum(spent - before.get(pid, 0.0) for pid, spent in after.items())


class Server:
    """A server subprocess on 127.0.0.1, its output in a log file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], port: int, log: Path) -> None:
        self.name = name
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.log = log
        self.probe = log.with_suffix(".gc.json")
        env = {
            **env,
            "PYTHONPATH": os.pathsep.join(p for p in (str(PROBE_DIR), env.get("PYTHONPATH", "")) if p),
            "BENCH_PROBE_FILE": str(self.probe),
        }
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                argv, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    async def wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        async with httpx.AsyncClient(timeout=2) as http:
            while time.monotonic() < deadline and self.process.poll() is None:
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get(f"{self.base_url}/api/v1/streaming/health")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        self.stop()
        raise RuntimeError(
            f"{self.name} did not start; its output:\n{self.log.read_text(errors='replace')[-3000:]}"
        )

    def stop(self) -> int | None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT)
        return self.process.returncode

    def gc_stats(self) -> dict[str, Any]:
        """What the probe recorded of the garbage collector, in every process of the server (its
        workers each write their own record); empty if it did not run."""
        merged: dict[str, Any] = {}
        for record in sorted(self.probe.parent.glob(self.probe.name + ".*")):
            if record.suffix == ".tmp":
                continue
            try:
                stats = dict(orjson.loads(record.read_bytes()))
            except (OSError, ValueError):
                continue
            if not merged:
                merged = stats
                continue
            for key, combine in (("collections", sum), ("total_ms", sum), ("max_ms", max)):
                merged[key] = [combine(pair) for pair in zip(merged[key], stats[key], strict=True)]
            merged["pauses"] = sorted(merged["pauses"] + stats["pauses"])
        return merged

    def log_problems(self) -> list[str]:
        """What the server's output reports as going wrong: each traceback's last line (the
        exception), and ERROR / WARNING lines (first few)."""
        found: list[str] = []
        lines = self.log.read_text(errors="replace").splitlines()
        for i, line in enumerate(lines):
            if line.startswith("Traceback"):
                end = i + 1
                while end < len(lines) and (lines[end].startswith(" ") or not lines[end].strip()):
                    end += 1
                found.append("traceback: " + (lines[end] if end < len(lines) else "?"))
            elif "ERROR" in line or "WARNING" in line:
                found.append(line.strip())
        return found[:10]


def _env(gc_threshold: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CORDEE_", "BENCH_"))}
    env["PYTHONUNBUFFERED"] = "1"
    env["CORDEE_RATE_LIMITS"] = "off"  # a few tokens post and read at rates far above Mastodon's figures
    if gc_threshold:
        env["BENCH_GC_THRESHOLD"] = gc_threshold
        env["CORDEE_GC_THRESHOLD"] = gc_threshold  # Cordée sets its own after start-up: the same
    return env


def cordee_server(
    port: int,
    data_dir: Path,
    log: Path,
    extra_env: dict[str, str],
    gc_threshold: str | None,
    http_server: str = "uvicorn",
) -> Server:
    env = _env(gc_threshold)
    env.update(
        CORDEE_DATA_DIR=str(data_dir),
        CORDEE_BASE_URL=f"http://127.0.0.1:{port}",
        **extra_env,
    )
    argv = [sys.executable, "-m", "cordee.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    return Server("cordee", argv + ["--server", http_server], env, port, log)


def baseline_server(
    port: int, graph: Path, template: Path | None, log: Path, gc_threshold: str | None
) -> Server:
    env = _env(gc_threshold)
    argv = [sys.executable, "-m", "bench.streaming.baseline", "--port", str(port), "--graph", str(graph)]
    if template is not None:
        argv += ["--template", str(template)]
    return Server("baseline", argv, env, port, log)


class ClientProcess:
    """One ``bench.streaming.client`` process, driven by JSON lines."""

    def __init__(self, process: asyncio.subprocess.Process, tokens: list[str]) -> None:
        self.process = process
        self.tokens = tokens

    @classmethod
    async def start(
        cls,
        port: int,
        transport: str,
        tokens: list[str],
        tokens_file: Path,
        log: Path,
        concurrency: int,
        deadline: float,
    ) -> ClientProcess:
        await asyncio.to_thread(tokens_file.write_text, "\n".join(tokens))
        argv = ["--port", str(port), "--transport", transport, "--tokens", str(tokens_file)]
        argv += ["--concurrency", str(concurrency), "--deadline", str(deadline)]
        return await cls.spawn("bench.streaming.client", argv, log, tokens)

    @classmethod
    async def spawn(
        cls, module: str, argv: list[str], log: Path, tokens: list[str] | None = None
    ) -> ClientProcess:
        """Any client module speaking the same JSON-lines protocol (``python -m module *argv``)."""
        with log.open("ab") as err:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                module,
                *argv,
                cwd=ROOT,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=err,
                limit=1 << 28,
            )
        return cls(process, tokens or [])

    async def ask(self, command: dict[str, Any], seconds: float = COMMAND_TIMEOUT) -> Any:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(orjson.dumps(command) + b"\n")
        await self.process.stdin.drain()
        async with asyncio.timeout(seconds):
            line = await self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"client process {self.process.pid} ended (code {self.process.returncode})")
        return orjson.loads(line)

    async def stop(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(Exception):
                await self.ask({"cmd": "quit"}, seconds=15)
                async with asyncio.timeout(10):
                    await self.process.wait()
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.terminate()
            try:
                async with asyncio.timeout(5):
                    await self.process.wait()
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
                await self.process.wait()
