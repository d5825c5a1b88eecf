"""Group commit for SQLite's single writer.

SQLite takes one writer at a time, and with ``synchronous=FULL`` every commit waits for the disk
(an ``fsync`` of the WAL): measured on the project's machine, that wait — not Python, not SQL — set
the write rate at 30–45 notes/s. So writers that queue up while one is working share its
transaction: each runs in a ``SAVEPOINT`` of its own (a failing one rolls back alone), and the last
of the queue (or the 64th) commits once, for all. Nobody returns before that commit: an
acknowledged change is on disk exactly as before, and events are still published after commit.
Under no contention a batch is one writer, committed at once: the latency is the same as before.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cordee.db.tx import Tx

#: Writers sharing one transaction at most.
MAX_BATCH = 64


@dataclass
class _Batch:
    session: AsyncSession
    done: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    members: int = 0
    broken: BaseException | None = None


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
        return _Batch(session)

    async def _close(self, batch: _Batch) -> None:
        try:
            if batch.broken is not None:
                raise batch.broken
            await batch.session.commit()
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
        # Only a member whose work stands gets here: it returns once the batch is on disk.
        await asyncio.shield(batch.done)
