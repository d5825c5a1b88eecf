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
writer raises once the batch is committed — as it would have at once.

The writers keep **one session, on one connection**, from batch to batch. A batch's ``COMMIT`` is
queued to the connection's thread (with the statements its writers left behind) and the lock is
released at once: the next batch's writers run their Python while SQLite runs the last batch's
statements and syncs the disk, and their own statements, queued after, run after that commit, in
order. Measured over HTTP: with the lock held through the commit, 268–275 posts/s beside
315–323 for the tree before (Python and SQLite took turns); released, 315–316 beside 279 (the same
machine's spread between those runs is large, docs/benchmarks.md). Two connections taking turns
(a batch each) doubled a post's CPU: each connection's page cache dropped whenever the other
wrote. SQLAlchemy never sees these commits (``send_commit``): for it the
session's transaction goes on, its objects forgotten at each batch (``expunge_all``).

A commit's outcome is acted on in the event loop's turn that hears of it (``_committed``, called
by the driver, not through futures): its writers are told and go on in that same turn
(``db/prompt.py``), and the batch gathered behind it is sent. Under a mixed load each turn of the
loop runs every ready request, tens of milliseconds: before, the next batch was sent two turns
later (a woken writer's task, then its wait on the commit before it), each member woke through a
shield (two turns more), and SQLite's thread sat idle meanwhile. Measured in-process on the mix
(``bench.inprocess --mix``): a post's p50 92–97 → 57 ms, p99 160–208 → 103–113 ms, the throughput
unchanged (the loop is the bound). Posts alone, with no reads, ran ~10–13 % slower with it at
first: the extra CPU was SQLite's thread's (batches of ~16 and ~16 where they had alternated 1 and
~31: more pages a commit); the writer's page cache and the checkpoints' own thread
(``db/engine.py``, ``db/checkpoint.py``) took more than that off the thread since (in-process, in
turns with the tree before this change: 332–335 against 253–280 posts/s).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cordee.db.prompt import PromptFuture
from cordee.db.sqlite_driver import DRIVER_INFO, OneHopConnection, driver_connection, settle
from cordee.db.tx import Tx

#: Writers sharing one transaction at most.
MAX_BATCH = 64


@dataclass
class _Batch:
    #: Set once the batch's ``COMMIT`` is done, whatever its outcome (``close`` waits for it).
    done: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    #: One future per writer whose work went in, told the outcome as soon as it is known. A writer
    #: awaits its own: one cancelled (its client gone) leaves the others be, and each wakes one
    #: turn of the event loop after the commit, where a shared future behind a shield took two.
    members: list[PromptFuture[None]] = field(default_factory=list)
    broken: BaseException | None = None

    def tell(self, error: BaseException | None) -> None:
        for member in self.members:
            settle(member, error)
        settle(self.done, None)


@dataclass
class _Writer:
    """The session every batch writes through, and the connection under it."""

    session: AsyncSession
    driver: OneHopConnection


class GroupCommit:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], on_disk: Callable[[], None] | None = None
    ) -> None:
        self._sessions = sessions
        #: Told of every batch committed (``db/checkpoint.py``: a checkpoint is due).
        self._on_disk = on_disk
        self._lock = asyncio.Lock()
        self._queued = 0
        self._batch: _Batch | None = None
        self._writer: _Writer | None = None
        #: Batches whose commit is under way (``close`` waits for them); SQLite's thread commits
        #: them in order, so none is left once the last one sent is done.
        self._committing: set[asyncio.Future[None]] = set()
        #: The writers' connection and its ``data_version`` when last asked (``others_committed``).
        self._version_seen: tuple[OneHopConnection, int] | None = None

    async def _writer_session(self) -> _Writer:
        if self._writer is None:
            session = self._sessions()
            await session.begin()
            driver = await driver_connection(session)
            if driver is None:
                await session.close()
                raise RuntimeError("group commit needs SQLite's one-hop driver (db/sqlite_driver.py)")
            session.info[DRIVER_INFO] = driver  # the same connection for the session's life
            self._writer = _Writer(session, driver)
        return self._writer

    def _open(self, writer: _Writer) -> _Batch:
        writer.session.expunge_all()  # what the last batch loaded may have changed since
        # An explicit BEGIN: the driver would only open the transaction at the first write, and a
        # SAVEPOINT opened first would then be a transaction of its own, committed on release.
        # Held back by the driver: it goes with the batch's first hop. Handed to the driver
        # directly: through the session, a statement's execution cost ~0.35 ms (cProfile), a
        # tenth of a post's CPU when each post is a batch of its own.
        if not writer.driver.hold(False, "BEGIN IMMEDIATE", ()):
            raise RuntimeError("the driver did not hold the batch's BEGIN")
        return _Batch()

    async def _abandon(self, batch: _Batch, writer: _Writer) -> None:
        """A batch whose transaction is unusable: roll it back, start the next on a new session;
        its members learn that their work is lost."""
        self._writer = None
        with contextlib.suppress(Exception):
            await writer.session.rollback()
        with contextlib.suppress(Exception):
            await writer.session.close()
        batch.tell(batch.broken or RuntimeError("the batch failed"))

    def _send(self, batch: _Batch, writer: _Writer) -> None:
        """Queue the batch's commit (before any statement of the next batch's), under the lock or
        with it free."""
        self._batch = None
        self._committing.add(batch.done)
        writer.driver.send_commit(partial(self._committed, batch))

    def _committed(self, batch: _Batch, error: BaseException | None) -> None:
        """On the event loop, as soon as SQLite's thread is done with a batch's commit: the batch
        gathered behind it is sent, then the writers are told the outcome and go on at once, in
        this turn (their futures are ``PromptFuture``: each answers its request here, where an
        asyncio future's waiter woke a turn later). Measured in-process on the mix
        (``bench.inprocess --mix --concurrency 32``): a post's p50 48.8–49.4 → 38.0–43.5 ms; the
        gathered batch sent in the loop's next turn instead (so that the writers of this turn
        join it) left its p99 at 90–95 ms, against 74–84 sent at once."""
        self._committing.discard(batch.done)
        self._send_gathered()  # SQLite's thread works on it while the writers below go on
        if error is None and self._on_disk is not None:
            self._on_disk()
        batch.tell(error)

    def _send_gathered(self) -> None:
        """Send the batch under way if it has members, no commit is in flight, and nobody holds
        the lock (a writer holding it sends it when it leaves)."""
        batch, writer = self._batch, self._writer
        if (
            batch is not None
            and writer is not None
            and batch.members
            and batch.broken is None
            and not self._lock.locked()
            and not self._committing
        ):
            self._send(batch, writer)

    @asynccontextmanager
    async def write(self, before_commit: Sequence[Callable[[Tx], Awaitable[None]]]) -> AsyncIterator[Tx]:
        self._queued += 1
        try:
            await self._lock.acquire()
        except BaseException:  # cancelled while queued: the batch may have waited for this writer
            self._queued -= 1
            self._send_gathered()
            raise
        self._queued -= 1
        mine: PromptFuture[None] | None = None
        try:
            writer = await self._writer_session()
            batch = self._batch
            if batch is None:
                batch = self._batch = self._open(writer)
            nested = await writer.session.begin_nested()
            await writer.session.connection()  # SQLAlchemy opens the savepoint lazily: now (no hop)
            savepoint = writer.driver.isolate_savepoint()
            tx = Tx(writer.session)
            try:
                yield tx
                for hook in before_commit:
                    await hook(tx)
                await nested.commit()
                mine = PromptFuture()
                batch.members.append(mine)
            except BaseException as e:
                try:
                    await nested.rollback()
                except Exception:  # the transaction itself is unusable: the whole batch fails
                    batch.broken = e
                raise
        finally:
            current, writer_now = self._batch, self._writer
            if current is not None and writer_now is not None:
                if current.broken is not None:
                    self._batch = None
                    await self._abandon(current, writer_now)
                elif len(current.members) >= MAX_BATCH:
                    self._send(current, writer_now)
                elif self._queued == 0 and not self._committing:
                    # Else a commit is under way: this batch gathers the writers that come
                    # meanwhile, and is sent once that one is on disk (``_committed``).
                    self._send(current, writer_now)
            self._lock.release()
        # Only a member whose work went in gets here: it returns once the batch is on disk, or
        # raises the error of a statement of its own that ran after it left (undone alone).
        assert mine is not None
        try:
            await mine
        finally:
            failure = writer.driver.take_failure(savepoint)
        if failure is not None:
            raise failure

    async def others_committed(self) -> bool:
        """Whether another connection (another program) committed to the file since this was last
        asked (``db/outside_writes.py``); True the first time a connection is asked — the writers'
        first, or a new one after a batch failed — since nothing is known of the time before it."""
        writer = self._writer
        if writer is None:  # no write yet: open the writers' connection as a writer would
            async with self._lock:
                writer = await self._writer_session()
            self._send_gathered()  # a batch that waited on the lock meanwhile
        version = await writer.driver.data_version()
        seen, self._version_seen = self._version_seen, (writer.driver, version)
        return seen != self._version_seen

    async def close(self) -> None:
        """Wait for the commits under way, then give the writers' connection back."""
        async with self._lock:
            while True:  # the commits under way, and the batch gathered behind them
                if self._committing:
                    await asyncio.wait(set(self._committing))
                batch, writer = self._batch, self._writer
                if batch is None or writer is None or not batch.members or batch.broken is not None:
                    break
                self._send(batch, writer)
            writer, self._writer = self._writer, None
            if writer is not None:
                with contextlib.suppress(Exception):
                    await writer.session.close()
