"""Analytics of a set of notes — the matches of tracked searches, or the notes of a hashtag — as
one reader may see them (every note through ``visible_to``; the reader's own sentiment corrections
replace the lexicon's labels).

- volume: notes per bucket (hour or day, UTC), every bucket of the period, empty ones included;
- top authors (with their follower counts) and co-occurring hashtags, counted in SQL;
- reach: the sum of the follower counts of the distinct authors; impressions: the same per note;
- sentiment: positive / neutral / negative counts;
- share of voice: each search's part of the notes of several searches.

Exact up to ``MAX_NOTES`` notes per period (``truncated`` says when a period holds more: its
volume and sentiment then cover the newest ``MAX_NOTES``; totals, authors and tags stay exact).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.db.tables import Account, Status, StatusTag, Tag
from cordee.db.tables_tracking import SentimentCorrection, TrackedMatch
from cordee.domain.sentiment import label, note_text, score
from cordee.queries.visibility import visible_to

MAX_NOTES = 50_000
MAX_DAYS = 366
TOP = 10
#: Ids per ``IN (…)`` (SQLite's default limit of bound parameters is far above; PostgreSQL has none).
CHUNK = 900
BUCKETS = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
#: At most this many buckets in a volume series.
MAX_BUCKETS = 24 * 31


class AnalyticsError(ValueError):
    """A period or bucket that cannot be served (the reason is for people)."""


@dataclass(frozen=True)
class Period:
    since: datetime
    until: datetime
    bucket: str

    @classmethod
    def of(cls, since: datetime | None, until: datetime | None, bucket: str | None, now: datetime) -> Period:
        until = until or now
        since = since or until - timedelta(days=7)
        if since >= until:
            raise AnalyticsError("since must be before until")
        if until - since > timedelta(days=MAX_DAYS):
            raise AnalyticsError(f"the period may not be longer than {MAX_DAYS} days")
        if bucket is None:
            bucket = "hour" if until - since <= timedelta(days=3) else "day"
        if bucket not in BUCKETS:
            raise AnalyticsError("bucket must be hour or day")
        period = cls(since, until, bucket)
        if len(period.starts()) > MAX_BUCKETS:
            raise AnalyticsError(f"too many buckets (at most {MAX_BUCKETS}): choose a larger bucket")
        return period

    def floor(self, at: datetime) -> datetime:
        at = at.astimezone(UTC)
        if self.bucket == "day":
            return at.replace(hour=0, minute=0, second=0, microsecond=0)
        return at.replace(minute=0, second=0, microsecond=0)

    def starts(self) -> list[datetime]:
        step, at, found = BUCKETS[self.bucket], self.floor(self.since), []
        while at < self.until:
            found.append(at)
            at += step
            if len(found) > MAX_BUCKETS:
                break
        return found


@dataclass
class Notes:
    """A set of notes: a select of (status_id, author_id, posted_at, sentiment or NULL)."""

    rows: Select[*tuple[Any, ...]]
    #: Whether ``sentiment`` must be computed from the text (hashtags: not stored).
    score_text: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def tracked_notes(viewer_id: int, search_ids: Sequence[int], period: Period) -> Notes:
    """The notes matched by these searches in the period, as the viewer may see them (a note
    matched by two of them counts once)."""
    rows = (
        select(
            TrackedMatch.status_id,
            func.min(TrackedMatch.author_id).label("author_id"),
            func.min(TrackedMatch.posted_at).label("posted_at"),
            func.min(TrackedMatch.sentiment).label("sentiment"),
        )
        .join(Status, Status.id == TrackedMatch.status_id)
        .where(
            TrackedMatch.tracked_search_id.in_(list(search_ids)),
            TrackedMatch.posted_at >= period.since,
            TrackedMatch.posted_at < period.until,
            visible_to(viewer_id),
        )
        .group_by(TrackedMatch.status_id)
    )
    return Notes(rows)


def hashtag_notes(viewer_id: int, tag_name: str, period: Period) -> Notes:
    rows = (
        select(
            Status.id.label("status_id"),
            Status.account_id.label("author_id"),
            Status.created_at.label("posted_at"),
            literal(None).label("sentiment"),
        )
        .join(StatusTag, StatusTag.status_id == Status.id)
        .join(Tag, Tag.id == StatusTag.tag_id)
        .where(
            Tag.name == tag_name,
            Status.reblog_of_id.is_(None),
            Status.created_at >= period.since,
            Status.created_at < period.until,
            visible_to(viewer_id),
        )
    )
    return Notes(rows, score_text=True)


async def _corrections(session: AsyncSession, viewer_id: int, ids: Sequence[int]) -> dict[int, str]:
    """The viewer's own labels for these notes."""
    found: dict[int, str] = {}
    for start in range(0, len(ids), CHUNK):
        rows = await session.execute(
            select(SentimentCorrection.status_id, SentimentCorrection.label).where(
                SentimentCorrection.account_id == viewer_id,
                SentimentCorrection.status_id.in_(ids[start : start + CHUNK]),
            )
        )
        found.update((status_id, name) for status_id, name in rows)
    return found


async def _scores(session: AsyncSession, ids: Sequence[int]) -> dict[int, float]:
    """The lexicon's score of notes whose score is not stored (hashtags): computed in a thread, so
    that thousands of notes do not hold the event loop."""
    texts: list[tuple[int, str, str, str | None]] = []
    for start in range(0, len(ids), CHUNK):
        rows = await session.execute(
            select(Status.id, Status.text, Status.spoiler_text, Status.language).where(
                Status.id.in_(ids[start : start + CHUNK])
            )
        )
        texts += [(i, t, sp, lang) for i, t, sp, lang in rows]

    def run() -> dict[int, float]:
        return {i: score(note_text(t, sp), lang) for i, t, sp, lang in texts}

    return await asyncio.to_thread(run)


async def _sentiments(
    session: AsyncSession, viewer_id: int, rows: list[Any], score_text: bool
) -> Counter[str]:
    ids = [r.status_id for r in rows]
    corrected = await _corrections(session, viewer_id, ids)
    scores = await _scores(session, [i for i in ids if i not in corrected]) if score_text else {}
    labels: Counter[str] = Counter({"positive": 0, "neutral": 0, "negative": 0})
    for r in rows:
        if r.status_id in corrected:
            labels[corrected[r.status_id]] += 1
        else:
            compound = scores.get(r.status_id, 0.0) if score_text else float(r.sentiment or 0.0)
            labels[label(compound)] += 1
    return labels


async def analytics(session: AsyncSession, viewer_id: int, notes: Notes, period: Period) -> dict[str, Any]:
    base = notes.rows.subquery()
    total = int(await session.scalar(select(func.count()).select_from(base)) or 0)
    authors = (
        await session.execute(
            select(Account, func.count().label("n"))
            .join(base, base.c.author_id == Account.id)
            .group_by(Account.id)
            .order_by(func.count().desc(), Account.id)
            .limit(TOP)
        )
    ).all()
    reach_row = (
        await session.execute(
            select(func.coalesce(func.sum(Account.followers_count), 0)).where(
                Account.id.in_(select(base.c.author_id))
            )
        )
    ).scalar()
    impressions = await session.scalar(
        select(func.coalesce(func.sum(Account.followers_count), 0)).join(base, base.c.author_id == Account.id)
    )
    distinct_authors = await session.scalar(select(func.count(func.distinct(base.c.author_id))))
    tags = (
        await session.execute(
            select(Tag.name, func.count().label("n"))
            .join(StatusTag, StatusTag.tag_id == Tag.id)
            .join(base, base.c.status_id == StatusTag.status_id)
            .where(Tag.name != notes.extra.get("exclude_tag", ""))
            .group_by(Tag.name)
            .order_by(func.count().desc(), Tag.name)
            .limit(TOP)
        )
    ).all()
    rows = list(
        (
            await session.execute(
                select(base.c.status_id, base.c.posted_at, base.c.sentiment)
                .order_by(base.c.status_id.desc())
                .limit(MAX_NOTES)
            )
        ).all()
    )
    volume: Counter[datetime] = Counter(period.floor(r.posted_at) for r in rows)
    sentiment = await _sentiments(session, viewer_id, rows, notes.score_text)
    return {
        "since": period.since,
        "until": period.until,
        "bucket": period.bucket,
        "total": total,
        "truncated": total > MAX_NOTES,
        "volume": [{"at": at, "count": volume.get(at, 0)} for at in period.starts()],
        "top_authors": [{"account": account, "count": int(n)} for account, n in authors],
        "authors": int(distinct_authors or 0),
        "reach": int(reach_row or 0),
        "impressions": int(impressions or 0),
        "hashtags": [{"name": name, "count": int(n)} for name, n in tags],
        "sentiment": dict(sentiment),
    }


async def share_of_voice(
    session: AsyncSession, viewer_id: int, searches: Sequence[tuple[int, str]], period: Period
) -> list[dict[str, Any]]:
    """Each search's count of visible matches in the period, and its share of their sum (a note
    matched by two searches counts for both: each is a voice)."""
    counts = []
    for search_id, name in searches:
        base = tracked_notes(viewer_id, [search_id], period).rows.subquery()
        counts.append(
            (search_id, name, int(await session.scalar(select(func.count()).select_from(base)) or 0))
        )
    whole = sum(n for _, _, n in counts)
    return [
        {"id": search_id, "name": name, "count": n, "share": round(n / whole, 4) if whole else 0.0}
        for search_id, name, n in counts
    ]


async def export_rows(
    session: AsyncSession, viewer_id: int, notes: Notes, limit: int = MAX_NOTES
) -> list[dict[str, Any]]:
    """One row per note, newest first: what the CSV and JSON exports hold."""
    base = notes.rows.subquery()
    found = (
        await session.execute(
            select(
                base.c.status_id, base.c.posted_at, base.c.sentiment, Account, Status.text, Status.language
            )
            .join(Account, Account.id == base.c.author_id)
            .join(Status, Status.id == base.c.status_id)
            .order_by(base.c.status_id.desc())
            .limit(limit)
        )
    ).all()
    ids = [r.status_id for r in found]
    corrected = await _corrections(session, viewer_id, ids)
    scores = await _scores(session, [r.status_id for r in found if r.sentiment is None])
    tags: dict[int, list[str]] = {i: [] for i in ids}
    for start in range(0, len(ids), CHUNK):
        for status_id, name in await session.execute(
            select(StatusTag.status_id, Tag.name)
            .join(Tag, Tag.id == StatusTag.tag_id)
            .where(StatusTag.status_id.in_(ids[start : start + CHUNK]))
            .order_by(Tag.name)
        ):
            tags[status_id].append(name)
    out = []
    for r in found:
        compound = float(r.sentiment) if r.sentiment is not None else scores.get(r.status_id, 0.0)
        out.append(
            {
                "status_id": r.status_id,
                "created_at": r.posted_at,
                "account": r.Account,
                "followers_count": r.Account.followers_count,
                "language": r.language,
                "sentiment_score": compound,
                "sentiment": corrected.get(r.status_id, label(compound)),
                "corrected": r.status_id in corrected,
                "hashtags": tags[r.status_id],
                "text": r.text,
            }
        )
    return out
