"""Statements built once, run inside a write transaction past the ORM session's machinery.

The hot read path runs its statements on asyncpg directly (``db/hot.py``); a write transaction ran
every statement through ``AsyncSession.execute``: the ORM's execution state, the events, the
compiled cache's lookup, the execution context and the result, on top of the driver's own work.
Measured on PostgreSQL (a counter's ``UPDATE`` in one transaction, 2,000 times): ~220–240 µs of
CPU through the session, ~90–110 µs prepared on asyncpg; a follow's check ~310–400 µs. A follow
runs six such statements, a post five.

``run`` takes a ``HotQuery`` and, on PostgreSQL, sends it on the transaction's own asyncpg
connection (the same transaction: it sees and is seen by the session's statements), after the
session's pending objects are flushed and with the statement observed as the session observes
every statement it runs (``db/changes.py``): the caches hear of it the same way. Elsewhere (SQLite:
its writers' statements ride with each other in the group commit, ``db/sqlite_driver.py``) it goes
through the session as before. A statement run so raises its driver's errors as the session
would (SQLAlchemy's ``IntegrityError``…, not asyncpg's own), so that a caller settling a lost race
by catching one does not let it through as a 500; the statements here mostly settle theirs in SQL
(``ON CONFLICT``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Insert, Table, bindparam, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.db.changes import TX_KEY, Writes, observe_writes, writes_of
from cordee.db.hot import HotQuery, processed
from cordee.db.sqlite_driver import DEFERRED_MARK, DRIVER_INFO, OneHopConnection, RowsCallback, execute_late


def _named(table: Table, columns: Sequence[str]) -> dict[str, Any]:
    return {name: bindparam(name, None, type_=table.c[name].type) for name in columns}


def inserting(table: Table, columns: Sequence[str]) -> Insert:
    """``INSERT`` of one row of ``columns`` (each a parameter of its name), for a ``HotQuery``:
    compiled without parameters, a bare ``insert(table)`` would name every column of the table."""
    return insert(table).values(_named(table, columns))


def unless_there(table: Table, columns: Sequence[str], dialect: str) -> Insert:
    """``inserting`` on ``dialect``, as ``INSERT … ON CONFLICT DO NOTHING``: nothing written when a
    unique key is there, without a check first."""
    dml = sqlite.insert if dialect == "sqlite" else postgresql.insert
    return dml(table).values(_named(table, columns)).on_conflict_do_nothing()


def inserting_unless_there(table: Table, columns: Sequence[str]) -> dict[str, HotQuery]:
    """``inserting``, as ``INSERT … ON CONFLICT DO NOTHING RETURNING id`` built for each database:
    no row back when a unique key was there (a repeated or concurrent call), without a check first
    or the savepoint a caught ``IntegrityError`` needs."""
    return {
        name: HotQuery(unless_there(table, columns, name).returning(table.c.id))
        for name in ("sqlite", "postgresql")
    }


class Write(NamedTuple):
    """A statement built once, with its parameters and execution options, to ``run`` later (or
    ``riding`` ahead of another)."""

    query: HotQuery
    params: Mapping[str, Any]
    options: Mapping[str, Any] | None = None


#: ``riding``'s combinations, built once each: keyed by the statements' identities.
_RIDING: dict[tuple[int, ...], tuple[tuple[HotQuery, ...], HotQuery]] = {}


def riding(main: HotQuery, *ahead: HotQuery) -> HotQuery:
    """``main`` with each of ``ahead``'s writes as a ``WITH`` of it: one statement, one round trip,
    on PostgreSQL (DML in a ``WITH`` runs once, read or not). For writes none of which reads what
    another writes (they share one snapshot) and that lock rows in no order that matters; their
    parameters share one namespace (the caller keeps the names apart), and the ``WITH``s are named
    ``riding_0``, ``riding_1``… (``main`` must not be a ``riding`` itself)."""
    key = (id(main), *map(id, ahead))
    kept = _RIDING.get(key)
    if kept is None or any(a is not b for a, b in zip(kept[0], (main, *ahead), strict=True)):
        statement = main.statement
        for n, other in enumerate(ahead):
            statement = statement.add_cte(other.statement.cte(f"riding_{n}"))
        kept = _RIDING[key] = ((main, *ahead), HotQuery(statement))
    return kept[1]


#: What each statement run so writes, worked out once (reading a statement's CTEs costs a few µs).
_WRITES: dict[int, tuple[HotQuery, Writes]] = {}

#: Called with each statement's SQL run past the session, as SQLAlchemy's ``before_cursor_execute``
#: is with the session's (the query counts of the hot paths listen to both).
listeners: list[Callable[[str], None]] = []


async def run(
    session: AsyncSession,
    query: HotQuery,
    params: Mapping[str, Any],
    options: Mapping[str, Any] | None = None,
) -> list[tuple[Any, ...]]:
    """Run ``query`` with ``params`` in ``session``'s transaction; its rows (none without
    ``RETURNING``). ``options``: the execution options the session would be given (what the
    statement changes: ``changes.touching``)."""
    ref = session.info.get(TX_KEY)
    tx = ref() if ref is not None else None
    if tx is not None and await _held_on_sqlite(session, query, params, options, None):
        return []  # a deferred write without RETURNING: nothing to read
    if tx is None or session.get_bind().dialect.name != "postgresql":
        result = await session.execute(query.statement, query.bind(**params), execution_options=options or {})
        # A write without RETURNING has no rows to ask for (a Core statement's result says so).
        return [tuple(row) for row in result] if getattr(result, "returns_rows", True) else []
    if session.new or session.dirty or session.deleted:
        await session.flush()  # as the session would before a statement (autoflush)
    observe_writes(session, _writes(query), options or {})
    if tx.driver is None:
        tx.driver = await _begun(session)
    compiled, args = query.arguments("postgresql", dict(params))
    for listener in listeners:
        listener(compiled.sql)
    try:
        rows = await tx.driver.fetch(compiled.sql, *args)
    except Exception as error:
        raise await _as_the_session_raises(session, error, compiled.sql, args) from error
    return processed(compiled, [tuple(r) for r in rows])


async def run_late(
    session: AsyncSession,
    query: HotQuery,
    params: Mapping[str, Any],
    on_rows: Callable[[list[Any]], None],
    options: Mapping[str, Any] | None = None,
) -> None:
    """``run``, for a write (``deferred``) whose rows are needed only later: on SQLite it rides with
    the transaction's next statement and hands its rows over then (``sqlite_driver.execute_late``)."""
    if session.get_bind().dialect.name == "sqlite":
        if not await _held_on_sqlite(session, query, params, options, on_rows):
            await execute_late(session, query.statement, query.bind(**params), on_rows, dict(options or {}))
        return
    on_rows(await run(session, query, params, options))


def _writes(query: HotQuery) -> Writes:
    kept = _WRITES.get(id(query))
    if kept is None or kept[0] is not query:
        kept = _WRITES[id(query)] = (query, writes_of(query.statement))
    return kept[1]


async def _held_on_sqlite(
    session: AsyncSession,
    query: HotQuery,
    params: Mapping[str, Any],
    options: Mapping[str, Any] | None,
    on_rows: RowsCallback | None,
) -> bool:
    """Hand a ``deferred`` write straight to the group commit's connection, held for its next hop
    (``db/sqlite_driver.py``), as the session would have had it held: the session's execution
    (its events, the compiled cache's lookup, the execution context, the result) cost ~250 µs of
    CPU a statement for nothing, a post running four. Only in the writers' session (whose
    connection ``DRIVER_INFO`` names), for a write whose rows are not wanted now (none, or
    ``on_rows`` later); False where it was not held (the caller runs it through the session)."""
    driver: OneHopConnection | None = session.info.get(DRIVER_INFO)
    if driver is None:
        return False
    compiled = query.compiled("sqlite")  # kept: nothing bound for a write that is not held
    if DEFERRED_MARK not in compiled.sql[:32] or (on_rows is None and compiled.results):
        return False
    compiled, args = query.arguments("sqlite", dict(params))
    if session.new or session.dirty or session.deleted:
        await session.flush()  # as the session would before a statement (autoflush)
    if not driver.hold_write(compiled.sql, args, on_rows):  # no explicit BEGIN under way
        return False
    observe_writes(session, _writes(query), options or {})
    for listener in listeners:
        listener(compiled.sql)
    return True


async def _begun(session: AsyncSession) -> Any:
    """The asyncpg connection of ``session``'s transaction, its ``BEGIN`` sent. SQLAlchemy's asyncpg
    adapter sends ``BEGIN`` lazily, with the first statement it runs itself: a statement sent past
    it first would run, and commit, on its own (``tests/test_hot_writes.py``). So the adapter is
    asked to begin as it would have (its isolation level; its commit and rollback then end it)."""
    connection = await session.connection()
    adapter = (await connection.get_raw_connection()).dbapi_connection
    if adapter._transaction is None:  # type: ignore[union-attr]
        await adapter._start_transaction()  # type: ignore[union-attr]
    return adapter._connection  # type: ignore[union-attr]


async def _as_the_session_raises(
    session: AsyncSession, error: Exception, sql: str, args: Sequence[Any]
) -> BaseException:
    """The driver's ``error`` as the session would have raised it: translated by SQLAlchemy's
    adapter (which also notes a connection closed under it), then wrapped as SQLAlchemy wraps a
    driver's errors (``IntegrityError`` for a constraint, ``OperationalError``…)."""
    connection = await session.connection()
    adapter = (await connection.get_raw_connection()).dbapi_connection
    dbapi = connection.dialect.loaded_dbapi
    try:
        adapter._handle_exception(error)  # type: ignore[union-attr]  # raises its translation
    except dbapi.Error as translated:
        return DBAPIError.instance(sql, args, translated, dbapi.Error)
    except Exception as other:
        return other
    return error
