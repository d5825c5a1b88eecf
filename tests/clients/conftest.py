"""A real ``cordee serve`` on loopback, for the tests that drive real Mastodon clients against it.

One server per test session (so one per pytest-xdist worker, each worker being its own process),
with a fresh data directory: the tests give their users distinct names, so they never collide.
"""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Server:
    base_url: str
    data_dir: Path
    #: The environment the server runs with: ``cordee`` commands given it act on the same instance.
    env: dict[str, str]

    def cordee(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run a ``cordee`` CLI command against this server's data directory."""
        return subprocess.run(
            [sys.executable, "-m", "cordee.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_env(base_url: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORDEE_")}
    env.update(
        CORDEE_BASE_URL=base_url,
        CORDEE_DATA_DIR=str(data_dir),
        CORDEE_REGISTRATION_MODE="open",
        PYTHONUNBUFFERED="1",
    )
    return env


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)


def _start(tmp: Path) -> tuple[subprocess.Popen[bytes], Server, Path]:
    """Start a server; answers once ``/api/v1/instance`` does. Fails with the server's output."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    data_dir = tmp / f"data-{port}"
    env = _server_env(base_url, data_dir)
    log = tmp / f"server-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "cordee.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if httpx.get(f"{base_url}/api/v1/instance", timeout=2).status_code == 200:
                return process, Server(base_url, data_dir, env), log
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    _stop(process)
    output = log.read_text(errors="replace")
    raise RuntimeError(
        f"cordee serve did not answer on {base_url} (exit code {process.returncode}); its output:\n{output}"
    )


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("cordee-server")
    # The free port is chosen before the server binds it: another process may take it in between.
    # That is rare; a server that dies because its address is in use gets a second chance.
    for attempt in itertools.count(1):
        try:
            process, running, log = _start(tmp)
            break
        except RuntimeError as e:
            if attempt >= 3 or "address already in use" not in str(e).lower():
                pytest.fail(str(e), pytrace=False)
    try:
        yield running
    finally:
        _stop(process)
        if process.returncode not in (0, -signal.SIGTERM):
            output = log.read_text(errors="replace")
            sys.stderr.write(f"cordee serve exited with {process.returncode}:\n{output}\n")


@pytest.fixture(scope="session")
def unique() -> Callable[[str], str]:
    """Distinct usernames within the session's server: ``unique("alice")`` → ``alice1``, ``alice2``…"""
    counter = itertools.count(1)

    def make(prefix: str) -> str:
        return f"{prefix}{next(counter)}"

    return make
