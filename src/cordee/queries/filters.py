"""Applying a viewer's filters to a page of statuses.

The viewer's active filters for one context are loaded once per page (a few queries, whatever the
page size), their keywords compiled to regular expressions, and each note is matched on its plain
text and content warning. A keyword with ``whole_word`` only matches at word boundaries — on the
sides of the keyword that are word characters, as Mastodon does, so ``#tag`` or ``c++`` still match.
A reblog is judged by the note it carries. One's own notes are never filtered.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.db.tables import Status
from cordee.db.tables_curation import Filter, FilterKeyword, FilterStatus
from cordee.db.types import utcnow

CONTEXTS = ("home", "notifications", "public", "thread", "account")
ACTIONS = ("warn", "hide", "blur")


def keyword_pattern(keyword: str, whole_word: bool) -> re.Pattern[str]:
    escaped = re.escape(keyword)
    if whole_word:
        start = r"\b" if re.match(r"\w", keyword) else ""
        end = r"\b" if re.search(r"\w\Z", keyword) else ""
        escaped = f"{start}{escaped}{end}"
    return re.compile(escaped, re.IGNORECASE)


@dataclass(frozen=True)
class ActiveFilter:
    filter: Filter
    keywords: tuple[tuple[str, re.Pattern[str]], ...]
    status_ids: frozenset[int]


@dataclass(frozen=True)
class FilterMatch:
    filter: Filter
    keyword_matches: tuple[str, ...]
    status_matches: tuple[int, ...]


def contexts_of(row: Filter) -> list[str]:
    return row.context.split()


async def active_filters(
    session: AsyncSession, account_id: int, context: str, status_ids: Collection[int] = ()
) -> list[ActiveFilter]:
    """The account's unexpired filters for ``context``; status rules only for ``status_ids``."""
    rows = [
        f
        for f in await session.scalars(
            select(Filter)
            .where(
                Filter.account_id == account_id,
                or_(Filter.expires_at.is_(None), Filter.expires_at > utcnow()),
            )
            .order_by(Filter.id)
        )
        if context in contexts_of(f)
    ]
    if not rows:
        return []
    ids = [f.id for f in rows]
    keywords: dict[int, list[tuple[str, re.Pattern[str]]]] = {i: [] for i in ids}
    for k in await session.scalars(
        select(FilterKeyword).where(FilterKeyword.filter_id.in_(ids)).order_by(FilterKeyword.id)
    ):
        keywords[k.filter_id].append((k.keyword, keyword_pattern(k.keyword, k.whole_word)))
    statuses: dict[int, set[int]] = {i: set() for i in ids}
    if status_ids:
        for filter_id, status_id in await session.execute(
            select(FilterStatus.filter_id, FilterStatus.status_id).where(
                FilterStatus.filter_id.in_(ids), FilterStatus.status_id.in_(set(status_ids))
            )
        ):
            statuses[filter_id].add(status_id)
    return [ActiveFilter(f, tuple(keywords[f.id]), frozenset(statuses[f.id])) for f in rows]


def match(
    filters: Sequence[ActiveFilter], status: Status, also_ids: Collection[int] = ()
) -> list[FilterMatch]:
    """The filters ``status`` (an original note) falls under; ``also_ids`` are ids standing for it
    (a reblog's own id), matched by status rules too."""
    text = f"{status.spoiler_text}\n{status.text}"
    found: list[FilterMatch] = []
    for f in filters:
        words = tuple(keyword for keyword, pattern in f.keywords if pattern.search(text))
        ids = tuple(i for i in (status.id, *also_ids) if i in f.status_ids)
        if words or ids:
            found.append(FilterMatch(f.filter, words, ids))
    return found


@dataclass
class PageVerdict:
    """What filtering decided for a page: the statuses to keep and, by id, the matches to show."""

    kept: list[Status]
    matches: dict[int, list[FilterMatch]]


async def judge_page(
    session: AsyncSession, viewer_id: int, statuses: Sequence[Status], context: str
) -> PageVerdict:
    """Apply the viewer's filters for ``context``: ``hide`` drops a note, other actions flag it.
    Matches are keyed by the listed status's id and, for a reblog, by its original's id too."""
    if not statuses:
        return PageVerdict([], {})
    original_ids = {s.reblog_of_id for s in statuses if s.reblog_of_id is not None}
    every_id = {s.id for s in statuses} | original_ids
    filters = await active_filters(session, viewer_id, context, every_id)
    if not filters:
        return PageVerdict(list(statuses), {})
    originals = (
        {s.id: s for s in await session.scalars(select(Status).where(Status.id.in_(original_ids)))}
        if original_ids
        else {}
    )
    kept: list[Status] = []
    matches: dict[int, list[FilterMatch]] = {}
    for status in statuses:
        proper = originals.get(status.reblog_of_id, status) if status.reblog_of_id else status
        if proper.account_id == viewer_id:
            kept.append(status)
            continue
        found = match(filters, proper, (status.id,) if proper is not status else ())
        if any(m.filter.action == "hide" for m in found):
            continue
        kept.append(status)
        if found:
            matches[status.id] = found
            matches[proper.id] = found
    return PageVerdict(kept, matches)
