"""Pages of notes on the hot read path (``db/hot.py``): the rows a timeline page shows, with what
changes on them between reads (``Live``), ready for ``rendering.statuses.render_live``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, bindparam

from cordee.actions.errors import NotFound
from cordee.db.hot import HotQuery, HotReader, id_range, page_rows
from cordee.db.types import utcnow
from cordee.queries.timelines import (
    ACCOUNT_EXISTS,
    ACCOUNT_HIDDEN,
    ACCOUNT_PAGES,
    PUBLIC_PAGES,
    TAG_PAGES,
    VISIBLE_ONE,
    VISIBLE_ONE_ANONYMOUS,
    WINDOW,
    live_visible,
)
from cordee.queries.visibility import in_a_block_with

#: The accounts in a block with a reader, either way.
BLOCKS_EITHER_WAY = HotQuery(in_a_block_with(bindparam("viewer", 0, type_=BigInteger())))


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


async def live_rows(
    hot: HotReader, ids: Sequence[int], statement: HotQuery, params: dict[str, Any]
) -> list[tuple[Any, ...]]:
    """``statement`` (a statement of ``WINDOW`` id slots) over any number of ids, a window at a
    time (each id once)."""
    unique = list(dict.fromkeys(ids))
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(unique), WINDOW):
        rows += await hot.rows(statement, ids=unique[start : start + WINDOW], **params)
    return rows


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


async def _account_rows(
    hot: HotReader,
    viewer: int | None,
    author: int,
    bounds: dict[str, int],
    limit: int,
    tab: tuple[bool, bool],
) -> list[Any]:
    """The rows of a page of an account's notes that ``viewer`` may see; NotFound when there is no
    such account (asked only of an empty page: a note's author exists, its notes go with it)."""
    query = ACCOUNT_PAGES[(viewer is not None, *tab)]
    if viewer is None:
        rows = await hot.rows(query, author=author, limit=limit, **bounds)
    else:
        rows = await hot.rows(query, viewer=viewer, now=utcnow(), author=author, limit=limit, **bounds)
    if not rows and not await hot.rows(ACCOUNT_EXISTS, author=author):
        raise NotFound("Record not found")
    return list(rows)


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
    replies to others and its boosts; NotFound when there is no such account."""
    tab = (exclude_replies, exclude_reblogs)
    rows = await _account_rows(hot, viewer, author, id_range(below, above), limit, tab)
    return await with_originals(hot, rows, viewer=viewer)


async def public_page(
    hot: HotReader,
    viewer: int | None,
    scope: str,
    below: int | None,
    above: int | None,
    limit: int,
    *,
    oldest_first: bool = False,
    tag: str | None = None,
) -> LivePage:
    """A page of the public timeline (``scope``: "all", "local" or "remote") as ``viewer`` sees it
    (``public_query``), or of its notes with the hashtag ``tag`` (a normalised name), newest first;
    ``oldest_first``: the ``limit`` notes just above ``above`` (a page asked with ``min_id``),
    still returned newest first."""
    pages = PUBLIC_PAGES if tag is None else TAG_PAGES
    query = pages[(viewer is not None, scope, not oldest_first)]
    params: dict[str, Any] = {"limit": limit, **id_range(below, above)}
    if tag is not None:
        params["tag"] = tag
    if viewer is not None:
        params.update(viewer=viewer, now=utcnow())
    rows = await page_rows(hot, query, oldest_first=oldest_first, **params)
    return await with_originals(hot, rows, viewer=viewer)


async def tagged_page(
    hot: HotReader,
    viewer: int | None,
    scope: str,
    tags: Sequence[str],
    below: int | None,
    above: int | None,
    limit: int,
    *,
    oldest_first: bool = False,
) -> LivePage:
    """A page of the public notes with any of ``tags`` (normalised names): each tag's own page
    (``public_page``, walked through its index), merged — the newest (or, ``oldest_first``, the
    oldest) ``limit`` of them are the page, as each tag's page holds its first ``limit``."""
    pages = [
        await public_page(hot, viewer, scope, below, above, limit, oldest_first=oldest_first, tag=tag)
        for tag in dict.fromkeys(tags)
    ]
    if len(pages) == 1:
        return pages[0]
    lives = {x.id: x for page in pages for x in page.lives}
    chosen = sorted(lives, reverse=not oldest_first)[:limit]
    originals = {k: v for page in pages for k, v in page.originals.items()}
    return LivePage([lives[i] for i in sorted(chosen, reverse=True)], originals)


async def anonymous_account_page(
    hot: HotReader, author: int, below: int | None, above: int | None, limit: int, tab: tuple[bool, bool]
) -> tuple[LivePage, bool]:
    """The page of an account's notes an anonymous reader sees (``account_page``), and whether
    every signed-in reader in no block with its accounts (the author, the authors of the notes
    its boosts carry) sees the same: True when, among the ids the page spans, the account has no
    note of the tab that the anonymous reader may not see (``visible_to(None)``: a followers-only
    or direct note, or a boost of one). Such a reader sees every note the anonymous one does
    (``visible_to``: public and unlisted notes are everyone's but across a block), so their first
    ``limit`` notes are the same ones. ``tab``: without replies to others, without boosts."""
    bounds = id_range(below, above)
    rows = await _account_rows(hot, None, author, bounds, limit, tab)
    # A full page spans the ids down to its last note; a shorter one, down to the lower bound.
    spans = {**bounds, "above": rows[-1][0]} if rows and len(rows) == limit else bounds
    hidden = await hot.rows(ACCOUNT_HIDDEN[tab], author=author, **spans)
    return await with_originals(hot, rows, viewer=None), not hidden[0][0]


async def blocks_either_way(hot: HotReader, viewer: int) -> frozenset[int]:
    return frozenset(account_id for (account_id,) in await hot.rows(BLOCKS_EITHER_WAY, viewer=viewer))


async def visible_one(hot: HotReader, viewer: int | None, status_id: int) -> LivePage | None:
    """One note as a page, if it exists and ``viewer`` may see it (``visible_to``); None either
    way otherwise, so a hidden note and a missing one answer alike."""
    if viewer is None:
        rows = await hot.rows(VISIBLE_ONE_ANONYMOUS, status_id=status_id)
    else:
        rows = await hot.rows(VISIBLE_ONE, viewer=viewer, now=utcnow(), status_id=status_id)
    page = await with_originals(hot, rows, viewer=viewer)
    return page if page.lives else None
