"""Pages of notes on the hot read path (``db/hot.py``): the rows a timeline page shows, with what
changes on them between reads (``Live``), ready for ``rendering.statuses.render_live``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cordee.actions.errors import NotFound
from cordee.db.hot import MAX_ID, HotReader
from cordee.db.types import utcnow
from cordee.queries.timelines import (
    ACCOUNT_EXISTS,
    ACCOUNT_PAGES,
    VISIBLE_ONE,
    VISIBLE_ONE_ANONYMOUS,
    live_visible,
)


@dataclass(frozen=True)
class Live:
    """A note's fields that change without an edit, and its author's counters, read per page
    (the columns of ``queries.timelines.LIVE_COLUMNS``, in order)."""

    id: int
    account_id: int
    reblog_of_id: int | None
    edited_at: datetime | None
    replies_count: int
    reblogs_count: int
    favourites_count: int
    followers_count: int
    following_count: int
    statuses_count: int
    last_status_at: datetime | None


@dataclass(frozen=True)
class LivePage:
    """Rows of one page, newest first, and the boosted originals they need."""

    lives: list[Live]
    originals: dict[int, Live]


async def with_originals(hot: HotReader, rows: Sequence[Sequence[Any]], *, viewer: int | None) -> LivePage:
    """The page of these rows, with the counters of the notes their boosts carry — read through
    the visibility rule for ``viewer``, so a boost whose note the reader may not see is left out
    even if the rows came from a statement that forgot to judge it."""
    lives = [Live(*row) for row in rows]
    original_ids = [x.reblog_of_id for x in lives if x.reblog_of_id is not None]
    originals = {}
    if original_ids:
        statement, params = live_visible(viewer)
        originals = {row[0]: Live(*row) for row in await hot.rows(statement, ids=original_ids, **params)}
    # A boost whose original vanished between the two reads is left out, as a deleted one would be.
    return LivePage([x for x in lives if x.reblog_of_id is None or x.reblog_of_id in originals], originals)


async def account_page(
    hot: HotReader,
    viewer: int | None,
    author: int,
    below: int | None,
    above: int | None,
    limit: int,
    *,
    exclude_replies: bool = False,
    exclude_reblogs: bool = False,
) -> LivePage:
    """A page of an account's notes that ``viewer`` may see (``visible_to``), with or without its
    replies to others and its boosts; NotFound when there is no such account (asked only of an
    empty page: a note's author exists, its notes go with it)."""
    bounds = {"below": MAX_ID if below is None else below, "above": 0 if above is None else above}
    query = ACCOUNT_PAGES[viewer is not None, exclude_replies, exclude_reblogs]
    if viewer is None:
        rows = await hot.rows(query, author=author, limit=limit, **bounds)
    else:
        rows = await hot.rows(query, viewer=viewer, now=utcnow(), author=author, limit=limit, **bounds)
    if not rows and not await hot.rows(ACCOUNT_EXISTS, author=author):
        raise NotFound("Record not found")
    return await with_originals(hot, rows, viewer=viewer)


async def visible_one(hot: HotReader, viewer: int | None, status_id: int) -> LivePage | None:
    """One note as a page, if it exists and ``viewer`` may see it (``visible_to``); None either
    way otherwise, so a hidden note and a missing one answer alike."""
    if viewer is None:
        rows = await hot.rows(VISIBLE_ONE_ANONYMOUS, status_id=status_id)
    else:
        rows = await hot.rows(VISIBLE_ONE, viewer=viewer, now=utcnow(), status_id=status_id)
    page = await with_originals(hot, rows, viewer=viewer)
    return page if page.lives else None
