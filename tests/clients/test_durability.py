"""Nothing acknowledged is lost: notes answered with 200 survive the server being killed (SIGKILL,
no clean shutdown) and are all there, once each, after a restart on the same data directory."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.clients.conftest import _free_port, _server_env

pytestmark = pytest.mark.clients


def _launch(data_dir: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "cordee.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=_server_env(base_url, data_dir),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{base_url}/api/v1/instance", timeout=2).status_code == 200:
                return process, base_url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"server did not start: {log.read_text(errors='replace')}")


def test_acknowledged_notes_survive_a_crash(tmp_path: Path) -> None:
    data_dir, log = tmp_path / "data", tmp_path / "server.log"
    process, base_url = _launch(data_dir, log)
    try:
        app = httpx.post(
            f"{base_url}/api/v1/apps",
            data={
                "client_name": "crash",
                "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                "scopes": "read write",
            },
        ).json()
        app_token = httpx.post(
            f"{base_url}/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
                "scope": "read write",
            },
        ).json()["access_token"]
        user = httpx.post(
            f"{base_url}/api/v1/accounts",
            data={
                "username": "steady",
                "email": "steady@example.org",
                "password": "a long password",
                "agreement": "true",
            },
            headers={"Authorization": f"Bearer {app_token}"},
        ).json()
        headers = {"Authorization": f"Bearer {user['access_token']}"}
        acknowledged = []
        with httpx.Client(base_url=base_url, headers=headers) as client:
            for i in range(30):
                r = client.post(
                    "/api/v1/statuses", json={"status": f"note {i}"}, headers={"Idempotency-Key": f"k{i}"}
                )
                assert r.status_code == 200
                acknowledged.append(r.json()["id"])
        process.send_signal(signal.SIGKILL)  # no shutdown, no flush: a crash
        process.wait(10)

        process, base_url = _launch(data_dir, log)
        with httpx.Client(base_url=base_url, headers=headers) as client:
            account_id = client.get("/api/v1/accounts/verify_credentials").json()["id"]
            stored = client.get(f"/api/v1/accounts/{account_id}/statuses", params={"limit": 40}).json()
            assert sorted(s["id"] for s in stored) == sorted(acknowledged)
            # A client retrying after the crash with the same Idempotency-Key gets the same note back.
            retry = client.post(
                "/api/v1/statuses", json={"status": "note 29"}, headers={"Idempotency-Key": "k29"}
            )
            assert retry.json()["id"] == acknowledged[-1]
            assert (
                len(client.get(f"/api/v1/accounts/{account_id}/statuses", params={"limit": 40}).json()) == 30
            )
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(10)
