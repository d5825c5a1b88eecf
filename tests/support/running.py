"""Starting and stopping real ``cordee serve`` processes on loopback, for the tests that talk to a
running server (real clients, streaming, browser, crash recovery). One launcher for all of them."""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

from cordee.db.migrate import upgrade
from cordee.ratelimit import RULES

#: Every test of a session talks to its server from 127.0.0.1, so per-address rate limits would
#: add up across unrelated tests: they are raised. Per-token, per-user and per-login limits keep
#: Mastodon's figures (a caller passing ``CORDEE_RATE_LIMITS_CUSTOM`` sets its own instead).
SHARED_ADDRESS_LIMITS = ",".join(f"{n}=1000000/{r.seconds}" for n, r in RULES.items() if r.per == "ip")
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


@dataclass
class Running:
    """A ``cordee serve`` process, its public URL, data directory, environment and output log."""

    base_url: str
    data_dir: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        """Stop with ``sig`` (SIGKILL simulates a crash); kill if it has not exited in time."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT)
        return self.process.returncode

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_template: Path | None = None


def _migrated_template() -> Path:
    """A migrated SQLite database, made once per test process: a fresh server's data directory
    starts from a copy of it instead of running every migration again (~1–2 s a server; the
    migrations themselves are tested through tests/conftest.py's template and test_migrations)."""
    global _template
    if _template is None:
        folder = tempfile.mkdtemp(prefix="cordee-launch-template-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        path = Path(folder) / "cordee.sqlite3"
        # In a thread of its own: the migrations run their own event loop, and a caller may be
        # inside one (a browser test: Playwright's sync API keeps a loop running on its thread).
        with ThreadPoolExecutor(1) as pool:
            pool.submit(upgrade, f"sqlite+aiosqlite:///{path}").result()
        _template = path
    return _template


def launch(
    tmp: Path,
    data_dir: Path | None = None,
    ready_path: str = "/api/v1/instance",
    *,
    port: int | None = None,
    host_name: str = "127.0.0.1",
    **env: str,
) -> Running:
    """Start a server and return once ``ready_path`` answers 200.

    ``data_dir`` defaults to a fresh folder; pass an existing one to restart an instance. ``env``
    adds ``CORDEE_*`` settings; the caller's own ``CORDEE_*`` variables are never inherited.
    The port is chosen before the server binds it, so another process may take it in between:
    a server that dies because its address is in use is started again (three tries). A caller
    may ask for a fixed ``port`` and a ``host_name`` for its public URL (it listens on loopback).
    """
    output = ""
    for _attempt in range(1 if port is not None else 3):
        chosen = port or free_port()
        base_url = f"http://{host_name}:{chosen}"
        environment = {k: v for k, v in os.environ.items() if not k.startswith("CORDEE_")}
        environment.update(
            CORDEE_BASE_URL=base_url,
            CORDEE_DATA_DIR=str(data_dir or tmp / f"data-{chosen}"),
            CORDEE_REGISTRATION_MODE="open",
            CORDEE_INSECURE_FAST_PASSWORD_HASHING="1",  # the suite's accounts: see tests/conftest.py
            PYTHONUNBUFFERED="1",
        )
        environment.update({"CORDEE_RATE_LIMITS_CUSTOM": SHARED_ADDRESS_LIMITS, **env})
        fresh = Path(environment["CORDEE_DATA_DIR"])
        if "CORDEE_DATABASE_URL" not in environment and not (fresh / "cordee.sqlite3").exists():
            fresh.mkdir(parents=True, exist_ok=True)
            shutil.copy(_migrated_template(), fresh / "cordee.sqlite3")
        log = tmp / f"server-{chosen}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "cordee.cli", "serve", "--host", "127.0.0.1", "--port", str(chosen)],
                env=environment,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        running = Running(base_url, Path(environment["CORDEE_DATA_DIR"]), environment, process, log)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(base_url + ready_path, timeout=2).status_code == 200:
                    return running
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        running.stop()
        output = running.output()
        if "address already in use" not in output.lower():
            break
    raise RuntimeError(f"cordee serve did not start; its output:\n{output}")


def register(
    base_url: str, name: str, scopes: str = "read write follow", locale: str = "en"
) -> dict[str, str]:
    """Sign up ``name`` through the API (an app, its token, the account) on a running server,
    speaking ``locale``; returns the headers that authenticate as the new user."""
    app = httpx.post(
        f"{base_url}/api/v1/apps",
        data={"client_name": "tests", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": scopes},
    ).json()
    app_token = httpx.post(
        f"{base_url}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "scope": scopes,
        },
    ).json()["access_token"]
    user = httpx.post(
        f"{base_url}/api/v1/accounts",
        data={
            "username": name,
            "email": f"{name}@example.org",
            "password": "a long password",
            "agreement": "true",
            "locale": locale,
        },
        headers={"Authorization": f"Bearer {app_token}"},
    ).json()
    return {"Authorization": f"Bearer {user['access_token']}"}
