"""Hashtags: lookup, usage history, who follows or features them, and what they bring to home.

Usage is computed from ``status_tags`` (public and unlisted notes), per UTC day: ``uses`` notes and
``accounts`` distinct authors — in one grouped query for any number of tags.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, distinct, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.db.tables import Status, StatusTag, Tag
from cordee.db.tables_curation import FeaturedTag, TagFollow
from cordee.db.types import utcnow
from cordee.domain.text import HASHTAG_RE, normalize_tag
from cordee.queries.visibility import PUBLIC_VISIBILITIES

HISTORY_DAYS = 7


def valid_tag_name(name: str) -> bool:
    return len(name) <= 200 and HASHTAG_RE.fullmatch("#" + name) is not None


def followed_tags_in_home(viewer_id: int) -> ColumnElement[bool]:
    """Public notes (not boosts) carrying a hashtag the viewer follows: they join the home timeline."""
    followed = select(TagFollow.tag_id).where(TagFollow.account_id == viewer_id)
    return and_(
        Status.visibility == "public",
        Status.reblog_of_id.is_(None),
        exists(
            select(StatusTag.status_id).where(
                StatusTag.status_id == Status.id, StatusTag.tag_id.in_(followed)
            )
        ),
    )


async def followers_of_tags(session: AsyncSession, tag_names: Collection[str]) -> list[int]:
    """Accounts following any of these hashtags (for fanning a public note out to their homes)."""
    if not tag_names:
        return []
    rows = await session.scalars(
        select(TagFollow.account_id)
        .join(Tag, Tag.id == TagFollow.tag_id)
        .where(Tag.name.in_([normalize_tag(n) for n in tag_names]))
        .distinct()
    )
    return list(rows)


async def tag_by_name(session: AsyncSession, name: str) -> Tag | None:
    return await session.scalar(select(Tag).where(Tag.name == normalize_tag(name)))


def day_starts(days: int = HISTORY_DAYS, now: datetime | None = None) -> list[datetime]:
    """Midnight UTC of today and the days before it, newest first."""
    today = (now or utcnow()).replace(hour=0, minute=0, second=0, microsecond=0)
    return [today - timedelta(days=i) for i in range(days)]


def history_entries(starts: Sequence[datetime], counts: Sequence[tuple[int, int]]) -> list[dict[str, str]]:
    """Mastodon's history: per day, newest first, ``day`` as a UNIX timestamp, numbers as strings."""
    return [
        {"day": str(int(start.timestamp())), "uses": str(uses), "accounts": str(accounts)}
        for start, (uses, accounts) in zip(starts, counts, strict=True)
    ]


async def histories(session: AsyncSession, tag_ids: Collection[int]) -> dict[int, list[dict[str, str]]]:
    starts = day_starts()
    empty = history_entries(starts, [(0, 0)] * len(starts))
    if not tag_ids:
        return {}
    columns = []
    for start in starts:
        in_day = and_(Status.created_at >= start, Status.created_at < start + timedelta(days=1))
        columns.append(func.count(case((in_day, Status.id))))
        columns.append(func.count(distinct(case((in_day, Status.account_id)))))
    rows = await session.execute(
        select(StatusTag.tag_id, *columns)
        .join(Status, Status.id == StatusTag.status_id)
        .where(
            StatusTag.tag_id.in_(set(tag_ids)),
            Status.created_at >= starts[-1],
            Status.visibility.in_(PUBLIC_VISIBILITIES),
        )
        .group_by(StatusTag.tag_id)
    )
    found = {
        row[0]: history_entries(starts, [(row[1 + 2 * i], row[2 + 2 * i]) for i in range(len(starts))])
        for row in rows
    }
    return {tag_id: found.get(tag_id, empty) for tag_id in tag_ids}


async def followed_tag_ids(
    session: AsyncSession, viewer_id: int | None, tag_ids: Collection[int]
) -> set[int]:
    if viewer_id is None or not tag_ids:
        return set()
    return set(
        await session.scalars(
            select(TagFollow.tag_id).where(
                TagFollow.account_id == viewer_id, TagFollow.tag_id.in_(set(tag_ids))
            )
        )
    )


async def featured_tag_ids(
    session: AsyncSession, viewer_id: int | None, tag_ids: Collection[int]
) -> set[int]:
    if viewer_id is None or not tag_ids:
        return set()
    return set(
        await session.scalars(
            select(FeaturedTag.tag_id).where(
                FeaturedTag.account_id == viewer_id, FeaturedTag.tag_id.in_(set(tag_ids))
            )
        )
    )


@dataclass(frozen=True)
class FeaturedUse:
    statuses_count: int
    last_status_at: datetime | None


async def featured_uses(
    session: AsyncSession, account_id: int, tag_ids: Collection[int]
) -> dict[int, FeaturedUse]:
    """How many public or unlisted notes of the account carry each tag, and when it last used it."""
    if not tag_ids:
        return {}
    rows = await session.execute(
        select(StatusTag.tag_id, func.count(Status.id), func.max(Status.created_at))
        .join(Status, Status.id == StatusTag.status_id)
        .where(
            StatusTag.tag_id.in_(set(tag_ids)),
            Status.account_id == account_id,
            Status.visibility.in_(PUBLIC_VISIBILITIES),
        )
        .group_by(StatusTag.tag_id)
    )
    found = {tag_id: FeaturedUse(count, last) for tag_id, count, last in rows.all()}
    return {t: found.get(t, FeaturedUse(0, None)) for t in tag_ids}


async def featured_of(session: AsyncSession, account_id: int) -> list[tuple[FeaturedTag, Tag]]:
    rows = await session.execute(
        select(FeaturedTag, Tag)
        .join(Tag, Tag.id == FeaturedTag.tag_id)
        .where(FeaturedTag.account_id == account_id)
        .order_by(FeaturedTag.id)
    )
    return list(rows.all())


async def featured_suggestions(session: AsyncSession, account_id: int, limit: int = 10) -> list[Tag]:
    """The hashtags the account used most in its recent public notes, not featured yet."""
    since = utcnow() - timedelta(days=90)
    uses = func.count(Status.id)
    rows = await session.execute(
        select(Tag, uses)
        .join(StatusTag, StatusTag.tag_id == Tag.id)
        .join(Status, Status.id == StatusTag.status_id)
        .where(
            Status.account_id == account_id,
            Status.visibility.in_(PUBLIC_VISIBILITIES),
            Status.created_at >= since,
            Tag.id.not_in(select(FeaturedTag.tag_id).where(FeaturedTag.account_id == account_id)),
        )
        .group_by(Tag.id)
        .order_by(uses.desc(), Tag.name)
        .limit(limit)
    )
    return [tag for tag, _ in rows.all()]


def tag_follower_entries(status_id: Any) -> Select[int, int, int]:
    """Rows ``(follower, status id, author)`` that put a public note into the home feeds of the
    accounts following one of its hashtags (the shape of ``feeds.base.Entries``, for fan-out).
    ``status_id`` may be a bind parameter (fan-out builds the statement once)."""
    return (
        select(TagFollow.account_id, Status.id, Status.account_id)
        .select_from(Status)
        .join(StatusTag, StatusTag.status_id == Status.id)
        .join(TagFollow, TagFollow.tag_id == StatusTag.tag_id)
        .where(Status.id == status_id, Status.visibility == "public", Status.reblog_of_id.is_(None))
        .distinct()
    )
