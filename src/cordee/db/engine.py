"""Database access: one engine, read sessions, and write transactions that emit events on commit.

``Database.write()`` is the only way actions change state: it opens a transaction, hands out a
``Tx`` that collects events, commits, and only then publishes the events on the bus.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from cordee.db import changes, sqlite_driver
from cordee.db.change_log import ChangeLog
from cordee.db.changes import Changes
from cordee.db.checkpoint import BACKSTOP_PAGES, Checkpointer
from cordee.db.group_commit import GroupCommit
from cordee.db.hot import CACHE_KIB, MMAP_BYTES, HotReader, hot_reader_for, sqlite_file
from cordee.db.outside_writes import WATCHED_AGE, OutsideWrites
from cordee.db.subscribers import SubscribersCache
from cordee.db.tx import Tx as Tx  # re-exported: actions import it from here
from cordee.events.bus import EventBus, InProcessBus
from cordee.events.types import Event
from cordee.rendering.cache import EntityCache
from cordee.rendering.marks import ReaderMarks

log = logging.getLogger(__name__)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the writer; synchronous=FULL makes an acknowledged write survive
    # a power cut, not only a process crash.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute(f"PRAGMA mmap_size={MMAP_BYTES}")  # see db/hot.py: fewer read() calls on a large file
    # A page cache as large as the hot reader's (the writer's is the one that fills: readers mostly read
    # through the memory map, writes copy pages into the cache): at SQLite's default (2 MB) a batch of
    # posts (~16 × 128 feed entries, each on its follower's page) outgrew it, and pages were read
    # again from the WAL (posts alone: 109,000 → 33,500 ``pread`` calls for 1,000 posts, and
    # 0.3 ms less of the thread's CPU a post, measured).
    cursor.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    # Checkpoints are a thread's of their own (``db/checkpoint.py``); this one only if it falls behind.
    cursor.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
    cursor.close()


#: Connections a pool may open beyond its size under a burst (closed when given back).
POOL_OVERFLOW = 10


def _closed_by_the_server(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Checkout: a connection whose server closed it (a restart, an administrator ending sessions)
    is replaced before use. asyncpg notices the closed socket as soon as the event loop reads it,
    so this costs no round trip, where SQLAlchemy's ``pool_pre_ping`` sent three before every
    transaction (``BEGIN``, an empty query, ``ROLLBACK``: measured, three of a post's ~20). What it
    cannot see — a peer gone silent without closing — would hang a ping as long."""
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the server closed this connection")


def create_engine(url: str, pool_size: int = 5) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url)
    else:
        engine = create_async_engine(url, pool_size=pool_size, max_overflow=POOL_OVERFLOW)
        event.listen(engine.sync_engine, "checkout", _closed_by_the_server)
    if engine.dialect.name == "sqlite":
        # The same connection arguments, through a connection that costs one thread hop per
        # statement instead of four (``sqlite_driver.py``).
        args, options = engine.dialect.create_connect_args(engine.url)
        creator = sqlite_driver.connector(*args, **options)
        if sqlite_file(engine.url) is None:  # in memory: one shared connection, no pool to size
            engine = create_async_engine(url, async_creator=creator)
        else:
            # A file's pool keeps ``pool_size`` connections, as on PostgreSQL: with SQLAlchemy's
            # 5, every read session beyond the fifth at once (web pages, the API's general
            # paths) opened a connection — a thread, the file, the pragmas — and closed it after.
            engine = create_async_engine(
                url, async_creator=creator, pool_size=pool_size, max_overflow=POOL_OVERFLOW
            )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


#: Whether the task under way holds a writer's turn (``Database._writers_turn``).
_writing: ContextVar[bool] = ContextVar("cordee_writing", default=False)


class Database:
    def __init__(
        self,
        url: str,
        bus: EventBus | None = None,
        replica_url: str | None = None,
        pool_size: int = 5,
        change_log: ChangeLog | None = None,
    ) -> None:
        self.url = url
        changes.install()
        self.engine = create_engine(url, pool_size)
        #: Small, bounded reads of every request (``db/hot.py``), on the primary: what a request
        #: just wrote must be readable (a post's answer renders the note).
        self.hot: HotReader = hot_reader_for(url)
        #: The same for timeline pages, which may lag a little: a read replica when configured.
        self.hot_replica: HotReader = hot_reader_for(replica_url) if replica_url else self.hot
        self.bus: EventBus = bus or InProcessBus()
        #: Where other processes' committed writes are read from, and this one's told to them
        #: (``db/change_log.py``): with several processes, what keeps the caches exact.
        self.change_log = change_log
        #: Rendered note and account bodies (``rendering/cache.py``); sessions carry it in their
        #: ``info`` so that rendering finds it wherever it is given a session.
        self.entities = EntityCache()
        #: Readers' marks on notes, kept per reader under the entities' versions (``rendering/marks.py``).
        self.marks = ReaderMarks(self.entities, self.trust_seconds)
        #: Who is notified of each author's notes (``db/subscribers.py``), kept where coherent.
        self.subscribers = SubscribersCache(self.trust_seconds)
        self.sessions = async_sessionmaker(
            self.engine, expire_on_commit=False, info={"entities": self.entities, "hot": self.hot}
        )
        # SQLite has one writer at a time; queueing writers here instead of in SQLite's busy loop
        # keeps latency fair and avoids "database is locked" when a deferred transaction upgrades,
        # and lets queued writers share one commit (``group_commit.py``).
        file = sqlite_file(self.engine.url)
        self._checkpoints = Checkpointer(file) if file is not None else None
        self._group: GroupCommit | None = None
        #: PostgreSQL: write transactions at once, at most the pool's size; see ``_writers_turn``.
        self._writers = asyncio.Semaphore(pool_size) if not self.is_sqlite else None
        #: Other programs' writes to the SQLite file, once ``watch_outside_writes`` started it.
        self.outside_writes: OutsideWrites | None = None
        if self.is_sqlite:
            on_disk = self._checkpoints.committed if self._checkpoints is not None else None
            self._group = GroupCommit(self.sessions, on_disk)
            if file is not None:  # an in-memory database has no other program
                self.outside_writes = OutsideWrites(
                    self._group.others_committed, lambda: self._apply((), Changes.everything())
                )
        #: Run inside each write transaction, just before it commits, with its events: work that
        #: must commit (or fail) with the change, e.g. the SQL home-feed fan-out.
        self.before_commit: list[Callable[[Tx], Awaitable[None]]] = []
        #: Run in the writing process once the transaction committed, before the events are
        #: published: work to do exactly once per change, e.g. the Redis home-feed fan-out.
        self.after_commit: list[Callable[[Tx], Awaitable[None]]] = []
        #: Told synchronously of every committed write, events or none, before the writer goes on:
        #: memos of what the data said (``feeds/memo.py``) drop what the write may have changed.
        self.committed: list[Callable[[Sequence[Event], Changes], None]] = []
        #: Replays after-commit work that a dead process left in an outbox (set by the store that
        #: has one: ``feeds/outbox.py``); takes the age in seconds of what counts as left.
        self.outbox_replay: Callable[[float], Awaitable[int]] | None = None
        #: Run first when the database is closed: background work that holds a connection now and
        #: then (e.g. ``feeds/outbox.DoneRows``) finishes it, so no connection is left checked out.
        self.before_dispose: list[Callable[[], Awaitable[None]]] = []

    @property
    def coherent(self) -> bool:
        """Whether every committed write reaches this process's caches before a read that follows
        its answer: all writes are this process's own (the in-process bus), or other processes'
        reach it through the change log (``catch_up``)."""
        return isinstance(self.bus, InProcessBus) or self.change_log is not None

    async def watch_outside_writes(self) -> None:
        """Look for other programs' writes to the SQLite file from now on (a serving process:
        ``db/outside_writes.py``); nothing to do on another database, or where the change log tells
        of other processes' writes (each of their commits would look like a stranger's)."""
        if self.outside_writes is not None and self.change_log is None:
            await self.outside_writes.start()

    def trust_seconds(self, unwatched: float) -> float:
        """How long a cache may trust what it read, for lack of news of writes nobody tells it of
        (another program on the same database): ``unwatched`` seconds, or a backstop's longer
        bound where such writes are seen — on a SQLite file this process watches, or where the
        change log tells of every Cordée program's writes (the other servers', the CLI's): only a
        program that is not Cordée (``psql``) then writes unseen, as it would on SQLite."""
        watched = self.outside_writes is not None and self.outside_writes.watching
        told = self.change_log is not None
        return max(unwatched, WATCHED_AGE) if watched or told else unwatched

    async def catch_up(self) -> None:
        """Apply the writes other processes answered before the request under way arrived; call
        before reading any cache that ``committed`` keeps up to date (nothing to do in one process)."""
        if self.change_log is not None:
            await self.change_log.catch_up(self._apply)

    def _apply(self, events: Sequence[Event], changes: Changes) -> None:
        """Tell every cache of one committed write (this process's, or another's)."""
        self.entities.forget(events)
        self.entities.changed(changes)
        self.subscribers.changed(changes)
        for told in self.committed:
            told(events, changes)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Tx]:
        if self._group is not None:
            async with self._group.write(self.before_commit) as tx:
                yield tx
        else:
            async with self._writers_turn(), self.sessions() as session, session.begin():
                tx = Tx(session)
                yield tx
                for hook in self.before_commit:
                    await hook(tx)
        # Reached only when the transaction committed: publish after commit, never before.
        self._apply(tx.events, tx.changes)
        if tx.events:
            for after in self.after_commit:
                try:
                    await after(tx)
                except Exception:  # the change is committed: a failing consumer must not undo the answer
                    log.exception("after-commit hook %r failed", after)
        tx.changes.feeds |= tx.feeds_written  # the other processes hear of them with the entry
        # Before the writer answers (see change_log.py); the hooks' Redis work (feed entries) goes
        # ahead of the entry, in the same round trip.
        if self.change_log is not None and await self.change_log.publish(
            tx.events, tx.changes, tx.redis_ahead
        ):
            for ran in tx.redis_ran:
                ran()
        if tx.feeds_written:
            # Feeds written once committed (Redis): this process's caches hear of them now that
            # they are written (a read in between rebuilt nothing from before them to keep).
            self._apply((), Changes(feeds=set(tx.feeds_written)))
        if self.change_log is None or not self.change_log.carries(self.bus):
            await self.bus.publish(tx.events)  # else its events went with the entry

    @asynccontextmanager
    async def _writers_turn(self) -> AsyncIterator[None]:
        """Wait for a turn among the pool's connections before a write transaction checks one out.
        With more writers at once than the pool keeps, every one beyond it opened a connection —
        a PostgreSQL backend — and closed it when done (the pool's overflow): measured in-process,
        32 posts at once on a pool of 20, ~20 % of the server's CPU a post went to opening and
        closing connections. The writers beyond the pool now wait for one instead. A write begun
        inside another one's turn (the same task, or one it started) does not wait for a turn of
        its own, which it could wait for forever."""
        if self._writers is None or _writing.get():
            yield
            return
        async with self._writers:
            mark = _writing.set(True)
            try:
                yield
            finally:
                _writing.reset(mark)

    async def feeds_written(self, owners: set[int]) -> None:
        """Tell every process's caches that these accounts' feeds changed, once written in a store
        outside the database by work no transaction carries (a replay, a rebuild: ``feeds/``)."""
        if owners:
            changes = Changes(feeds=set(owners))
            self._apply((), changes)
            if self.change_log is not None:
                await self.change_log.publish((), changes)

    async def dispose(self) -> None:
        if self.outside_writes is not None:
            await self.outside_writes.stop()
        for hook in list(self.before_dispose):
            await hook()
        if self._group is not None:
            await self._group.close()
        if self._checkpoints is not None:  # off the loop: a checkpoint under way may take a while
            await asyncio.to_thread(self._checkpoints.close)
        if self.change_log is not None:
            await self.change_log.close()
        await self.hot.close()
        if self.hot_replica is not self.hot:
            await self.hot_replica.close()
        await self.engine.dispose()
