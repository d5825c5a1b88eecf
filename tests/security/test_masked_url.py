"""Finding 10 of the hardening issue: ``cordee serve`` printed the database URL with its password.

No password of the database, the replica or Redis may reach the output of a command or the log,
whether the server starts or fails to start.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from cordee.config import load_settings
from cordee.db.migrate import upgrade
from tests.conftest import _pg_admin, _pg_url
from tests.support.running import free_port, launch

SECRET = "Pa55-w0rd-never-shown"


def _with_password(url: str, password: str = SECRET) -> str:
    # PostgreSQL here trusts local connections: the password is sent and ignored.
    return url.replace("postgres@", f"postgres:{password}@", 1)


@pytest.fixture
def pg_url() -> Iterator[str]:
    name = f"cordee_mask_{uuid.uuid4().hex[:8]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    url = _pg_url(name)
    upgrade(url)
    yield url
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _cordee(tmp_path: Path, *args: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CORDEE_")}
    environment.update(CORDEE_DATA_DIR=str(tmp_path / "data"), **env)
    return subprocess.run(
        [sys.executable, "-m", "cordee.cli", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def test_serve_shows_the_database_without_its_password(tmp_path: Path, pg_url: str) -> None:
    replica = _with_password(pg_url, "replica-" + SECRET)
    server = launch(tmp_path, CORDEE_DATABASE_URL=_with_password(pg_url), CORDEE_DATABASE_REPLICA_URL=replica)
    server.stop()
    output = server.output()
    assert "Cordée" in output and "127.0.0.1:5432" in output  # still says which database
    assert SECRET not in output and "***" in output
    # The suite's servers hash passwords cheaply (tests/support/running.py), and say so loudly.
    assert "WARNING: CORDEE_INSECURE_FAST_PASSWORD_HASHING=1" in output


def test_settings_repr_hides_every_password() -> None:
    settings = load_settings(
        {
            "CORDEE_DATABASE_URL": f"postgresql+asyncpg://u:{SECRET}@db/x",
            "CORDEE_DATABASE_REPLICA_URL": f"postgresql+asyncpg://u:{SECRET}@replica/x",
            "CORDEE_REDIS_URL": f"redis://:{SECRET}@redis:6379/0",
        }
    )
    assert SECRET not in repr(settings) and SECRET not in str(settings)


def _serve_briefly(tmp_path: Path, seconds: float, until: str | None = None, **env: str) -> str:
    """Run ``cordee serve`` until it exits, a second after its output holds ``until``, or when
    ``seconds`` pass (a server that keeps retrying its Redis runs on); then stop it; its whole
    output."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CORDEE_")}
    environment.update(CORDEE_DATA_DIR=str(tmp_path / "data"), PYTHONUNBUFFERED="1", **env)
    log = tmp_path / f"serve-{uuid.uuid4().hex[:6]}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "cordee.cli", "serve", "--port", str(free_port())],
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + seconds
        while process.poll() is None and time.monotonic() < deadline:
            if until is not None and until in log.read_text(errors="replace"):
                deadline = min(deadline, time.monotonic() + 1.0)  # what follows it printed too
                until = None
            time.sleep(0.1)
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:  # (a server still retrying its start-up only ends when the retries do)
                process.wait(3)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
    return log.read_text(errors="replace")


def test_a_failed_start_does_not_print_the_password(tmp_path: Path, pg_url: str) -> None:
    closed = free_port()  # nothing listens there
    output = _serve_briefly(
        tmp_path, 30, CORDEE_DATABASE_URL=f"postgresql+asyncpg://postgres:{SECRET}@127.0.0.1:{closed}/x"
    )
    assert "Traceback" in output or "rror" in output, output[-2000:]
    assert SECRET not in output, output[-3000:]
    # Redis: nothing listens there, or it wants no password (ours has none).
    # Stopped once it retried (unreachable) or once it has started and said so (no password).
    for redis_url, until in (
        (f"redis://:{SECRET}@127.0.0.1:{closed}/0", "lost the Redis event channel"),
        (f"redis://:{SECRET}@127.0.0.1:6379/15", "running on"),
    ):
        output = _serve_briefly(tmp_path, 20, until, CORDEE_DATABASE_URL=pg_url, CORDEE_REDIS_URL=redis_url)
        assert until in output and SECRET not in output, output[-3000:]


def test_cli_commands_do_not_print_the_password(tmp_path: Path) -> None:
    url = f"postgresql+asyncpg://postgres:{SECRET}@127.0.0.1:{free_port()}/x"
    for args in (["db", "upgrade"], ["user", "list"]):
        result = _cordee(tmp_path, *args, CORDEE_DATABASE_URL=url)
        output = result.stdout + result.stderr
        assert result.returncode != 0 and SECRET not in output, output[-3000:]
