"""Finding 9 of the hardening issue: ids must not collide across processes.

An id is 48 bits of milliseconds, then a worker number each process leases from the database
(``id_workers``), then a per-millisecond sequence. Two processes minting in the same millisecond
differ by their worker bits; one process never mints the same id twice nor a smaller one than
before, even when its sequence runs out or the clock goes back.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update

from cordee import ids
from cordee.db.engine import Database
from cordee.db.id_workers import WorkerLease
from cordee.db.migrate import upgrade
from cordee.db.tables_security import IdWorker
from tests.conftest import _pg_admin, _pg_url
from tests.support.running import Running, launch, register

NOW_MS = int(time.time() * 1000)


def test_two_workers_in_the_same_millisecond_mint_different_ids() -> None:
    one, two = ids.IdGenerator(worker=1), ids.IdGenerator(worker=2)
    first = [one.new_id(at_ms=NOW_MS) for _ in range(1000)]
    second = [two.new_id(at_ms=NOW_MS) for _ in range(1000)]
    assert not set(first) & set(second)
    assert {ids.worker_of(i) for i in first} == {1} and {ids.worker_of(i) for i in second} == {2}
    assert all(ids.id_floor_at(NOW_MS) <= i < ids.id_floor_at(NOW_MS + 1) for i in first + second)


def test_ids_stay_unique_and_increasing_when_the_sequence_runs_out() -> None:
    generator = ids.IdGenerator(worker=5)
    minted = [generator.new_id() for _ in range(20_000)]  # well past 1,024 a millisecond
    assert minted == sorted(set(minted))
    # Waiting for the next millisecond, not borrowing from the future: no id is ahead of the clock.
    assert minted[-1] < ids.id_floor_at(int(time.time() * 1000) + 1)


def test_a_clock_going_back_never_gives_a_smaller_id() -> None:
    clock = [NOW_MS]
    generator = ids.IdGenerator(worker=3, clock=lambda: clock[0])
    before = [generator.new_id() for _ in range(10)]
    clock[0] = NOW_MS - 60_000  # an NTP step back by a minute
    after = [generator.new_id() for _ in range(3000)]  # more than a millisecond's worth
    assert before + after == sorted(set(before + after))


def test_a_new_worker_number_keeps_ids_increasing() -> None:
    clock = [NOW_MS]
    generator = ids.IdGenerator(worker=9, clock=lambda: clock[0])
    first = generator.new_id()
    generator.set_worker(2)  # a lower worker number within the same millisecond
    clock[0] += 1
    assert generator.new_id() > first


def test_past_timestamps_and_old_ids() -> None:
    past = NOW_MS - 30 * 24 * 3600 * 1000
    minted = ids.IdGenerator(worker=4).new_id(at_ms=past)
    assert ids.id_floor_at(past) <= minted < ids.id_floor_at(past + 1)
    old_layout = ((NOW_MS - 1) << 16) | 0xFFFF  # an id minted before worker numbers existed
    assert ids.IdGenerator(worker=0).new_id(at_ms=NOW_MS) > old_layout


# -- the lease on a worker number, on SQLite and PostgreSQL ------------------------------------


async def test_each_lease_gets_its_own_worker_and_expired_ones_are_taken_over(db: Database) -> None:
    first, second = WorkerLease(db), WorkerLease(db)
    a, b = await first.acquire(), await second.acquire()
    assert a != b and 1 <= a <= ids.MAX_WORKER and 1 <= b <= ids.MAX_WORKER
    assert await first.renew()

    # A process that died without releasing: its lease expires, then its number may be reused.
    async with db.engine.begin() as conn:
        await conn.execute(
            update(IdWorker).where(IdWorker.worker == a).values(expires_at=datetime.now(UTC) - timedelta(1))
        )
    numbers = {b}
    others = [WorkerLease(db) for _ in range(ids.MAX_WORKER - 1)]
    for lease in others:
        numbers.add(await lease.acquire())
    assert len(numbers) == ids.MAX_WORKER and a in numbers  # every number handed out once
    assert not await first.renew()  # its number went to someone else: it must not keep minting with it
    with pytest.raises(RuntimeError):
        await WorkerLease(db).acquire()  # all taken, none expired
    await second.release()
    assert await WorkerLease(db).acquire() == b


# -- two real server processes posting at once against one database ----------------------------


@pytest.fixture
def pg_database() -> Iterator[str]:
    name = f"cordee_ids_{uuid.uuid4().hex[:8]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    url = _pg_url(name)
    upgrade(url)
    yield url
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _post_many(base_url: str, headers: dict[str, str], count: int) -> list[tuple[int, str]]:
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        answers = []
        for i in range(count):
            r = client.post("/api/v1/statuses", data={"status": f"note {i} from {base_url}"})
            answers.append((r.status_code, r.json().get("id", r.text)))
        return answers


def _race(servers: list[Running], headers: list[dict[str, str]], per_server: int) -> list[tuple[int, str]]:
    with concurrent.futures.ThreadPoolExecutor(len(servers) * 2) as pool:
        jobs = [
            pool.submit(_post_many, s.base_url, h, per_server)
            for s, h in zip(servers * 2, headers + headers[::-1], strict=True)
        ]
        return [answer for job in jobs for answer in job.result()]


async def _leases(url: str) -> list[tuple[int, str]]:
    database = Database(url)
    try:
        async with database.read() as session:
            return [
                (w, h) for w, h in (await session.execute(select(IdWorker.worker, IdWorker.holder))).all()
            ]
    finally:
        await database.dispose()


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_two_server_processes_posting_at_once(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    if backend == "postgresql":
        url = request.getfixturevalue("pg_database")
        env = {"CORDEE_DATABASE_URL": url, "CORDEE_SECRET_KEY": "shared"}
        data_dirs: list[Path | None] = [None, None]
    else:
        shared = tmp_path / "shared"
        url = f"sqlite+aiosqlite:///{(shared / 'cordee.sqlite3').resolve()}"
        env = {"CORDEE_SECRET_KEY": "shared"}
        data_dirs = [shared, shared]
    servers = [launch(tmp_path, data_dir=d, **env) for d in data_dirs]
    try:
        headers = [register(servers[0].base_url, "writer1"), register(servers[1].base_url, "writer2")]
        answers = _race(servers, headers, per_server=40)
        assert all(status == 200 for status, _ in answers), [a for a in answers if a[0] != 200][:3]
        posted = [int(i) for _, i in answers]
        assert len(set(posted)) == len(posted) == 160
        leases = asyncio.run(_leases(url))
        assert len(leases) == 2 and len({w for w, _ in leases}) == 2
        # Jobs 0 and 2 posted through the first server, 1 and 3 through the second.
        by_server = [{ids.worker_of(int(i)) for _, i in answers[k * 40 : (k + 1) * 40]} for k in range(4)]
        assert by_server[0] == by_server[2] and by_server[1] == by_server[3]  # one worker per process
        assert by_server[0] | by_server[1] == {w for w, _ in leases}
        for server, h in zip(servers, headers, strict=True):
            r = httpx.get(f"{server.base_url}/api/v1/accounts/verify_credentials", headers=h)
            assert r.json()["statuses_count"] == 80
    finally:
        for server in servers:
            server.stop()
        for server in servers:
            assert "Traceback" not in server.output(), server.output()[-3000:]
    assert asyncio.run(_leases(url)) == []  # a clean stop gives the numbers back
