"""Real ``cordee serve`` processes on loopback for the streaming tests, and helpers to drive them.

``stream_server`` is one SQLite server per test process (pytest-xdist worker); ``start_server``
starts more (with Redis, PostgreSQL, or to be stopped by a test). Users are made through the API
(Mastodon.py's ``create_account``), each with a distinct name.
"""

from __future__ import annotations

import itertools
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from mastodon import Mastodon

from tests.support.running import Running, launch
from tests.support.waiting import wait_for as wait_for  # re-exported: the streaming tests import it here

PASSWORD = "correct horse battery staple"
SCOPES = ["read", "write", "follow"]


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[bytes]
    log: Path
    running: Running
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
        return self.running.stop(sig)


def start_server(tmp: Path, **env_overrides: str) -> Server:
    """Start ``cordee serve`` (heartbeats every second); returns once it answers."""
    try:
        running = launch(
            tmp,
            ready_path="/api/v1/streaming/health",
            **{"CORDEE_STREAMING_HEARTBEAT_SECONDS": "1", **env_overrides},
        )
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    return Server(running.base_url, running.process, running.log, running)


@contextmanager
def serving(tmp: Path, **env_overrides: str) -> Iterator[Server]:
    """``start_server`` for the block, stopped after it (its log shown if it did not stop cleanly)."""
    server = start_server(tmp, **env_overrides)
    try:
        yield server
    finally:
        code = server.stop()
        if code not in (0, -signal.SIGTERM):
            sys.stderr.write(f"cordee serve exited with {code}:\n{server.log.read_text(errors='replace')}\n")


@pytest.fixture(scope="session")
def stream_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(tmp_path_factory.mktemp("streaming")) as server:
        yield server
