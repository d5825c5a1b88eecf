"""Reading what a person keeps for themself: bookmarks, favourites, pins, edit history, scheduled
notes, markers and preferences. Notes always go through ``visible_to``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, Integer, Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.db.hot import HotQuery, HotReader, id_range, page_rows
from cordee.db.tables import Favourite, Status
from cordee.db.tables_personal import Bookmark, Marker, Preferences, StatusEdit, StatusPin
from cordee.queries.timelines import live
from cordee.queries.visibility import visible_to


def bookmarks_query(viewer_id: int) -> Select[Status, int]:
    """The viewer's bookmarked notes that they may still see, keyed by bookmark id."""
    return (
        select(Status, Bookmark.id)
        .join(Bookmark, Bookmark.status_id == Status.id)
        .where(Bookmark.account_id == viewer_id, visible_to(viewer_id))
    )


def _listed_page(table: type[Bookmark] | type[Favourite], newest_first: bool) -> HotQuery:
    viewer = bindparam("viewer", 0, type_=BigInteger())
    key = table.id
    query = (
        live(select(Status).join(table, table.status_id == Status.id))
        .add_columns(key)
        .where(
            table.account_id == viewer,
            visible_to(viewer),
            key < bindparam("below", 0, type_=BigInteger()),
            key > bindparam("above", 0, type_=BigInteger()),
        )
    )
    order = key.desc() if newest_first else key.asc()
    return HotQuery(query.order_by(order).limit(bindparam("limit", 1, type_=Integer())))


#: A page of the reader's bookmarks (``bookmarks_query``'s, for the web pages) or favourites as
#: live rows, each with the id of the row that listed it (the page's key), newest first or, for
#: ``min_id``, oldest first. Built once: building ``visible_to`` for each request was most of its
#: ~3.4 ms of CPU (measured).
LISTED_PAGES = {
    (name, newest_first): _listed_page(table, newest_first)
    for name, table in (("bookmarks", Bookmark), ("favourites", Favourite))
    for newest_first in (True, False)
}


async def listed_page(
    hot: HotReader,
    viewer: int,
    name: str,
    below: int | None,
    above: int | None,
    limit: int,
    *,
    oldest_first: bool = False,
) -> list[tuple[Any, ...]]:
    """Rows of a page of the reader's ``name`` ("bookmarks" or "favourites"): the notes' live
    columns then the listing row's id, newest first."""
    query = LISTED_PAGES[(name, not oldest_first)]
    return await page_rows(
        hot, query, oldest_first=oldest_first, viewer=viewer, limit=limit, **id_range(below, above)
    )


def pinned_query(viewer_id: Any, account_id: Any) -> Select[Status]:
    """An account's pinned notes, those the viewer may see. The arguments may be bind parameters
    (``PINNED_PAGES``, built once)."""
    pinned = select(StatusPin.status_id).where(StatusPin.account_id == account_id)
    return select(Status).where(Status.account_id == account_id, Status.id.in_(pinned), visible_to(viewer_id))


def _pinned_page(signed_in: bool, newest_first: bool) -> HotQuery:
    viewer = bindparam("viewer", 0, type_=BigInteger()) if signed_in else None
    author = bindparam("author", 0, type_=BigInteger())
    # ``pinned_query``'s rule, walked from the author's pins (a handful) rather than from their
    # notes: as ``id IN (pins)``, SQLite walked every note of the author to find them.
    pinned = StatusPin.status_id
    query = live(select(Status).select_from(StatusPin).join(Status, Status.id == pinned)).where(
        StatusPin.account_id == author,
        Status.account_id == author,
        visible_to(viewer),
        pinned < bindparam("below", 0, type_=BigInteger()),
        pinned > bindparam("above", 0, type_=BigInteger()),
    )
    order = pinned.desc() if newest_first else pinned.asc()
    return HotQuery(query.order_by(order).limit(bindparam("limit", 1, type_=Integer())))


#: A page of an account's pinned notes (the profile's pinned tab, which apps read with every
#: profile they open), for a signed-in reader or an anonymous one, newest first or oldest first.
PINNED_PAGES = {
    (signed_in, newest_first): _pinned_page(signed_in, newest_first)
    for signed_in in (True, False)
    for newest_first in (True, False)
}


async def pinned_page(
    hot: HotReader,
    viewer: int | None,
    author: int,
    below: int | None,
    above: int | None,
    limit: int,
    *,
    oldest_first: bool = False,
) -> list[tuple[Any, ...]]:
    """Live rows of a page of ``author``'s pinned notes that ``viewer`` may see, newest first."""
    params: dict[str, Any] = {"author": author, "limit": limit, **id_range(below, above)}
    if viewer is not None:
        params["viewer"] = viewer
    query = PINNED_PAGES[(viewer is not None, not oldest_first)]
    return await page_rows(hot, query, oldest_first=oldest_first, **params)


async def edits_of(session: AsyncSession, status_id: int) -> list[StatusEdit]:
    """A note's revisions, oldest (the original) first."""
    return list(
        await session.scalars(
            select(StatusEdit)
            .where(StatusEdit.status_id == status_id)
            .order_by(StatusEdit.created_at, StatusEdit.id)
        )
    )


#: A reader's markers (at most one a timeline), read on the hot path: apps read them with every
#: home poll, and a session for them cost more than the answer.
_MARKERS = HotQuery(
    select(Marker.timeline, Marker.last_read_id, Marker.version, Marker.updated_at).where(
        Marker.account_id == bindparam("viewer", 0, type_=BigInteger())
    )
)


async def markers_of(hot: HotReader, account_id: int, timelines: Sequence[str]) -> list[tuple[Any, ...]]:
    """(timeline, last read id, version, updated at) of the reader's markers of ``timelines``."""
    return [row for row in await hot.rows(_MARKERS, viewer=account_id) if row[0] in timelines]


async def preferences_of(session: AsyncSession, account_id: int) -> Preferences:
    """The account's preferences; the defaults (an unsaved row) when it never changed them."""
    row = await session.get(Preferences, account_id)
    return row if row is not None else default_preferences(account_id)


#: What a new note takes when its author never set posting defaults (visibility, sensitive, language).
POSTING_DEFAULTS: tuple[str, bool, str | None] = ("public", False, None)


def default_preferences(account_id: int) -> Preferences:
    visibility, sensitive, language = POSTING_DEFAULTS
    return Preferences(
        account_id=account_id,
        default_visibility=visibility,
        default_sensitive=sensitive,
        default_language=language,
        expand_media="default",
        expand_spoilers=False,
    )


#: The columns ``posting_defaults_of`` reads (outer-joined by the API's caller lookup too).
POSTING_COLUMNS = (
    Preferences.default_visibility,
    Preferences.default_sensitive,
    Preferences.default_language,
)

_POSTING_DEFAULTS = HotQuery(
    select(*POSTING_COLUMNS).where(Preferences.account_id == bindparam("account_id", 0, type_=BigInteger()))
)


async def posting_defaults(hot: HotReader, account_id: int) -> tuple[str, bool, str | None]:
    """The visibility, sensitivity and language a new note takes when its author says nothing."""
    rows = await hot.rows(_POSTING_DEFAULTS, account_id=account_id)
    return posting_defaults_of(*rows[0]) if rows else POSTING_DEFAULTS


def posting_defaults_of(
    visibility: str | None, sensitive: bool | None, language: str | None
) -> tuple[str, bool, str | None]:
    """The posting defaults from a row of ``POSTING_COLUMNS`` (all None: no row, the defaults —
    ``default_visibility`` is never NULL in a row)."""
    if visibility is None:
        return POSTING_DEFAULTS
    return visibility, bool(sensitive), language
