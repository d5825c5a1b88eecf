"""Denormalised counters, changed in SQL (``x = x + 1``) so concurrent writers never lose a count."""

from __future__ import annotations

from functools import cache
from typing import Any, cast

from sqlalchemy import BigInteger, ColumnElement, Integer, Table, bindparam, case, update
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.db.changes import touching
from cordee.db.hot import HotQuery
from cordee.db.hot_writes import Write, run
from cordee.db.sqlite_driver import deferred


def shifted(column: Any, delta: Any) -> ColumnElement[int]:
    """``column + delta``, never below zero (portable: no GREATEST on SQLite, no 2-arg MAX on PG).
    ``delta`` may be a bind parameter, in statements built once."""
    return case((column + delta < 0, 0), else_=column + delta)


#: The kind of key (``db/changes.py``) of each table with counters.
_KINDS = {"statuses": "s", "accounts": "a"}


@cache
def _shift_statement(table: Table, column: str) -> HotQuery:
    # On the table: a Core UPDATE with parameters, not the ORM's bulk UPDATE by primary key.
    # Built once per counter: building the CASE per call was a third of a follow's CPU (py-spy).
    # Deferred: nobody reads a shift's result, it rides with the next statement on SQLite.
    row = bindparam("row_id", type_=BigInteger())
    return HotQuery(
        deferred(
            update(table)
            .where(table.c.id == row)
            .values({column: shifted(table.c[column], bindparam("delta", type_=Integer()))})
        )
    )


def shifting(entity: type[Any], column: str, row_id: int, delta: int) -> Write:
    """Moving one counter of one row (``entity``'s ``column`` where ``id = row_id``) by ``delta``,
    to run (``shift``) or to ride ahead of another statement (``actions._notify.notify``)."""
    table = cast(Table, entity.__table__)
    # What rendered pages show of the row (``db/changes.py``): a note's or an account's counters.
    key = (_KINDS[table.name], row_id)
    return Write(_shift_statement(table, column), {"row_id": row_id, "delta": delta}, touching(key))


async def shift(session: AsyncSession, entity: type[Any], column: str, row_id: int, delta: int) -> None:
    """Move one counter of one row (``entity``'s ``column`` where ``id = row_id``) by ``delta``."""
    await run(session, *shifting(entity, column, row_id, delta))
