"""A simple search: hashtags by prefix, statuses by words, among what the viewer may see."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.db.tables import Status, Tag
from cordee.domain.text import normalize_tag
from cordee.queries.accounts import escape_like
from cordee.queries.visibility import shown_in_timelines, visible_to


async def search_tags(session: AsyncSession, q: str, *, limit: int, offset: int = 0) -> list[Tag]:
    name = normalize_tag(q.strip().lstrip("#"))
    if not name:
        return []
    query = (
        select(Tag)
        .where(Tag.name.like(escape_like(name) + "%", escape="\\"))
        .order_by((Tag.name == name).desc(), func.length(Tag.name), Tag.name)
        .offset(offset)
        .limit(limit)
    )
    return list(await session.scalars(query))


async def search_statuses(
    session: AsyncSession,
    viewer_id: int | None,
    q: str,
    *,
    limit: int,
    offset: int = 0,
    account_id: int | None = None,
    max_id: int | None = None,
    min_id: int | None = None,
) -> list[Status]:
    """Notes containing every word of ``q`` (case-insensitive), newest first; reblogs excluded."""
    words = [w for w in q.lower().split() if w][:8]
    if not words:
        return []
    query = select(Status).where(
        Status.reblog_of_id.is_(None), visible_to(viewer_id), shown_in_timelines(viewer_id)
    )
    for word in words:
        query = query.where(func.lower(Status.text).like("%" + escape_like(word) + "%", escape="\\"))
    if account_id is not None:
        query = query.where(Status.account_id == account_id)
    if max_id is not None:
        query = query.where(Status.id < max_id)
    if min_id is not None:
        query = query.where(Status.id > min_id)
    return list(await session.scalars(query.order_by(Status.id.desc()).offset(offset).limit(limit)))
