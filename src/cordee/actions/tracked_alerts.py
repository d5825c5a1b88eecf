"""Alerts of tracked searches: one notification per batch of new matches, e-mail digests, and spike
alerts — run by the periodic job ``jobs/tracking.py`` (derived from the database, like every job).

A batch is "the matches recorded since the last alert": each search keeps the newest match id its
last notification (``notified_upto``) and digest (``digested_upto``) covered. A job claims a batch
by moving that id forward with a compare-and-set ``UPDATE … WHERE notified_upto = :seen``: of two
processes running the job at once, one wins and alerts, the other finds nothing. Matches younger
than ``SETTLE`` are left for the next run on PostgreSQL, where a slower transaction may still
commit a match with a smaller id; SQLite has a single writer, so ids commit in order there.

Notifications use the type ``cordee.tracked_search`` (a batch: the newest matching note, from its
author) and ``cordee.tracked_search.spike``; Mastodon clients skip types they do not know, and
``types[]``/``exclude_types[]`` accept both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update

from cordee.actions._notify import notified
from cordee.db.engine import Database, Tx
from cordee.db.tables import Status, User
from cordee.db.tables_tracking import TrackedMatch, TrackedSearch
from cordee.ids import id_floor_at
from cordee.queries.visibility import visible_to

NOTIFICATION = "cordee.tracked_search"
SPIKE_NOTIFICATION = "cordee.tracked_search.spike"
SETTLE = timedelta(seconds=3)
#: The baseline of a spike: the mean count of this many windows before the last one.
BASELINE_WINDOWS = 24
#: A spike needs at least this many notes in its window (3 notes instead of 1 is not news).
MIN_SPIKE = 5
#: Notes listed in one digest (the count says how many there were in all).
DIGEST_NOTES = 20


@dataclass
class Digest:
    """An e-mail to send once the batch is claimed (the job composes it in the owner's language)."""

    email: str
    locale: str
    search_id: int
    search_name: str
    query: str
    count: int
    status_ids: list[int] = field(default_factory=list)
    spike: tuple[int, float] | None = None  # (notes in the window, baseline mean)
    window_minutes: int = 0


def _horizon(db: Database, now: datetime) -> int:
    settled = now if db.is_sqlite else now - SETTLE
    return id_floor_at(int(settled.timestamp() * 1000) + 1)


async def _batch(tx: Tx, search: TrackedSearch, after: int, horizon: int) -> tuple[int, int]:
    """(count, newest id) of the search's matches in (after, horizon)."""
    row = (
        await tx.session.execute(
            select(func.count(), func.max(TrackedMatch.id)).where(
                TrackedMatch.tracked_search_id == search.id,
                TrackedMatch.id > after,
                TrackedMatch.id < horizon,
            )
        )
    ).one()
    return int(row[0] or 0), int(row[1] or 0)


async def _claim(tx: Tx, search_id: int, column: str, seen: int, new: int) -> bool:
    col = getattr(TrackedSearch, column)
    done = await tx.session.execute(
        update(TrackedSearch).where(TrackedSearch.id == search_id, col == seen).values({column: new})
    )
    return bool(getattr(done, "rowcount", 0))


async def _newest_notes(
    tx: Tx, search: TrackedSearch, after: int, upto: int, limit: int
) -> list[tuple[int, int]]:
    """(status id, author id) of the newest matches of the batch the owner still may see."""
    rows = await tx.session.execute(
        select(TrackedMatch.status_id, TrackedMatch.author_id)
        .join(Status, Status.id == TrackedMatch.status_id)
        .where(
            TrackedMatch.tracked_search_id == search.id,
            TrackedMatch.id > after,
            TrackedMatch.id <= upto,
            visible_to(search.account_id),
        )
        .order_by(TrackedMatch.id.desc())
        .limit(limit)
    )
    return [(s, a) for s, a in rows]


async def _notify_batch(tx: Tx, search: TrackedSearch, notes: list[tuple[int, int]], type_: str) -> bool:
    # The newest note whose author the owner does not block or mute names the batch.
    for status_id, author_id in notes:
        if await notified(tx, search.account_id, author_id, type_, status_id):
            return True
    return False


async def _owner_mail(tx: Tx, owner_id: int) -> tuple[str, str] | None:
    row = (
        await tx.session.execute(select(User.email, User.locale).where(User.account_id == owner_id))
    ).first()
    return (row[0], row[1]) if row is not None else None


async def _one(db: Database, search_id: int, now: datetime, horizon: int) -> tuple[int, list[Digest]]:
    alerts = 0
    digests: list[Digest] = []
    async with db.write() as tx:
        search = await tx.session.get(TrackedSearch, search_id)
        if search is None:
            return 0, []
        if search.notify:
            seen = search.notified_upto  # read before the claim moves it (the session syncs the row)
            count, newest = await _batch(tx, search, seen, horizon)
            if count and await _claim(tx, search.id, "notified_upto", seen, newest):
                notes = await _newest_notes(tx, search, seen, newest, 20)
                alerts += await _notify_batch(tx, search, notes, NOTIFICATION)
        due = search.digested_at is None or now - search.digested_at >= timedelta(
            minutes=search.digest_minutes
        )
        if search.email_digest and due:
            seen = search.digested_upto
            count, newest = await _batch(tx, search, seen, horizon)
            if count and await _claim(tx, search.id, "digested_upto", seen, newest):
                await tx.session.execute(
                    update(TrackedSearch).where(TrackedSearch.id == search.id).values(digested_at=now)
                )
                mail = await _owner_mail(tx, search.account_id)
                notes = await _newest_notes(tx, search, seen, newest, DIGEST_NOTES)
                if mail is not None and notes:
                    digests.append(
                        Digest(
                            mail[0],
                            mail[1],
                            search.id,
                            search.name,
                            search.query,
                            count,
                            [s for s, _ in notes],
                        )
                    )
        if search.spike_alert:
            spike = await _spike(tx, search, now)
            if spike is not None:
                alerts += 1
                mail = await _owner_mail(tx, search.account_id) if search.email_digest else None
                if mail is not None:
                    digests.append(
                        Digest(
                            mail[0],
                            mail[1],
                            search.id,
                            search.name,
                            search.query,
                            spike[0],
                            spike=spike,
                            window_minutes=search.spike_window_minutes,
                        )
                    )
    return alerts + len(digests), digests


async def _spike(tx: Tx, search: TrackedSearch, now: datetime) -> tuple[int, float] | None:
    """(notes in the last window, baseline mean per window) when the last window is a spike and
    none was announced for it yet; the announcement is claimed with ``spiked_at``."""
    window = timedelta(minutes=search.spike_window_minutes)
    start = now - window
    if search.spiked_at is not None and search.spiked_at > start:
        return None  # one alert per window
    base_start = start - window * BASELINE_WINDOWS

    async def count(since: datetime, until: datetime) -> int:
        return int(
            await tx.session.scalar(
                select(func.count()).where(
                    TrackedMatch.tracked_search_id == search.id,
                    TrackedMatch.posted_at >= since,
                    TrackedMatch.posted_at < until,
                )
            )
            or 0
        )

    current = await count(start, now)
    if current < MIN_SPIKE:
        return None
    baseline = await count(base_start, start) / BASELINE_WINDOWS
    if current < search.spike_factor * max(baseline, 1.0):
        return None
    claimed = await tx.session.execute(
        update(TrackedSearch)
        .where(
            TrackedSearch.id == search.id,
            or_(TrackedSearch.spiked_at.is_(None), TrackedSearch.spiked_at <= start),
        )
        .values(spiked_at=now)
    )
    if not getattr(claimed, "rowcount", 0):
        return None
    newest = id_floor_at(int(now.timestamp() * 1000) + 1)
    notes = await _newest_notes(tx, search, 0, newest, 20)
    await _notify_batch(tx, search, notes, SPIKE_NOTIFICATION)
    return current, baseline


async def _due(db: Database, now: datetime, horizon: int) -> list[int]:
    """The searches with something to do, found in two reads (no write, so an idle tick does not
    take SQLite's write lock): new matches past a cursor, or matches recent enough for a spike."""
    async with db.read() as session:
        searches = list(
            await session.scalars(
                select(TrackedSearch).where(
                    or_(TrackedSearch.notify, TrackedSearch.email_digest, TrackedSearch.spike_alert)
                )
            )
        )
        if not searches:
            return []
        newest: dict[int, tuple[int, datetime]] = {}
        ids = [s.id for s in searches]
        for start in range(0, len(ids), 500):
            rows = await session.execute(
                select(
                    TrackedMatch.tracked_search_id,
                    func.max(TrackedMatch.id),
                    func.max(TrackedMatch.posted_at),
                )
                .where(
                    TrackedMatch.tracked_search_id.in_(ids[start : start + 500]), TrackedMatch.id < horizon
                )
                .group_by(TrackedMatch.tracked_search_id)
            )
            newest.update((search_id, (top, at)) for search_id, top, at in rows)
    due = []
    for s in searches:
        if s.id not in newest:
            continue
        top, at = newest[s.id]
        window = timedelta(minutes=s.spike_window_minutes)
        digest_due = s.digested_at is None or now - s.digested_at >= timedelta(minutes=s.digest_minutes)
        if (
            (s.notify and top > s.notified_upto)
            or (s.email_digest and digest_due and top > s.digested_upto)
            or (s.spike_alert and at >= now - window and (s.spiked_at is None or s.spiked_at <= now - window))
        ):
            due.append(s.id)
    return due


async def run_alerts(db: Database, now: datetime) -> tuple[int, list[Digest]]:
    """Every search with an alert due: returns how many alerts were made and the e-mails to send
    (after the transactions committed)."""
    horizon = _horizon(db, now)
    total, digests = 0, []
    for search_id in await _due(db, now, horizon):
        n, found = await _one(db, search_id, now, horizon)
        total += n
        digests += found
    return total, digests
