"""The SQL feed store (the default): home feeds as rows of ``home_feed_entries``.

Fan-out runs inside the writing transaction (``transactional``): one ``INSERT … SELECT`` from the
follow graph per note, committed with the note itself, so a crash can never leave a committed note
out of its followers' feeds, and no retry machinery is needed. Deleting a note removes its entries
by a foreign-key cascade. Feeds are trimmed to ``feed_size`` when read (at most once an hour per
feed) and by a periodic sweep, which also drops the feeds nobody read for ``feed_inactive_days``
(they are rebuilt from the follow graph when read again).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import BigInteger, Integer, and_, bindparam, delete, exists, func, select, type_coerce, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.config import Settings
from cordee.db.changes import feeds_recorder, touching
from cordee.db.engine import Database
from cordee.db.hot import MAX_ID, HotQuery
from cordee.db.hot_writes import run_late
from cordee.db.sqlite_driver import deferred, execute_late
from cordee.db.tables import HomeFeed, HomeFeedEntry
from cordee.db.types import UTCDateTime, utcnow
from cordee.feeds.base import Entries, Owners, inactive_before
from cordee.jobs.runner import periodic

#: A feed's ``read_at`` is refreshed (and the feed trimmed) at most this often.
TOUCH_EVERY = timedelta(hours=1)
#: How often the periodic sweep really runs (the job runner ticks every second).
SWEEP_EVERY_SECONDS = 600.0

_ENTRY_COLUMNS = ["account_id", "status_id", "author_id"]
_OWNER = HomeFeedEntry.__table__.c.account_id
_CUTOFF = bindparam("feeds_cutoff", type_=UTCDateTime())

# Feed reads run on every home timeline request: one statement built once (``db/hot.py``), the
# feed's ids in the window, each row saying whether the feed is alive and whether it was read
# lately (compared in SQL: turning ``read_at`` back into a datetime on every row cost more than the
# rest of the read); a row with no id when the window is empty, none when the feed is missing.
_WINDOW = HotQuery(
    select(
        type_coerce(HomeFeed.read_at >= bindparam("alive_after", type_=UTCDateTime()), Integer()),
        type_coerce(HomeFeed.read_at >= bindparam("touched_after", type_=UTCDateTime()), Integer()),
        HomeFeedEntry.status_id,
    )
    .select_from(HomeFeed)
    .outerjoin(
        HomeFeedEntry,
        and_(
            HomeFeedEntry.account_id == HomeFeed.account_id,
            HomeFeedEntry.status_id < bindparam("below", 0, type_=BigInteger()),
            HomeFeedEntry.status_id > bindparam("above", 0, type_=BigInteger()),
        ),
    )
    .where(HomeFeed.account_id == bindparam("account", 0, type_=BigInteger()))
    .order_by(HomeFeedEntry.status_id.desc())
    .limit(bindparam("limit", 1, type_=Integer()))
)


def _insert(session: AsyncSession, table: Any) -> Any:
    """``INSERT`` that skips rows already there, in the session's SQL dialect."""
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


def _hot_unless_expanding(statement: Any) -> Any:
    """``statement`` as a ``HotQuery``, unless it takes a list of values (``IN`` a parameter:
    a direct note's mentioned accounts), which a ``HotQuery`` spreads over slots of its own."""
    if any(bind.expanding for bind in statement.compile().binds.values()):
        return statement
    return HotQuery(statement)


class SqlFeedStore:
    transactional = True

    def __init__(self, db: Database, settings: Settings) -> None:
        self._db = db
        self._settings = settings
        #: INSERT statements built on callers' prebuilt entries, by (id, dialect); the entries are
        #: kept alongside so that their id cannot be reused while the entry lives.
        self._prepared: dict[tuple[int, str], tuple[Any, Entries]] = {}

    async def push(
        self, session: AsyncSession, entries: Entries, params: Mapping[str, Any] | None = None
    ) -> Owners:
        key = (id(entries), session.get_bind().dialect.name)
        kept = self._prepared.get(key) if params is not None else None
        if kept is not None:
            statement = kept[0]
        else:
            rows = entries.subquery()
            # EXISTS on the feed's primary key, not ``IN (SELECT … FROM home_feeds)``: SQLite would
            # build the list of every active feed of the instance for each note (O(feeds)).
            active = exists().where(HomeFeed.account_id == rows.c[0], HomeFeed.read_at >= _CUTOFF)
            source = select(rows.c[0], rows.c[1], rows.c[2]).where(active)
            # On the table: with parameters, an ORM-enabled INSERT would be taken as a bulk insert.
            # RETURNING: which feeds the note reached (rows a conflict skipped are not returned),
            # so that the home memo re-reads exactly those readers' pages (``db/changes.py``).
            # Deferred: on SQLite the post's writer leaves it behind (``db/sqlite_driver.py``);
            # the feeds it reached are needed only once the transaction committed.
            statement = (
                deferred(_insert(session, HomeFeedEntry.__table__))
                .from_select(_ENTRY_COLUMNS, source)
                .on_conflict_do_nothing()
                .returning(_OWNER)
            )
            if params is not None:  # a statement built once by its caller: keep what we built on it
                statement = _hot_unless_expanding(statement)
                self._prepared[key] = (statement, entries)
        values = {**(params or {}), "feeds_cutoff": inactive_before(self._settings)}
        if isinstance(statement, HotQuery):  # past the session's execution (``db/hot_writes.py``)
            await run_late(session, statement, values, feeds_recorder(session), touching())
        else:
            await execute_late(session, statement, values, feeds_recorder(session), touching())
        return set()  # observed on the transaction (``feeds_recorder``), as every write below

    async def remove_statuses(
        self, session: AsyncSession, owners: Sequence[int], status_ids: Sequence[int]
    ) -> Owners:
        return set()  # the statuses' rows are gone: ON DELETE CASCADE removed their entries with them

    async def remove_authors(
        self, session: AsyncSession, account_id: int, author_ids: Sequence[int]
    ) -> Owners:
        await session.execute(
            delete(HomeFeedEntry).where(
                HomeFeedEntry.account_id == account_id, HomeFeedEntry.author_id.in_(author_ids)
            ),
            execution_options=touching(feeds=(account_id,)),
        )
        return set()

    async def read(
        self, account_id: int, *, below: int | None, above: int | None, limit: int | None = None
    ) -> list[int] | None:
        now = utcnow()
        rows = await self._db.hot_replica.rows(
            _WINDOW,
            account=account_id,
            below=MAX_ID if below is None else below,
            above=0 if above is None else above,
            limit=min(limit or self._settings.feed_size, self._settings.feed_size),
            alive_after=inactive_before(self._settings, now),
            touched_after=now - TOUCH_EVERY,
        )
        if not rows or not rows[0][0]:
            return None  # never built, or not read for so long that fan-out stopped feeding it
        ids = [r[2] for r in rows if r[2] is not None]
        if not rows[0][1]:
            async with self._db.write() as tx:  # one hop on SQLite: both statements deferred
                await tx.session.execute(
                    deferred(update(HomeFeed))
                    .where(HomeFeed.account_id == account_id)
                    .values(read_at=utcnow()),
                    execution_options=touching(feeds=(account_id,)),
                )
                await _trim(tx.session, account_id, self._settings.feed_size)
        return ids

    async def rebuild(self, account_id: int, entries: Entries, params: Mapping[str, Any]) -> Owners:
        async with self._db.write() as tx:
            session = tx.session
            now = utcnow()
            mark = _insert(session, HomeFeed).values(account_id=account_id, built_at=now, read_at=now)
            feed = touching(feeds=(account_id,))
            await session.execute(
                mark.on_conflict_do_update(
                    index_elements=["account_id"], set_={"built_at": now, "read_at": now}
                ),
                execution_options=feed,
            )
            await session.execute(
                delete(HomeFeedEntry).where(HomeFeedEntry.account_id == account_id), execution_options=feed
            )
            # On the table: with parameters, an ORM-enabled INSERT would be taken as a bulk insert.
            await session.execute(
                _insert(session, HomeFeedEntry.__table__)
                .from_select(_ENTRY_COLUMNS, entries)
                .on_conflict_do_nothing(),
                params,
                execution_options=feed,
            )
        return set()


async def _trim(session: AsyncSession, account_id: int, size: int) -> None:
    """Keep the newest ``size`` entries of one feed (deferred: trims ride with the next statement
    of their transaction on SQLite, a sweep's many in one hop)."""
    oldest_kept = (
        select(HomeFeedEntry.status_id)
        .where(HomeFeedEntry.account_id == account_id)
        .order_by(HomeFeedEntry.status_id.desc())
        .offset(size - 1)
        .limit(1)
        .scalar_subquery()
    )
    await session.execute(
        deferred(delete(HomeFeedEntry)).where(
            HomeFeedEntry.account_id == account_id, HomeFeedEntry.status_id < oldest_kept
        ),
        execution_options=touching(feeds=(account_id,)),
    )


_last_sweep = 0.0
#: Feeds dropped by one statement at most (SQLite binds each id).
_SWEEP_CHUNK = 500


async def sweep(db: Database, settings: Settings) -> int:
    """Drop inactive feeds and trim oversized ones; returns how many feeds it changed.

    Which feeds is read first, outside the write lock: finding the oversized ones scans every
    feed's entries (33 ms on the benchmark's 342,000), and writers wait for none of it; a sweep
    with nothing to do writes nothing. The writes name the feeds they change, so the home memo
    forgets those readers' pages only (an unnamed write would make every cache forget all)."""
    cutoff = inactive_before(settings)
    async with db.read() as session:
        stale = list(await session.scalars(select(HomeFeed.account_id).where(HomeFeed.read_at < cutoff)))
        oversized = list(
            await session.scalars(
                select(HomeFeedEntry.account_id)
                .group_by(HomeFeedEntry.account_id)
                .having(func.count() > settings.feed_size)
            )
        )
    if not stale and not oversized:
        return 0
    dropped = 0
    async with db.write() as tx:
        session = tx.session
        for start in range(0, len(stale), _SWEEP_CHUNK):
            chunk = stale[start : start + _SWEEP_CHUNK]
            # Still inactive: a feed read since the first look is left alone.
            still = (HomeFeed.account_id.in_(chunk), HomeFeed.read_at < cutoff)
            feeds = touching(feeds=tuple(chunk))
            await session.execute(
                delete(HomeFeedEntry).where(
                    HomeFeedEntry.account_id.in_(select(HomeFeed.account_id).where(*still))
                ),
                execution_options=feeds,
            )
            result = await session.execute(delete(HomeFeed).where(*still), execution_options=feeds)
            dropped += int(result.rowcount or 0)  # type: ignore[attr-defined]
        for account_id in oversized:
            await _trim(session, account_id, settings.feed_size)
    return dropped + len(oversized)


@periodic("feeds.sweep")
async def sweep_job(db: Database, settings: Settings) -> int:
    """The periodic task: a sweep every ``SWEEP_EVERY_SECONDS`` (only for the SQL store)."""
    global _last_sweep
    if settings.redis_url or time.monotonic() - _last_sweep < SWEEP_EVERY_SECONDS:
        return 0
    _last_sweep = time.monotonic()
    return await sweep(db, settings)
