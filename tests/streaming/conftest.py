"""Real ``cordee serve`` processes on loopback for the streaming tests, and helpers to drive them.

``stream_server`` is one SQLite server per test process (pytest-xdist worker); ``start_server``
starts more (with Redis, PostgreSQL, or to be stopped by a test). Users are made through the API
(Mastodon.py's ``create_account``), each with a distinct name.
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
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from mastodon import Mastodon

STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
PASSWORD = "correct horse battery staple"
SCOPES = ["read", "write", "follow"]


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[bytes]
    log: Path
    app_keys: tuple[str, str] = ("", "")
    _names: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def user(self, prefix: str) -> Mastodon:
        """Sign up a new user through the API; a Mastodon.py client for it."""
        if not self.app_keys[0]:
            self.app_keys = Mastodon.create_app(
                "Cordée streaming tests", api_base_url=self.base_url, scopes=SCOPES
            )
        username = f"{prefix}{next(self._names)}"
        api = Mastodon(client_id=self.app_keys[0], client_secret=self.app_keys[1], api_base_url=self.base_url)
        token = api.create_account(
            username, PASSWORD, f"{username}@example.org", agreement=True, scopes=SCOPES
        )
        return Mastodon(access_token=token, api_base_url=self.base_url)

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT)
        return self.process.returncode


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(tmp: Path, **env_overrides: str) -> Server:
    """Start ``cordee serve``; returns once it answers. Fails with the server's output."""
    last_error = ""
    for _attempt in range(3):  # the free port may be taken between choosing and binding it
        port = _free_port()
        base_url = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CORDEE_")}
        env.update(
            CORDEE_BASE_URL=base_url,
            CORDEE_DATA_DIR=str(tmp / f"data-{port}"),
            CORDEE_REGISTRATION_MODE="open",
            CORDEE_STREAMING_HEARTBEAT_SECONDS="1",
            PYTHONUNBUFFERED="1",
            **env_overrides,
        )
        log = tmp / f"server-{port}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "cordee.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        server = Server(base_url, process, log)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"{base_url}/api/v1/streaming/health", timeout=2).status_code == 200:
                    return server
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        server.stop()
        last_error = log.read_text(errors="replace")
        if "address already in use" not in last_error.lower():
            break
    pytest.fail(f"cordee serve did not start; its output:\n{last_error}", pytrace=False)


@pytest.fixture(scope="session")
def stream_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(tmp_path_factory.mktemp("streaming"))
    try:
        yield server
    finally:
        code = server.stop()
        if code not in (0, -signal.SIGTERM):
            sys.stderr.write(f"cordee serve exited with {code}:\n{server.log.read_text(errors='replace')}\n")


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()
