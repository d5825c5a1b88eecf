"""Nothing acknowledged is lost: notes answered with 200 survive the server being killed (SIGKILL,
no clean shutdown) and are all there, once each, after a restart on the same data directory."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import pytest

from tests.support.running import launch, register

pytestmark = pytest.mark.clients


def test_acknowledged_notes_survive_a_crash(tmp_path: Path) -> None:
    server = launch(tmp_path)
    base_url = server.base_url
    try:
        headers = register(base_url, "steady", "read write")
        acknowledged = []
        with httpx.Client(base_url=base_url, headers=headers) as client:
            for i in range(30):
                r = client.post(
                    "/api/v1/statuses", json={"status": f"note {i}"}, headers={"Idempotency-Key": f"k{i}"}
                )
                assert r.status_code == 200
                acknowledged.append(r.json()["id"])
        server.stop(signal.SIGKILL)  # no shutdown, no flush: a crash

        server = launch(tmp_path, data_dir=server.data_dir)
        base_url = server.base_url
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
        server.stop()
