"""Favourites."""

from __future__ import annotations

from typing import cast

from sqlalchemy import BigInteger, Table, bindparam, delete, func, select, update

from cordee.actions._counters import shift, shifting
from cordee.actions._notify import notify, withdraw
from cordee.actions.statuses import target_of
from cordee.db.changes import touching
from cordee.db.engine import Database
from cordee.db.hot import HotQuery
from cordee.db.hot_writes import inserting_unless_there, run, unless_there
from cordee.db.sqlite_driver import deferred
from cordee.db.tables import Favourite, Status
from cordee.db.types import utcnow
from cordee.ids import new_id

_TABLE = cast(Table, Favourite.__table__)
_COLUMNS = ("id", "account_id", "status_id", "created_at")
#: The favourite, unless the pair is there: one statement, no check first; a row back when it went in.
_INSERT_FAVOURITE = inserting_unless_there(_TABLE, _COLUMNS)
#: On SQLite: the same left behind by its writer (no rows back); its count and its notification
#: then go by whether the row of its new id is there. Asking the insert which rows went in was a
#: hop to SQLite's thread under the writers' lock.
_INSERT_FAVOURITE_LEFT = HotQuery(deferred(unless_there(_TABLE, _COLUMNS, "sqlite")))
_COUNT_IF_NEW = HotQuery(
    deferred(
        update(Status)
        .where(Status.id == bindparam("status_id", type_=BigInteger()))
        .values(
            favourites_count=Status.favourites_count
            + select(func.count())
            .where(_TABLE.c.id == bindparam("row_id", type_=BigInteger()))
            .scalar_subquery()
        )
    )
)


async def favourite(db: Database, actor_id: int, status_id: int) -> int:
    """Favourite a note (idempotent); returns the id of the favourited original."""
    async with db.write() as tx:
        status = await target_of(tx, actor_id, status_id)
        favourite_id = new_id()
        row = {"id": favourite_id, "account_id": actor_id, "status_id": status.id, "created_at": utcnow()}
        dialect = tx.session.get_bind().dialect.name
        marked = touching(("s", status.id), ("r", actor_id))  # the note's count, the reader's marks
        if dialect == "sqlite":
            await run(tx.session, _INSERT_FAVOURITE_LEFT, row, marked)
            params = {"status_id": status.id, "row_id": favourite_id}
            await run(tx.session, _COUNT_IF_NEW, params, touching(("s", status.id)))
            if_row = (_TABLE, favourite_id)
            await notify(tx, status.account_id, actor_id, "favourite", status.id, if_row=if_row)
        elif await run(tx.session, _INSERT_FAVOURITE[dialect], row, marked):
            counted = shifting(Status, "favourites_count", status.id, +1)
            await notify(tx, status.account_id, actor_id, "favourite", status.id, ahead=counted)
        return status.id


async def unfavourite(db: Database, actor_id: int, status_id: int) -> int:
    """Take a favourite back (idempotent); returns the id of the original."""
    async with db.write() as tx:
        status = await target_of(tx, actor_id, status_id)
        result = await tx.session.execute(
            delete(Favourite).where(Favourite.account_id == actor_id, Favourite.status_id == status.id),
            execution_options=touching(("s", status.id), ("r", actor_id)),
        )
        if result.rowcount:  # type: ignore[attr-defined]
            await shift(tx.session, Status, "favourites_count", status.id, -1)
            await withdraw(tx, status.account_id, actor_id, "favourite", status.id)
        return status.id
