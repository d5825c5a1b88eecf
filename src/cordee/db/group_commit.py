"""Group commit for SQLite's single writer.

SQLite takes one writer at a time, and with ``synchronous=FULL`` every commit waits for the disk
(an ``fsync`` of the WAL): measured on the project's machine, that wait — not Python, not SQL — set
the write rate at 30–45 notes/s. So writers that queue up while one is working share its
transaction: each runs in a ``SAVEPOINT`` of its own (a failing one rolls back alone), and the last
of the queue (or the 64th) commits once, for all. Nobody returns before that commit: an
acknowledged change is on disk exactly as before, and events are still published after commit.
Under no contention a batch is one writer, committed at once: the latency is the same as before.

A writer's deferred statements (``sqlite_driver.deferred``) run after it left, in the hop of a
later statement or of the batch's ``COMMIT``: its savepoint is marked isolated, so that should one
of them fail, the driver undoes that writer's savepoint alone and records the error, which the
writer raises once the batch is committed (``_Batch.failures``) — as it would have at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cordee.db.sqlite_driver import OneHopConnection, driver_connection
from cordee.db.tx import Tx

#: Writers sharing one transaction at most.
MAX_BATCH = 64


@dataclass
class _Batch:
    session: AsyncSession
    done: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    members: int = 0
    broken: BaseException | None = None
    #: The connection under the batch's session (None: not SQLite's one-hop driver).
    driver: OneHopConnection | None = None
    #: Errors of members' statements run after the member left, by its savepoint's name.
    failures: dict[str, BaseException] = field(default_factory=dict)


class GroupCommit:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._lock = asyncio.Lock()
        self._queued = 0
        self._batch: _Batch | None = None

    async def _open(self) -> _Batch:
        session = self._sessions()
        await session.begin()
        # An explicit BEGIN: the driver would only open the transaction at the first write, and a
        # SAVEPOINT opened first would then be a transaction of its own, committed on release.
        await session.execute(text("BEGIN IMMEDIATE"))
        batch = _Batch(session, driver=await driver_connection(session))
        if batch.driver is not None:
            batch.driver.take_failures()  # none should be left; none may be charged to this batch
        return batch

    async def _close(self, batch: _Batch) -> None:
        try:
            if batch.broken is not None:
                raise batch.broken
            await batch.session.commit()
            if batch.driver is not None:
                batch.failures = dict(batch.driver.take_failures())
        except BaseException as e:
            with contextlib.suppress(Exception):
                await batch.session.rollback()
            if batch.members:  # those waiting learn their work is lost (they answer an error)
                batch.done.set_exception(e)
            else:
                batch.done.set_result(None)
        else:
            batch.done.set_result(None)
        finally:
            with contextlib.suppress(Exception):
                await batch.session.close()

    @asynccontextmanager
    async def write(self, before_commit: Sequence[Callable[[Tx], Awaitable[None]]]) -> AsyncIterator[Tx]:
        self._queued += 1
        try:
            await self._lock.acquire()
        finally:
            self._queued -= 1
        try:
            batch = self._batch
            if batch is None:
                batch = self._batch = await self._open()
            nested = await batch.session.begin_nested()
            savepoint: str | None = None
            if batch.driver is not None:
                await batch.session.connection()  # SQLAlchemy opens the savepoint lazily: now (no hop)
                savepoint = batch.driver.isolate_savepoint()
            tx = Tx(batch.session)
            try:
                yield tx
                for hook in before_commit:
                    await hook(tx)
                await nested.commit()
                batch.members += 1
            except BaseException as e:
                try:
                    await nested.rollback()
                except Exception:  # the transaction itself is unusable: the whole batch fails
                    batch.broken = e
                raise
        finally:
            current = self._batch
            if current is not None and (self._queued == 0 or current.members >= MAX_BATCH or current.broken):
                self._batch = None
                await self._close(current)
            self._lock.release()
        # Only a member whose work went in gets here: it returns once the batch is on disk, or
        # raises the error of a statement of its own that ran after it left (undone alone).
        await asyncio.shield(batch.done)
        if savepoint is not None and (failure := batch.failures.get(savepoint)) is not None:
            raise failure
