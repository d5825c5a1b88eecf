"""A real ``cordee serve`` on loopback, for the tests that drive real Mastodon clients against it.

One server per test session (so one per pytest-xdist worker, each worker being its own process),
with a fresh data directory: the tests give their users distinct names, so they never collide.
"""

from __future__ import annotations

import itertools
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.running import launch

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


@contextmanager
def serving(tmp: Path, **env: str) -> Iterator[Server]:
    """A ``cordee serve`` for the block (``env``: more ``CORDEE_*`` settings, e.g. the server)."""
    try:
        running = launch(tmp, **env)
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    try:
        yield Server(running.base_url, running.data_dir, running.env)
    finally:
        code = running.stop()
        if code not in (0, -signal.SIGTERM):
            sys.stderr.write(f"cordee serve exited with {code}:\n{running.output()}\n")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(tmp_path_factory.mktemp("cordee-server")) as running:
        yield running


@pytest.fixture(scope="session")
def unique() -> Callable[[str], str]:
    """Distinct usernames within the session's server: ``unique("alice")`` → ``alice1``, ``alice2``…"""
    counter = itertools.count(1)

    def make(prefix: str) -> str:
        return f"{prefix}{next(counter)}"

    return make
