"""A page of a reader's notifications on the hot read path (``db/hot.py``): one statement built
once, under ``notification_shown`` (the one rule for who is notified), optionally of some types
only or of all types but some."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import BigInteger, Integer, String, bindparam, select

from cordee.db.hot import HotQuery, HotReader, id_range, page_rows
from cordee.db.tables import Notification
from cordee.db.types import UTCDateTime, utcnow
from cordee.queries.visibility import notification_shown

#: Type names a page may be asked with (types or exclude_types): more than there are types.
TYPE_SLOTS = 24
#: Pads unused type slots: no notification has an empty type.
_NO_TYPE = ""

_viewer: Any = bindparam("viewer", 0, type_=BigInteger())
_types = [bindparam(f"type{i}", _NO_TYPE, type_=String()) for i in range(TYPE_SLOTS)]


class Row(NamedTuple):
    id: int
    type: str
    created_at: datetime
    from_account_id: int
    status_id: int | None


def _page(types: str, newest_first: bool) -> HotQuery:
    now = bindparam("now", utcnow(), type_=UTCDateTime())
    query = select(
        Notification.id,
        Notification.type,
        Notification.created_at,
        Notification.from_account_id,
        Notification.status_id,
    ).where(
        Notification.account_id == _viewer,
        notification_shown(_viewer, Notification.from_account_id, now),
        Notification.id < bindparam("below", 0, type_=BigInteger()),
        Notification.id > bindparam("above", 0, type_=BigInteger()),
    )
    if types == "only":
        query = query.where(Notification.type.in_(_types))
    elif types == "except":
        query = query.where(Notification.type.not_in(_types))
    order = Notification.id.desc() if newest_first else Notification.id.asc()
    return HotQuery(query.order_by(order).limit(bindparam("limit", 1, type_=Integer())))


#: By which types ("all", "only" the ones given, "except" the ones given) and direction (newest
#: first, or oldest first for a page asked with ``min_id``).
PAGES = {
    (types, newest_first): _page(types, newest_first)
    for types in ("all", "only", "except")
    for newest_first in (True, False)
}


async def notification_page(
    hot: HotReader,
    viewer: int,
    below: int | None,
    above: int | None,
    limit: int,
    *,
    types: tuple[str, ...] = (),
    excluded: tuple[str, ...] = (),
    oldest_first: bool = False,
) -> list[Row]:
    """The reader's notifications between the bounds, newest first (``oldest_first``: the ``limit``
    just above ``above``, still returned newest first), of ``types`` only, or but ``excluded``."""
    given = types or excluded
    assert len(given) <= TYPE_SLOTS and not (types and excluded)
    kind = "only" if types else "except" if excluded else "all"
    params: dict[str, Any] = {"viewer": viewer, "now": utcnow(), "limit": limit, **id_range(below, above)}
    params.update(
        (f"type{i}", name) for i, name in enumerate([*given, *[_NO_TYPE] * (TYPE_SLOTS - len(given))])
    )
    rows = await page_rows(hot, PAGES[(kind, not oldest_first)], oldest_first=oldest_first, **params)
    return [Row(*row) for row in rows]
