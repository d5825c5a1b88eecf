"""Reading what a person keeps for themself: bookmarks, favourites, pins, edit history, scheduled
notes, markers and preferences. Notes always go through ``visible_to``."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import BigInteger, Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.db.hot import HotQuery, HotReader
from cordee.db.tables import Favourite, Status
from cordee.db.tables_personal import Bookmark, Marker, Preferences, StatusEdit, StatusPin
from cordee.queries.visibility import visible_to


def bookmarks_query(viewer_id: int) -> Select[Status, int]:
    """The viewer's bookmarked notes that they may still see, keyed by bookmark id."""
    return (
        select(Status, Bookmark.id)
        .join(Bookmark, Bookmark.status_id == Status.id)
        .where(Bookmark.account_id == viewer_id, visible_to(viewer_id))
    )


def favourites_query(viewer_id: int) -> Select[Status, int]:
    """The notes the viewer favourited that they may still see, keyed by favourite id."""
    return (
        select(Status, Favourite.id)
        .join(Favourite, Favourite.status_id == Status.id)
        .where(Favourite.account_id == viewer_id, visible_to(viewer_id))
    )


def pinned_query(viewer_id: int | None, account_id: int) -> Select[Status]:
    """An account's pinned notes, those the viewer may see."""
    pinned = select(StatusPin.status_id).where(StatusPin.account_id == account_id)
    return select(Status).where(Status.account_id == account_id, Status.id.in_(pinned), visible_to(viewer_id))


async def edits_of(session: AsyncSession, status_id: int) -> list[StatusEdit]:
    """A note's revisions, oldest (the original) first."""
    return list(
        await session.scalars(
            select(StatusEdit)
            .where(StatusEdit.status_id == status_id)
            .order_by(StatusEdit.created_at, StatusEdit.id)
        )
    )


async def markers_of(session: AsyncSession, account_id: int, timelines: Sequence[str]) -> list[Marker]:
    return list(
        await session.scalars(
            select(Marker).where(Marker.account_id == account_id, Marker.timeline.in_(timelines))
        )
    )


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
