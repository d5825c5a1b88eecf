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
ignores) goes with the next hop too: a statement whose result its caller does not read at once,
and that does not fail in practice (a note's row under a new id, its search entry, counters, its
fan-out to the home feeds). Its order is kept, and every later statement of the transaction — a
read too — runs after it, so the transaction reads its own writes. It is sent before a
``ROLLBACK TO`` (which then undoes it) and before ``COMMIT``; a ``ROLLBACK`` drops it. Should it
fail after all, the error is raised by the statement it went with, noted with its own SQL.

A group commit's writer (``group_commit.py``) leaves its deferred writes behind it: its savepoint
is marked *isolated* (``isolate_savepoint``), and its ``RELEASE`` is held back too. A post's
writer then makes no hop at all under the group commit's lock, where each hop waited for the busy
event loop to come back (measured: ~2.4 ms of the ~4.4 ms a post held the lock); the batch's
statements all run in the hop of its ``COMMIT``, back to back. Should one of them fail, the thread
undoes that writer's savepoint alone (``ROLLBACK TO``, ``RELEASE``), records the error under the
savepoint's name (``take_failure``: the writer raises it once the batch is committed) and goes on
with the next writer's statements. A savepoint not marked isolated is released in a hop of its
own when writes are held, so its writer learns of a failure at once. Sending each writer's
statements as it leaves, nobody waiting, was measured and dropped: a thread wake-up per writer
cost more CPU (2.7 → 3.4 ms a post in-process) than the overlap gained.

Hops are queued when asked for (``hop``; aiosqlite's ``_execute`` queues only once awaited), so
that a ``COMMIT`` queued without waiting (``send_commit``) runs before whatever is asked next.

A deferred ``INSERT … RETURNING`` whose rows are only needed once the transaction commits (which
home feeds a note reached, for the caches) gets them through ``execute_late``: handed to a callback
when the hop that ran it returns.

A ``ROLLBACK`` with no transaction under way costs no hop either: the pool resets every connection
it gets back, after every read session (whose ``SELECT`` statements open no transaction in the
``sqlite3`` module).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any, TypeVar, cast

import aiosqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import UpdateBase

from cordee.db.prompt import PromptFuture

_Description = tuple[tuple[Any, ...], ...] | None
#: A statement held back for the next hop: whether it is an ``executemany``, its SQL, parameters,
#: and whether its rows are wanted (``execute_late``).
_Held = tuple[bool, str, Any, bool]
#: What one hop returns: the statement's description, row count, last row id and rows; and the
#: rows of the held statements that wanted theirs, by their place among the held ones.
_Outcome = tuple[_Description, int, int | None, list[Any], dict[int, list[Any]]]
RowsCallback = Callable[[list[Any]], None]
#: Told of a queued ``COMMIT``'s outcome (``send_commit``): None once on disk, else the error.
Committed = Callable[[BaseException | None], None]
#: Told of a hop's outcome (``hop_told``): its result and None, or None and the error it raised.
Told = Callable[[Any, BaseException | None], None]

log = logging.getLogger(__name__)

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


def _savepoint_named(sql: str, verb: str) -> str | None:
    """The savepoint ``sql`` names if it starts with ``verb`` (``SAVEPOINT``, ``RELEASE
    SAVEPOINT``, ``ROLLBACK TO SAVEPOINT``), as SQLAlchemy writes them."""
    head = sql.lstrip()
    if head[: len(verb)].upper() != verb:
        return None
    return head[len(verb) :].strip() or None


class _Savepoints:
    """The savepoints open on a connection, as SQLite keeps them, and what to do when a held
    statement fails inside one. ``open`` is touched only in the connection's thread, within a
    hop; the event loop adds to ``isolated`` and takes from ``failures`` (one set or dict
    operation at a time, each atomic under the GIL; the names never repeat while they matter)."""

    def __init__(self) -> None:
        self.open: list[str] = []
        #: Savepoints of writers that left their writes behind them (``isolate_savepoint``).
        self.isolated: set[str] = set()
        #: Errors of isolated savepoints' statements, by savepoint: taken by their writers. The
        #: names are unique while the group commit's session lives (SQLAlchemy numbers them).
        self.failures: dict[str, sqlite3.Error] = {}

    def ran(self, sql: str) -> None:
        if (name := _savepoint_named(sql, "SAVEPOINT ")) is not None:
            self.open.append(name)
        elif (name := _savepoint_named(sql, "RELEASE SAVEPOINT ")) is not None:
            self._drop(name, keep=False)
        elif (name := _savepoint_named(sql, "ROLLBACK TO SAVEPOINT ")) is not None:
            self._drop(name, keep=True)

    def _drop(self, name: str, *, keep: bool) -> None:
        if name in self.open:
            del self.open[self.open.index(name) + (1 if keep else 0) :]
        # Rolled back to (SQLite keeps it open, SQLAlchemy is done with it) or released: its
        # writer has nothing left to isolate.
        self.isolated.discard(name)

    def isolating(self) -> str | None:
        """The isolated savepoint a statement failing now ran in (the outermost open one: a
        writer's; a savepoint rolled back to stays open in SQLite, and later ones nest in it)."""
        return next((name for name in self.open if name in self.isolated), None)

    def release_after(self, held: list[_Held], failed_at: int) -> int | None:
        """Where the isolated savepoint a failed statement ran in is released, among ``held``;
        None when it is not isolated or not released there (its writer is still running: it is
        told at once)."""
        name = self.isolating()
        if name is None:
            return None
        for at in range(failed_at + 1, len(held)):
            if _savepoint_named(held[at][1], "RELEASE SAVEPOINT ") == name:
                return at
        return None


def _send_held(
    conn: sqlite3.Connection, held: list[_Held], savepoints: _Savepoints, undo: str | None = None
) -> dict[int, list[Any]]:
    """Run the held statements in order; returns the rows of those that want them, by place.
    ``undo``: the savepoint the hop's own statement rolls back to (what fails inside it is undone
    anyway)."""
    rows: dict[int, list[Any]] = {}
    at = 0
    while at < len(held):
        many, sql, parameters, wanted = held[at]
        try:
            if many:
                conn.executemany(sql, parameters)
            elif wanted:
                rows[at] = conn.execute(sql, parameters).fetchall()
            else:
                conn.execute(sql, parameters)
        except sqlite3.Error as e:
            e.add_note(f"raised by a statement held back for this hop: {sql[:300]}")
            released = savepoints.release_after(held, at)
            if released is None:
                if undo is not None and undo in savepoints.open:
                    break  # the rest is inside the savepoint about to be rolled back
                raise
            # A writer that already left: undo its savepoint alone, record its error, go on.
            name = cast(str, savepoints.isolating())
            conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
            conn.execute(f"RELEASE SAVEPOINT {name}")
            savepoints.failures[name] = e
            savepoints.ran(f"RELEASE SAVEPOINT {name}")
            at = released + 1
            continue
        savepoints.ran(sql)
        at += 1
    return rows


def _commit_after(
    conn: sqlite3.Connection, held: list[_Held], savepoints: _Savepoints
) -> dict[int, list[Any]]:
    try:
        rows = _send_held(conn, held, savepoints)
        conn.commit()
    except BaseException:
        conn.rollback()  # nothing of it was acknowledged; the next transaction starts clean
        raise
    finally:
        savepoints.open.clear()
    return rows


def _as_raised(error: sqlite3.Error) -> DBAPIError:
    """A driver's error as SQLAlchemy raises it (an ``IntegrityError`` for a constraint…), for
    statements and commits that ran without SQLAlchemy waiting on them."""
    return cast(DBAPIError, DBAPIError.instance(None, None, error, sqlite3.Error))


def settle(future: asyncio.Future[None] | PromptFuture[None], error: BaseException | None) -> None:
    """Give ``future`` the outcome ``error`` says (None: done), unless its waiter was cancelled."""
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


def _then_tell(loop: asyncio.AbstractEventLoop, work: Callable[[], Any], told: Told) -> None:
    """In the worker thread: ``work``, then its outcome handed to ``told`` on the event loop."""
    try:
        result = work()
    except BaseException as e:
        loop.call_soon_threadsafe(told, None, e)
    else:
        loop.call_soon_threadsafe(told, result, None)


def _data_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA data_version").fetchone()[0])


def _rollback(conn: sqlite3.Connection, savepoints: _Savepoints) -> None:
    try:
        conn.rollback()
    finally:
        savepoints.open.clear()
        savepoints.isolated.clear()


def _run(
    conn: sqlite3.Connection,
    many: bool,
    sql: str,
    parameters: Any,
    held: list[_Held],
    savepoints: _Savepoints,
) -> _Outcome:
    """In the worker thread: the statements held back (``held``), then one statement from start
    to end."""
    late = _send_held(conn, held, savepoints, _savepoint_named(sql, "ROLLBACK TO SAVEPOINT "))
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        savepoints.ran(sql)
        return description, cursor.rowcount, cursor.lastrowid, rows, late
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
        held, callbacks = connection.take_held()
        outcome: _Outcome = await connection.hop(
            _run, connection._conn, many, sql, parameters, held, connection.savepoints
        )
        self.description, self.rowcount, self.lastrowid, self._rows, late = outcome
        self._at = 0
        _hand_over(callbacks, late)
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


def _hand_over(callbacks: dict[int, RowsCallback], rows: dict[int, list[Any]]) -> None:
    """Give held statements' rows to those who asked (a statement undone with its writer's
    savepoint has none: its callback is not called)."""
    for at, callback in callbacks.items():
        if at in rows:
            callback(rows[at])


class OneHopConnection(aiosqlite.Connection):
    """An aiosqlite connection whose cursors cost one hop per statement; all else is aiosqlite's
    (its worker thread, commit, rollback, close)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Statements not sent yet (see the module's docstring): transaction bounds and deferred
        #: writes; callbacks for the rows of some of them, by place; whether some of them are
        #: writes; whether an explicit ``BEGIN`` (sent or held) opened the transaction under way.
        self._held: list[_Held] = []
        self._callbacks: dict[int, RowsCallback] = {}
        self._writes_held = False
        self._begun = False
        #: Set by ``execute_late`` for the deferred statement that follows.
        self._rows_wanted: RowsCallback | None = None
        #: The last savepoint opened (held or sent).
        self._last_savepoint: str | None = None
        self.savepoints = _Savepoints()

    def hop(self, fn: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        """Queue ``fn(*args)`` for the connection's thread, now (aiosqlite's ``_execute`` queues
        it only once awaited): what is queued runs in that order."""
        future = asyncio.get_running_loop().create_future()
        self._queue(future, partial(fn, *args))
        return future

    def hop_told(self, told: Told, fn: Callable[..., Any], *args: Any) -> None:
        """Queue ``fn(*args)`` as ``hop`` does; its outcome goes to ``told`` on the event loop, called
        in the loop's turn that hears of it (a future's waiter wakes one turn later, through its
        callbacks, and each turn of a busy loop is long)."""
        self._queue(None, partial(_then_tell, asyncio.get_running_loop(), partial(fn, *args), told))

    def _queue(self, future: asyncio.Future[Any] | None, work: Callable[[], Any]) -> None:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        self._tx.put_nowait((future, work))

    def hold(self, many: bool, sql: str, parameters: Any) -> bool:
        """Keep ``sql`` for the next hop if it only marks a transaction's bounds, or is a write
        marked deferred inside a ``BEGIN``."""
        wanted: RowsCallback | None = None
        if DEFERRED_MARK in sql[:32]:
            wanted, self._rows_wanted = self._rows_wanted, None
            if not self._begun:
                return False
            self._writes_held = True
            if wanted is not None and not many:
                self._callbacks[len(self._held)] = wanted
        elif many or parameters:
            return False
        else:
            head = sql.lstrip()[:18].upper()
            if head.startswith("BEGIN"):
                self._begun = True
            elif (name := _savepoint_named(sql, "RELEASE SAVEPOINT ")) is not None:
                if not self._begun or (self._writes_held and name not in self.savepoints.isolated):
                    return False
            elif (name := _savepoint_named(sql, "SAVEPOINT ")) is not None:
                self._last_savepoint = name
            else:
                return False
        self._held.append((many, sql, parameters, wanted is not None and not many))
        return True

    def hold_write(self, sql: str, parameters: Any, on_rows: RowsCallback | None = None) -> bool:
        """``hold`` for a write compiled elsewhere (``db/hot_writes.py``), its rows (if any) handed
        to ``on_rows`` when the hop that carries it returns; False where it is not held (not a
        deferred write, or no explicit ``BEGIN`` under way): the caller runs it then."""
        self._rows_wanted = on_rows
        try:
            return self.hold(False, sql, parameters)
        finally:
            self._rows_wanted = None

    def take_held(self) -> tuple[list[_Held], dict[int, RowsCallback]]:
        # Always a new list: the one handed over is read in the thread later, when this
        # connection may already hold the next statements.
        held, callbacks = self._held, self._callbacks
        self._held, self._callbacks, self._writes_held = [], {}, False
        return held, callbacks

    def isolate_savepoint(self) -> str:
        """Mark the savepoint just opened as a writer's that leaves its deferred writes behind it
        (see the module's docstring); returns its name, under which ``take_failure`` reports
        the error of any of its statements."""
        name = self._last_savepoint
        if name is None or not self._begun:
            raise RuntimeError("no savepoint opened inside an explicit BEGIN")
        self.savepoints.isolated.add(name)
        return name

    def take_failure(self, savepoint: str) -> DBAPIError | None:
        """The error recorded for an isolated savepoint's statements, if any, as SQLAlchemy raises
        it (an ``IntegrityError`` for a constraint…). Known once the hop that ran them returned."""
        error = self.savepoints.failures.pop(savepoint, None)
        return None if error is None else _as_raised(error)

    def send_commit(self, on_done: Committed) -> None:
        """``COMMIT`` what is under way, queued now (the statements held back go with it), without
        telling SQLAlchemy, whose transaction goes on: the group commit keeps one session from
        batch to batch, and the next batch's statements, queued after, run after this commit
        in the same thread. ``on_done`` is called on the event loop as soon as the thread is
        done — in the loop's turn that hears of it, not through a future's wake-ups, each a turn
        of a loop that may be busy — with None once on disk, else the error (as SQLAlchemy raises
        it; the transaction is then rolled back in the thread, and the next batch starts clean).
        Held statements' rows are handed over first."""
        writes_held = self._writes_held
        held, callbacks = self.take_held()
        self._begun = False
        if not writes_held:  # bounds alone are left unsent: committing covers what they mark
            for _, sql, _, _ in held:
                if (name := _savepoint_named(sql, "RELEASE SAVEPOINT ")) is not None:
                    self.savepoints.isolated.discard(name)  # as running the RELEASE would
            held = []

        def done(rows: dict[int, list[Any]] | None, error: BaseException | None) -> None:
            if isinstance(error, sqlite3.Error):  # SQLAlchemy's commit is not this one
                error = _as_raised(error)
            elif error is None and rows:
                try:
                    _hand_over(callbacks, rows)
                except Exception:  # committed all the same: its writers must not hear otherwise
                    log.exception("a committed statement's rows could not be handed over")
            on_done(error)

        self.hop_told(done, _commit_after, self._conn, held, self.savepoints)

    async def data_version(self) -> int:
        """SQLite's ``PRAGMA data_version`` on this connection: changes when another connection
        committed to the file since it was last asked, never for this connection's own commits."""
        return cast(int, await self.hop(_data_version, self._conn))

    async def commit(self) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.send_commit(partial(settle, future))
        await future

    async def rollback(self) -> None:
        self.take_held()
        self._begun = False
        if self._connection is not None and not self._connection.in_transaction:
            return  # nothing to undo (the pool's reset of a connection after a commit): no hop
        await self.hop(_rollback, self._conn, self.savepoints)

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


#: Where a session that keeps one connection for its life (the group commit's) names it: looked
#: up through SQLAlchemy, it cost ~70 µs of CPU on every post (cProfile).
DRIVER_INFO = "one_hop_connection"


async def driver_connection(session: AsyncSession) -> OneHopConnection | None:
    """The SQLite connection under ``session``'s transaction; None on another database."""
    kept = session.info.get(DRIVER_INFO)
    if isinstance(kept, OneHopConnection):
        return kept
    connection = await session.connection()
    raw = (await connection.get_raw_connection()).driver_connection
    return raw if isinstance(raw, OneHopConnection) else None


async def execute_late(
    session: AsyncSession,
    statement: Any,
    parameters: dict[str, Any],
    on_rows: RowsCallback,
    execution_options: dict[str, Any] | None = None,
) -> None:
    """Run ``statement`` (a ``deferred`` write with ``RETURNING``) and hand its rows to
    ``on_rows``: at once where it runs at once (PostgreSQL, or no explicit ``BEGIN``), or when the
    hop that carries it returns on SQLite (by the commit at the latest: only for rows needed
    once the transaction committed)."""
    # Only SQLite's connection holds statements back (asking another for it costs two hops
    # through SQLAlchemy's greenlet on every post).
    raw = await driver_connection(session) if session.get_bind().dialect.name == "sqlite" else None
    if raw is not None:
        raw._rows_wanted = on_rows
    try:
        result = await session.execute(statement, parameters, execution_options=execution_options or {})
    finally:
        if raw is not None:
            raw._rows_wanted = None
    if cast(CursorResult[Any], result).returns_rows:
        on_rows(list(result.all()))


def connector(database: str, **kwargs: Any) -> Any:
    """For ``create_async_engine(async_creator=...)``: opens a ``OneHopConnection`` with the same
    arguments the aiosqlite dialect would give ``sqlite3.connect``."""

    async def connect() -> OneHopConnection:
        connection = OneHopConnection(lambda: sqlite3.connect(database, **kwargs), 64)
        connection._thread.daemon = True  # as SQLAlchemy's dialect sets it for aiosqlite's
        return cast(OneHopConnection, await connection)

    return connect
