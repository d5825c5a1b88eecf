"""The outbox of the Redis feed store: feed work recorded in the transaction of the change that
causes it, so that it survives the process.

Redis is written after the database commits; a process killed between the two would leave a
committed note out of its followers' feeds for good. So the fan-out's events are written to
``feed_outbox`` *inside* the change's transaction (``FanOut._record``), the row is deleted once
Redis has them (``done``), and rows left behind — their process died — are replayed by a periodic
task in any process (``replay_job``). Replaying is safe twice over: adding an id to a sorted set
that has it, or removing one that is gone, changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import BigInteger, Select, Table, bindparam, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.config import Settings
from cordee.db.engine import Database
from cordee.db.hot import HotQuery
from cordee.db.hot_writes import run
from cordee.db.tables import FeedOutbox
from cordee.db.types import utcnow
from cordee.events import codec
from cordee.events.types import Event
from cordee.ids import new_id
from cordee.jobs.runner import periodic

#: Rows older than this are taken as left by a dead process (their writer is done in milliseconds).
REPLAY_AFTER_SECONDS = 10.0
#: Rows replayed per tick at most.
REPLAY_BATCH = 500
#: Done rows wait this long to be deleted together (far below ``REPLAY_AFTER_SECONDS``).
DONE_DELAY_SECONDS = 0.05

log = logging.getLogger(__name__)


#: A Core INSERT built once: the ORM's unit of work (``session.add``, then the flush the next
#: statement triggers) was ~7 % of a post's samples on PostgreSQL + Redis (py-spy).
_OUTBOX = cast(Table, FeedOutbox.__table__)
_RECORD = insert(_OUTBOX)
#: The same row as a ``WITH`` ahead of another statement (PostgreSQL runs DML in a ``WITH``, once,
#: whether or not the statement reads it): its values under names of their own.
_RECORD_AHEAD = (
    insert(_OUTBOX)
    .values(
        id=bindparam("outbox_id", 0, type_=BigInteger()),
        events=bindparam("outbox_events", "", type_=_OUTBOX.c.events.type),
        created_at=bindparam("outbox_created_at", None, type_=_OUTBOX.c.created_at.type),
    )
    .cte("recorded_outbox")
)
#: ``_RECORD_AHEAD`` added to each statement it went ahead of (statements built once, so a few).
_AHEAD: dict[int, tuple[Select[Any], HotQuery]] = {}


def _row(events: Sequence[Event]) -> dict[str, Any]:
    return {"id": new_id(), "events": codec.dumps(events).decode(), "created_at": utcnow()}


async def record(session: AsyncSession, events: Sequence[Event]) -> int:
    """Write the events to do to the outbox, in the caller's transaction; returns the row's id."""
    row = _row(events)
    await session.execute(_RECORD, row)
    return cast(int, row["id"])


async def record_with(
    session: AsyncSession, events: Sequence[Event], statement: Select[Any], params: Mapping[str, Any]
) -> tuple[int, Sequence[Sequence[Any]]]:
    """``record``, and ``statement``'s rows: in one round trip on PostgreSQL (the row inserted by a
    ``WITH`` ahead of the statement; a post's and a follow's feed entries are read so), in two
    elsewhere. ``statement`` must be built once (its combination is kept)."""
    row = _row(events)
    if session.get_bind().dialect.name != "postgresql":
        await session.execute(_RECORD, row)
        return cast(int, row["id"]), (await session.execute(statement, dict(params))).all()
    kept = _AHEAD.get(id(statement))
    if kept is None or kept[0] is not statement:
        kept = _AHEAD[id(statement)] = (statement, HotQuery(statement.add_cte(_RECORD_AHEAD)))
    ahead = {f"outbox_{name}": value for name, value in row.items()}
    return cast(int, row["id"]), await run(session, kept[1], {**params, **ahead})


async def done(db: Database, entry_ids: Sequence[int]) -> None:
    if entry_ids:
        async with db.write() as tx:
            await tx.session.execute(delete(FeedOutbox).where(FeedOutbox.id.in_(entry_ids)))


class DoneRows:
    """Outbox rows whose work is done, deleted together a moment later: one ``DELETE`` for every
    post of the last ``DONE_DELAY_SECONDS`` instead of a write transaction per post (measured:
    the third transaction of each post on PostgreSQL + Redis). A row whose deletion is lost (the
    process stops in that moment, the database is unreachable) is replayed later, which changes
    nothing in Redis (see above)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._ids: list[int] = []
        self._task: asyncio.Task[None] | None = None
        self._flushing: asyncio.Future[None] | None = None
        db.before_dispose.append(self.close)

    def add(self, entry_ids: Sequence[int]) -> None:
        self._ids.extend(entry_ids)
        if self._ids and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        try:
            while self._ids:
                await asyncio.sleep(DONE_DELAY_SECONDS)
                # Shielded: ``close`` cancels the wait, never a transaction half done.
                self._flushing = asyncio.ensure_future(self.flush())
                await asyncio.shield(self._flushing)
        finally:
            self._task = None  # no await since the loop's last check: a later add starts a new task

    async def close(self) -> None:
        """Delete what is waiting now and stop (before the database closes)."""
        task = self._task
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._flushing is not None:
            await self._flushing
        if self._ids:
            await self.flush()

    async def flush(self) -> None:
        ids, self._ids = self._ids, []
        try:
            await done(self._db, ids)
        except Exception:  # left to the replay, which is harmless
            log.exception("could not delete %d done outbox rows", len(ids))


async def pending(db: Database, older_than_seconds: float) -> list[tuple[int, list[Event]]]:
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    async with db.read() as session:
        rows = await session.execute(
            select(FeedOutbox.id, FeedOutbox.events)
            .where(FeedOutbox.created_at < cutoff)
            .order_by(FeedOutbox.id)
            .limit(REPLAY_BATCH)
        )
        return [(entry_id, codec.loads(events)) for entry_id, events in rows]


@periodic("feeds.outbox")
async def replay_job(db: Database, settings: Settings) -> int:
    """The periodic task: replay what dead processes left (only with the Redis feed store)."""
    if db.outbox_replay is None:
        return 0
    return await db.outbox_replay(REPLAY_AFTER_SECONDS)
