"""One page of a home timeline as status entities: the hot path when it can answer, else the general
path. Shared by ``GET /api/v1/timelines/home`` and the web app's ``/home``, so both read the same
timeline the same way (one rule, one place)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, select

from cordee.api.mastodon.pagination import Page
from cordee.config import Settings
from cordee.db.engine import Database
from cordee.db.tables import Status
from cordee.db.tables_curation import Filter
from cordee.feeds.home import HomeTimeline
from cordee.queries import timelines as tl
from cordee.rendering.statuses import render_live, render_statuses


async def has_filters(db: Database, account_id: int) -> bool:
    """Whether the reader has filters (they send a home page to the general path)."""
    async with db.read() as session:
        return bool(await session.scalar(select(exists().where(Filter.account_id == account_id))))


async def home_page(
    db: Database,
    settings: Settings,
    timeline: HomeTimeline | None,
    account_id: int,
    page: Page,
    *,
    filters: bool,
) -> tuple[list[dict[str, Any]], list[int]]:
    """The entities of one page of ``account_id``'s home timeline and their ids (for paging)."""
    if timeline is None:  # an app built without feeds: the same timeline, straight from the database
        return await _general(db, settings, account_id, page, tl.home_query(account_id), None)
    if page.min_id is None and not filters:  # filters apply on the general path
        hot = await timeline.page(account_id, below=page.max_id, above=page.since_id, limit=page.limit)
        if hot is not None:
            body = await render_live(db, settings, account_id, hot.lives, hot.originals)
            return body, [x.id for x in hot.lives]
    lower = [b for b in (page.since_id, page.min_id) if b is not None]
    ids = await timeline.candidate_ids(account_id, below=page.max_id, above=max(lower) if lower else None)
    query = tl.home_feed_query(account_id, ids, settings.fanout_follower_threshold)
    # A feed keeps the newest notes only (CORDEE_FEED_SIZE): older pages come from the database.
    return await _general(db, settings, account_id, page, query, tl.home_query(account_id))


async def _general(
    db: Database, settings: Settings, account_id: int, page: Page, query: Any, older: Any
) -> tuple[list[dict[str, Any]], list[int]]:
    async with db.read() as session:
        rows = page.arrange(list(await session.scalars(page.apply(query, Status.id))))
        if older is not None and len(rows) < page.limit and page.min_id is None and page.since_id is None:
            bounds = [r.id for r in rows] + ([page.max_id] if page.max_id is not None else [])
            below = Page(max_id=min(bounds) if bounds else None, limit=page.limit - len(rows))
            rows += list(await session.scalars(below.apply(older, Status.id)))
        body = await render_statuses(session, settings, account_id, rows, filter_context="home")
    return body, [s.id for s in rows]
