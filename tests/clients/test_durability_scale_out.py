"""Nothing committed is lost on PostgreSQL + Redis either: a server killed (SIGKILL) between
committing notes and writing them to Redis leaves every committed note in its followers' home
feeds once a process is back — the fan-out the dead process never did is replayed from the outbox.

The window is made wide on purpose: the server reaches Redis through a proxy that the test stops
forwarding, so notes commit while their Redis fan-out hangs; then the server is killed."""

from __future__ import annotations

import asyncio
import contextlib
import select
import signal
import socket
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest
from redis import Redis

from tests.conftest import _pg_admin, _pg_url
from tests.support.running import launch, register

pytestmark = pytest.mark.clients
REDIS_URL = "redis://127.0.0.1:6379/0"


class PausableProxy:
    """A TCP proxy to Redis on loopback whose forwarding can be stopped (connections stay open)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.forwarding = threading.Event()
        self.forwarding.set()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        peers = {a: b, b: a}
        try:
            while not self.closed:
                readable, _, _ = select.select([a, b], [], [], 0.2)
                if not self.forwarding.is_set():
                    continue  # hold everything: the server's Redis calls hang
                for s in readable:
                    data = s.recv(65536)
                    if not data:
                        return
                    peers[s].sendall(data)
        except OSError:
            return
        finally:
            a.close()
            b.close()

    def close(self) -> None:
        self.closed = True
        self.listener.close()


def test_committed_notes_reach_followers_after_a_crash(tmp_path: Path) -> None:
    name = f"cordee_crash_{uuid.uuid4().hex[:10]}"
    prefix = f"cordee-crash-{uuid.uuid4().hex[:8]}:"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    proxy = PausableProxy(("127.0.0.1", 6379))
    env = {
        "CORDEE_DATABASE_URL": _pg_url(name),
        "CORDEE_REDIS_URL": f"redis://127.0.0.1:{proxy.port}/0",
        "CORDEE_REDIS_PREFIX": prefix,
    }
    server = launch(tmp_path, **env)
    try:
        poster, reader = register(server.base_url, "poster"), register(server.base_url, "reader")
        with httpx.Client(base_url=server.base_url) as client:
            poster_id = client.get("/api/v1/accounts/verify_credentials", headers=poster).json()["id"]
            assert client.post(f"/api/v1/accounts/{poster_id}/follow", headers=reader).status_code == 200
            assert client.get("/api/v1/timelines/home", headers=reader).status_code == 200  # feed exists
            before = client.post("/api/v1/statuses", json={"status": "before"}, headers=poster)
            assert before.status_code == 200

        proxy.forwarding.clear()  # Redis is unreachable from now on: fan-outs hang after commit

        def post(i: int) -> None:
            # Never acknowledged: the answer waits on Redis, then the server dies.
            with contextlib.suppress(httpx.TransportError):
                httpx.post(
                    f"{server.base_url}/api/v1/statuses",
                    json={"status": f"in the window {i}"},
                    headers=poster,
                    timeout=3,
                )

        threads = [threading.Thread(target=post, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        time.sleep(1.5)  # the notes are committed by now; their answers wait on Redis
        server.stop(signal.SIGKILL)
        for t in threads:
            t.join(10)
        proxy.forwarding.set()

        server = launch(tmp_path, data_dir=server.data_dir, **env)
        with httpx.Client(base_url=server.base_url, headers=reader) as client:
            committed = {
                s["id"]
                for s in client.get(f"/api/v1/accounts/{poster_id}/statuses", params={"limit": 40}).json()
            }
            assert len(committed) >= 2  # "before" and at least one note of the window
            missing = set(committed)
            deadline = time.monotonic() + 40  # the outbox is replayed once its rows are 10 s old
            while missing and time.monotonic() < deadline:
                home = client.get("/api/v1/timelines/home", params={"limit": 40}).json()
                missing = committed - {s["id"] for s in home}
                if missing:
                    time.sleep(1)
            assert not missing, f"{len(missing)} committed notes missing from the follower's home"
    finally:
        server.stop()
        proxy.close()
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        redis = Redis.from_url(REDIS_URL)
        keys = list(redis.scan_iter(match=f"{prefix}*"))
        if keys:
            redis.delete(*keys)
        redis.close()
