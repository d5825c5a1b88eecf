"""Favourites."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, delete

from cordee.actions._counters import shift, shifting
from cordee.actions._notify import notify, withdraw
from cordee.actions.statuses import target_of
from cordee.db.changes import touching
from cordee.db.engine import Database
from cordee.db.hot_writes import inserting_unless_there, run
from cordee.db.tables import Favourite, Status
from cordee.db.types import utcnow
from cordee.ids import new_id

#: The favourite, unless the pair is there: one statement, no check first; a row back when it went in.
_INSERT_FAVOURITE = inserting_unless_there(
    cast(Table, Favourite.__table__), ("id", "account_id", "status_id", "created_at")
)


async def favourite(db: Database, actor_id: int, status_id: int) -> int:
    """Favourite a note (idempotent); returns the id of the favourited original."""
    async with db.write() as tx:
        status = await target_of(tx, actor_id, status_id)
        row = {"id": new_id(), "account_id": actor_id, "status_id": status.id, "created_at": utcnow()}
        dialect = tx.session.get_bind().dialect.name
        marked = touching(("s", status.id), ("r", actor_id))  # the note's count, the reader's marks
        if await run(tx.session, _INSERT_FAVOURITE[dialect], row, marked):
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
