"""Leases on snowflake worker numbers (``cordee.ids``), held in the ``id_workers`` table.

Each process that writes (every server process, every CLI command) leases a number at start and
renews the lease while it runs; a number is claimed with an INSERT that does nothing on conflict,
or with an UPDATE of a lease that has expired (a process that died without giving it back). Both
are single statements whose row count says who won, on SQLite and PostgreSQL alike.

Why the database rather than Redis: ids must be unique where they are stored, and every process
that mints ids has the database (Redis is optional, and two instances may share one Redis).

This is process plumbing, not something a person does, so it writes outside ``actions/``; it
writes through ``Database.write`` all the same (on SQLite, the writers' connection: a write on a
connection of its own would look like another program's to ``db/outside_writes.py``, and make every
cache forget everything at each renewal). Its statements are Core statements on the table: each
one's row count says who won.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from cordee import ids
from cordee.db.engine import Database
from cordee.db.tables_security import IdWorker

log = logging.getLogger(__name__)

#: How long a lease lasts without renewal, and how often it is renewed. A process stalled longer
#: than the lease (suspended, partitioned) loses its number and stops using it (see ``_keep``).
LEASE = timedelta(seconds=60)
RENEW_SECONDS = 15.0

_TABLE = cast(Table, IdWorker.__table__)


def _count(result: Any) -> int:
    return int(result.rowcount)


#: Leases held by this process, newest last; the newest one's number is the one ids use.
_held: list[WorkerLease] = []


def _now() -> datetime:
    return datetime.now(UTC)


class WorkerLease:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.holder = f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"
        self.worker: int | None = None
        self.expires_at = _now()
        self._task: asyncio.Task[None] | None = None

    def _insert(self, worker: int, expires_at: datetime) -> Any:
        dialect = postgresql if self.db.engine.dialect.name == "postgresql" else sqlite
        return (
            dialect.insert(_TABLE)
            .values(worker=worker, holder=self.holder, expires_at=expires_at)
            .on_conflict_do_nothing()
        )

    async def acquire(self) -> int:
        """Claim a number nobody holds: a never used one first, else the longest expired."""
        now = _now()
        async with self.db.engine.connect() as conn:
            rows = (await conn.execute(select(IdWorker.worker, IdWorker.expires_at))).all()
        known = {worker for worker, _ in rows}
        expired = [worker for expires_at, worker in sorted((e, w) for w, e in rows if e <= now)]
        unused = [w for w in range(1, ids.MAX_WORKER + 1) if w not in known]
        expires_at = now + LEASE
        async with self.db.write() as tx:
            for worker in unused:
                if _count(await tx.session.execute(self._insert(worker, expires_at))) == 1:
                    return self._got(worker, expires_at)
            for worker in expired:
                taken = await tx.session.execute(
                    update(_TABLE)
                    .where(_TABLE.c.worker == worker, _TABLE.c.expires_at <= now)
                    .values(holder=self.holder, expires_at=expires_at)
                )
                if _count(taken) == 1:
                    return self._got(worker, expires_at)
        raise RuntimeError(
            f"every snowflake worker number (1..{ids.MAX_WORKER}) is leased by a running process"
        )

    def _got(self, worker: int, expires_at: datetime) -> int:
        self.worker, self.expires_at = worker, expires_at
        return worker

    async def renew(self) -> bool:
        """Extend the lease; False if it was lost (expired and taken by another process)."""
        expires_at = _now() + LEASE
        async with self.db.write() as tx:
            renewed = await tx.session.execute(
                update(_TABLE)
                .where(_TABLE.c.worker == self.worker, _TABLE.c.holder == self.holder)
                .values(expires_at=expires_at)
            )
        if _count(renewed) != 1:
            return False
        self.expires_at = expires_at
        return True

    async def release(self) -> None:
        async with self.db.write() as tx:
            await tx.session.execute(
                delete(_TABLE).where(_TABLE.c.worker == self.worker, _TABLE.c.holder == self.holder)
            )
        self.worker = None

    # -- for the life of a process --------------------------------------------------------------

    async def start(self) -> None:
        """Lease a number, use it for this process's ids, and keep renewing it."""
        await self.acquire()
        _held.append(self)
        _use_newest()
        self._task = asyncio.create_task(self._keep(), name="id-worker-lease")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self in _held:
            _held.remove(self)
        _use_newest()
        with contextlib.suppress(Exception):  # the lease expires on its own if the database is gone
            await self.release()

    async def _keep(self) -> None:
        while True:
            await asyncio.sleep(RENEW_SECONDS)
            try:
                if self.worker is not None and await self.renew():
                    continue
                if self.worker is not None:
                    log.warning(
                        "snowflake worker %s was taken over after a stall; leasing another", self.worker
                    )
                await self.acquire()
            except Exception:
                log.exception("could not renew the snowflake worker lease")
                if self.worker is not None and _now() >= self.expires_at:
                    # Someone may hold this number now: mint as an unleased process until leased again.
                    self.worker = None
            finally:
                _use_newest()


def _use_newest() -> None:
    workers = [lease.worker for lease in _held if lease.worker is not None]
    ids.set_worker(workers[-1] if workers else 0)
