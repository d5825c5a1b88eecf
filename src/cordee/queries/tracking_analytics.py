"""Analytics of a set of notes — the matches of tracked searches, or the notes of a hashtag — as
one reader may see them (every note through ``visible_to``; the reader's own sentiment corrections
replace the lexicon's labels).

- volume: notes per bucket (hour or day, UTC), every bucket of the period, empty ones included;
- top authors (with their follower counts) and co-occurring hashtags, counted in SQL;
- reach: the sum of the follower counts of the distinct authors; impressions: the same per note;
- sentiment: positive / neutral / negative counts;
- share of voice: each search's part of the notes of several searches.

Every figure is counted in SQL, exact, except the sentiment of hashtags (their notes have no stored
score): it is computed from the text of the newest ``MAX_NOTES`` (``truncated`` says when a period
holds more).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Select, and_, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.db.tables import Account, Status, StatusTag, Tag
from cordee.db.tables_tracking import SentimentCorrection, TrackedMatch
from cordee.domain.sentiment import NEGATIVE_AT, POSITIVE_AT, label, note_text, score
from cordee.ids import SEQUENCE_BITS, WORKER_BITS
from cordee.queries.accounts import load_many as load_accounts
from cordee.queries.visibility import visible_to

MAX_NOTES = 50_000
#: Where the milliseconds start in an id (``cordee.ids``).
ID_TIME_SHIFT = WORKER_BITS + SEQUENCE_BITS
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
    """The viewer's own labels for these notes. A person corrects notes one by one, so their
    corrections are few: read them all (one indexed statement) rather than probing every note."""
    wanted = set(ids)
    rows = await session.execute(
        select(SentimentCorrection.status_id, SentimentCorrection.label).where(
            SentimentCorrection.account_id == viewer_id
        )
    )
    return {status_id: name for status_id, name in rows if status_id in wanted}


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


async def _stored_sentiments(session: AsyncSession, viewer_id: int, base: Any) -> Counter[str]:
    """Labels of notes whose score is stored (matches), the viewer's corrections first, in SQL."""
    name = case(
        (SentimentCorrection.label.is_not(None), SentimentCorrection.label),
        (base.c.sentiment >= POSITIVE_AT, "positive"),
        (base.c.sentiment <= NEGATIVE_AT, "negative"),
        else_="neutral",
    ).label("name")
    rows = await session.execute(
        select(name, func.count())
        .select_from(base)
        .outerjoin(
            SentimentCorrection,
            and_(
                SentimentCorrection.status_id == base.c.status_id, SentimentCorrection.account_id == viewer_id
            ),
        )
        .group_by(name)
    )
    labels: Counter[str] = Counter({"positive": 0, "neutral": 0, "negative": 0})
    for label_name, n in rows:
        labels[str(label_name)] += int(n)
    return labels


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
    # One pass over the notes gives every author's count and follower count: the total, the
    # distinct authors, reach, impressions and the top authors all come from it.
    per_author = (
        await session.execute(
            select(Account.id, Account.followers_count, func.count().label("n"))
            .join(base, base.c.author_id == Account.id)
            .group_by(Account.id, Account.followers_count)
        )
    ).all()
    total = sum(int(n) for _, _, n in per_author)
    top = sorted(per_author, key=lambda r: (-int(r.n), r.id))[:TOP]
    accounts = await load_accounts(session, [r.id for r in top])
    authors = [(accounts[r.id], int(r.n)) for r in top if r.id in accounts]
    reach = sum(int(f) for _, f, _ in per_author)
    impressions = sum(int(f) * int(n) for _, f, n in per_author)
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
    # Buckets are counted in SQL from the ids (milliseconds since the Unix epoch above
    # ``ID_TIME_SHIFT`` bits), so hours and days fall on UTC boundaries and no note is loaded here.
    width = int(BUCKETS[period.bucket].total_seconds() * 1000) << ID_TIME_SHIFT
    index = (base.c.status_id // literal(width, BigInteger)).label("bucket")
    volume = {
        datetime.fromtimestamp(int(i) * (width >> ID_TIME_SHIFT) / 1000, UTC): int(n)
        for i, n in await session.execute(select(index, func.count()).group_by(index))
    }
    truncated = False
    if notes.score_text:  # hashtags: scored from their text, the newest MAX_NOTES
        rows = list(
            (
                await session.execute(
                    select(base.c.status_id, base.c.sentiment)
                    .order_by(base.c.status_id.desc())
                    .limit(MAX_NOTES)
                )
            ).all()
        )
        sentiment = await _sentiments(session, viewer_id, rows, True)
        truncated = total > MAX_NOTES
    else:
        sentiment = await _stored_sentiments(session, viewer_id, base)
    return {
        "since": period.since,
        "until": period.until,
        "bucket": period.bucket,
        "total": total,
        "truncated": truncated,
        "volume": [{"at": at, "count": volume.get(at, 0)} for at in period.starts()],
        "top_authors": [{"account": account, "count": n} for account, n in authors],
        "authors": len(per_author),
        "reach": reach,
        "impressions": impressions,
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
