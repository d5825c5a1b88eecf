"""Trends, computed from recent public activity (nothing curated):

- tags: hashtags of recent public notes, by how many distinct accounts used them, then uses;
- statuses: recent public notes by favourites + boosts;
- links: URLs in recent public notes, by how many distinct accounts shared them, then uses.

Tags and links are the same for every reader, and each computation aggregates a week of public
notes (its cost grows with the instance's activity, on endpoints anyone may call: 24 ms of CPU
a request at 4,400 tagged notes, measured): they are kept ``KEEP_SECONDS`` per process
(``Kept``), as Mastodon recomputes its trends every few minutes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar, cast

from sqlalchemy import Select, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.db.tables import Status, StatusTag, Tag
from cordee.db.types import utcnow
from cordee.domain.text import extract_entities
from cordee.queries.tags import HISTORY_DAYS, day_starts, history_entries
from cordee.queries.visibility import shown_in_timelines, visible_to

T = TypeVar("T")
WINDOW = timedelta(days=HISTORY_DAYS)
#: How long a computed trend is served before it is computed again.
KEEP_SECONDS = 60.0
#: Links are found by reading notes: at most this many of the newest public ones are read.
MAX_NOTES_SCANNED = 5000


def _recent_public() -> Select[Status]:
    return select(Status).where(
        Status.visibility == "public", Status.reblog_of_id.is_(None), Status.created_at >= utcnow() - WINDOW
    )


async def trending_tags(session: AsyncSession, limit: int, offset: int = 0) -> list[Tag]:
    accounts = func.count(distinct(Status.account_id))
    uses = func.count(Status.id)
    rows = await session.execute(
        select(Tag, accounts, uses)
        .join(StatusTag, StatusTag.tag_id == Tag.id)
        .join(Status, Status.id == StatusTag.status_id)
        .where(Status.visibility == "public", Status.created_at >= utcnow() - WINDOW)
        .group_by(Tag.id)
        .order_by(accounts.desc(), uses.desc(), Tag.name)
        .offset(offset)
        .limit(limit)
    )
    return [tag for tag, _, _ in rows.all()]


def trending_statuses_query(viewer_id: int | None) -> Select[Status]:
    engagement = Status.favourites_count + Status.reblogs_count
    return (
        _recent_public()
        .where(engagement > 0, visible_to(viewer_id), shown_in_timelines(viewer_id))
        .order_by(engagement.desc(), Status.id.desc())
    )


@dataclass
class TrendingLink:
    url: str
    accounts: set[int] = field(default_factory=set)
    uses: int = 0
    per_day: dict[int, tuple[int, set[int]]] = field(default_factory=dict)

    def history(self) -> list[dict[str, str]]:
        starts = day_starts()
        counts = [self.per_day.get(i, (0, set())) for i in range(len(starts))]
        return history_entries(starts, [(uses, len(who)) for uses, who in counts])


async def trending_links(session: AsyncSession, limit: int, offset: int = 0) -> list[TrendingLink]:
    rows = await session.execute(
        _recent_public()
        .with_only_columns(Status.account_id, Status.text, Status.created_at)
        .where(Status.text.contains("://"))
        .order_by(Status.id.desc())
        .limit(MAX_NOTES_SCANNED)
    )
    today = day_starts()[0]
    links: dict[str, TrendingLink] = {}
    for account_id, text, created_at in rows.all():
        day = (today - created_at.replace(hour=0, minute=0, second=0, microsecond=0)).days
        for url in dict.fromkeys(e.value for e in extract_entities(text) if e.kind == "url"):
            link = links.setdefault(url, TrendingLink(url))
            link.accounts.add(account_id)
            link.uses += 1
            uses, who = link.per_day.get(day, (0, set()))
            link.per_day[day] = (uses + 1, who | {account_id})
    ranked = sorted(links.values(), key=lambda link: (-len(link.accounts), -link.uses, link.url))
    return ranked[offset : offset + limit]


class Kept:
    """Trends computed lately, by what was asked (kind, limit, offset), each served for
    ``KEEP_SECONDS`` after it was computed. Requests that find one under way wait for it rather
    than compute it again."""

    def __init__(self) -> None:
        self._kept: dict[tuple[Any, ...], tuple[float, asyncio.Task[Any]]] = {}

    async def get(self, key: tuple[Any, ...], compute: Callable[[], Awaitable[T]]) -> T:
        now = time.monotonic()
        found = self._kept.get(key)
        stale = found is None or now - found[0] >= KEEP_SECONDS
        if stale or (found is not None and found[1].done() and found[1].exception() is not None):
            if len(self._kept) > 256:  # odd limits and offsets: forget the old ones
                self._kept = {k: v for k, v in self._kept.items() if now - v[0] < KEEP_SECONDS}
            found = (now, asyncio.ensure_future(compute()))
            self._kept[key] = found
        assert found is not None
        return cast(T, await asyncio.shield(found[1]))
