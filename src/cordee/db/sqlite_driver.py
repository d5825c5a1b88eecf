"""aiosqlite with one thread hop per statement instead of four.

SQLAlchemy's aiosqlite adapter runs each statement as four separate calls to aiosqlite's worker
thread (open a cursor, execute, fetch all, close), each a round trip through a queue, a thread
wake-up and the event loop. The writes of one SQLite database are serial (``group_commit.py``
holds its lock while a writer runs its statements), so those round trips, not SQLite, set the
write rate: measured on the project's machine, a follow was ~16 statements × ~4 hops. Here a
cursor does its whole statement — execute, read every row, close — in one call on the same
worker thread; the rows wait on the event loop side for SQLAlchemy to fetch. Statements still run
off the event loop (a long ``INSERT … SELECT`` of a feed rebuild does not stall other requests),
in the same thread and connection as before, so transactions behave exactly as with aiosqlite.

Statements that only mark a transaction's bounds — ``BEGIN``, ``SAVEPOINT``, and ``RELEASE`` inside
an explicit ``BEGIN`` — go with the next statement's hop instead of one of their own. Under load the
writers of a group commit (``group_commit.py``) run one after the other while the others wait, and
each hop on that path waits for the event loop to come back to the writer (measured: the writer's
lock held 96 % of the time, the main thread idle half of it); a post had seven hops there, now four
(a savepoint, its statements, its release). Left unsent at ``COMMIT`` or ``ROLLBACK`` they change
nothing: a ``BEGIN`` or ``SAVEPOINT`` with nothing after it marks nothing, and a ``RELEASE`` inside
a transaction only merges a savepoint into it, which ``COMMIT`` and ``ROLLBACK`` do as well.

Inside an explicit ``BEGIN``, a write marked ``deferred`` (``deferred()``: a comment SQLite
ignores) goes with the next hop too: a statement whose result its caller does not read, and
that does not fail in practice (a note's row under a new id, its search entry, counters). A
post's writer then makes one hop under the group commit's lock instead of four: the fan-out,
with the note, its search entry and its author's count riding along. Its order is kept, and
every later statement of the transaction — a read too — runs after it, so the transaction
reads its own writes. It is sent before a ``RELEASE`` (the writer whose savepoint it is learns
of its failure, not the next writer of the batch), before a ``ROLLBACK TO`` (which then undoes
it) and before ``COMMIT``; a ``ROLLBACK`` drops it. Should it fail after all, the error is raised
by the statement it went with, noted with its own SQL.

A ``ROLLBACK`` with no transaction under way costs no hop either: the pool resets every connection
it gets back, after each group commit (while the next writers wait) and after every read session
(whose ``SELECT`` statements open no transaction in the ``sqlite3`` module).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar, cast

import aiosqlite
from sqlalchemy.sql.dml import UpdateBase

_Description = tuple[tuple[Any, ...], ...] | None
_Outcome = tuple[_Description, int, int | None, list[Any]]
#: A statement held back for the next hop: whether it is an ``executemany``, its SQL, parameters.
_Held = tuple[bool, str, Any]

#: What marks a deferred write in its SQL (right after its verb: ``INSERT /*deferred*/ INTO``).
DEFERRED_MARK = "/*deferred*/"

_Dml = TypeVar("_Dml", bound=UpdateBase)


def deferred(statement: _Dml) -> _Dml:
    """``statement`` (an ``INSERT``, ``UPDATE`` or ``DELETE`` whose result nobody reads) sent
    with the next statement of its SQLite transaction instead of in a hop of its own (see the
    module's docstring); unchanged on PostgreSQL. On an entity (an ORM-enabled ``UPDATE`` or
    ``DELETE``), the session's objects are left as they are: fetching what changed would need the
    statement's rows, which a deferred statement never returns."""
    return statement.prefix_with(DEFERRED_MARK, dialect="sqlite").execution_options(synchronize_session=False)


def _send_held(conn: sqlite3.Connection, held: list[_Held]) -> None:
    for many, sql, parameters in held:
        try:
            if many:
                conn.executemany(sql, parameters)
            else:
                conn.execute(sql, parameters)
        except sqlite3.Error as e:
            e.add_note(f"raised by a statement held back for this hop: {sql[:300]}")
            raise


def _commit_after(conn: sqlite3.Connection, held: list[_Held]) -> None:
    _send_held(conn, held)
    conn.commit()


def _run(conn: sqlite3.Connection, many: bool, sql: str, parameters: Any, held: list[_Held]) -> _Outcome:
    """In the worker thread: the statements held back (``held``), then one statement from start
    to end."""
    _send_held(conn, held)
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


class OneHopCursor:
    """The part of ``aiosqlite.Cursor`` SQLAlchemy's adapter uses; rows are read eagerly."""

    arraysize = 1

    def __init__(self, connection: OneHopConnection) -> None:
        self._connection = connection
        self.description: _Description = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[Any] = []
        self._at = 0

    async def __aenter__(self) -> OneHopCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _call(self, many: bool, sql: str, parameters: Any) -> OneHopCursor:
        connection = self._connection
        if connection.hold(many, sql, parameters):
            self.description, self.rowcount, self.lastrowid, self._rows = None, -1, None, []
            return self
        run = cast(Any, connection._execute)  # aiosqlite's own queue to its thread (untyped)
        outcome: _Outcome = await run(_run, connection._conn, many, sql, parameters, connection.take_held())
        self.description, self.rowcount, self.lastrowid, self._rows = outcome
        self._at = 0
        return self

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> OneHopCursor:
        return await self._call(False, sql, () if parameters is None else parameters)

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> OneHopCursor:
        return await self._call(True, sql, parameters)

    async def fetchall(self) -> list[Any]:
        rows = self._rows[self._at :]
        self._rows, self._at = [], 0
        return rows

    async def fetchone(self) -> Any:
        if self._at >= len(self._rows):
            return None
        self._at += 1
        return self._rows[self._at - 1]

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        count = self.arraysize if size is None else size
        rows = self._rows[self._at : self._at + count]
        self._at += len(rows)
        return rows

    async def close(self) -> None:
        self._rows, self._at = [], 0


class OneHopConnection(aiosqlite.Connection):
    """An aiosqlite connection whose cursors cost one hop per statement; all else is aiosqlite's
    (its worker thread, commit, rollback, close)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Statements not sent yet (see the module's docstring): transaction bounds and deferred
        #: writes; whether some of them are writes; whether an explicit ``BEGIN`` (sent or held)
        #: opened the transaction under way.
        self._held: list[_Held] = []
        self._writes_held = False
        self._begun = False

    def hold(self, many: bool, sql: str, parameters: Any) -> bool:
        """Keep ``sql`` for the next hop if it only marks a transaction's bounds, or is a write
        marked deferred inside a ``BEGIN``."""
        if DEFERRED_MARK in sql[:32]:
            if not self._begun:
                return False
            self._writes_held = True
        elif many or parameters:
            return False
        else:
            head = sql.lstrip()[:18].upper()
            if head.startswith("BEGIN"):
                self._begun = True
            elif head.startswith("RELEASE SAVEPOINT "):
                if not self._begun or self._writes_held:
                    return False
            elif not head.startswith("SAVEPOINT "):
                return False
        self._held.append((many, sql, parameters))
        return True

    def take_held(self) -> list[_Held]:
        held = self._held
        if held:
            self._held, self._writes_held = [], False
        return held

    async def commit(self) -> None:
        writes_held = self._writes_held
        held = self.take_held()
        self._begun = False
        if writes_held:  # in the same hop as the COMMIT
            await cast(Any, self._execute)(_commit_after, self._conn, held)
            return
        # Bounds alone are left unsent: committing covers what they would have marked.
        await super().commit()

    async def rollback(self) -> None:
        self.take_held()
        self._begun = False
        if self._connection is not None and not self._connection.in_transaction:
            return  # nothing to undo (the pool's reset of a connection after a commit): no hop
        await super().rollback()

    def cursor(self) -> OneHopCursor:  # type: ignore[override]
        return OneHopCursor(self)

    def __del__(self) -> None:
        # SQLAlchemy cleans up a connection nobody returned to its pool by calling ``stop()``,
        # which closes the sqlite3 connection later, in the worker thread; this object may be
        # collected in between, and aiosqlite would then warn about a connection that is being
        # closed (seen as intermittent test failures, warnings being errors). A connection that
        # was never stopped still gets aiosqlite's warning.
        if not self._running:
            return
        super().__del__()  # type: ignore[no-untyped-call]


def connector(database: str, **kwargs: Any) -> Any:
    """For ``create_async_engine(async_creator=...)``: opens a ``OneHopConnection`` with the same
    arguments the aiosqlite dialect would give ``sqlite3.connect``."""

    async def connect() -> OneHopConnection:
        connection = OneHopConnection(lambda: sqlite3.connect(database, **kwargs), 64)
        connection._thread.daemon = True  # as SQLAlchemy's dialect sets it for aiosqlite's
        return cast(OneHopConnection, await connection)

    return connect
