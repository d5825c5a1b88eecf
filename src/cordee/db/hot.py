"""The hot read path: a few small, indexed queries run on every timeline request, executed without
the ORM and without a transaction.

Measured on the project's machine (``docs/benchmarks.md``), one primary-key lookup costs ~2 ms
through an ORM session, ~1.2 ms through SQLAlchemy Core on aiosqlite, 0.3 ms on raw aiosqlite (the
hop to its thread and back) and 15 µs on a plain ``sqlite3`` connection. A home timeline needs a
handful of such lookups, so the per-statement overhead, not SQLite, set its speed.

So the queries of the hot path are still *written* with SQLAlchemy Core — built once, from the same
functions as every other read (``queries.visibility.visible_to`` stays the one rule) — but
*compiled once* per dialect to a SQL string, and run:

- on SQLite, synchronously on the event loop through a read-only ``sqlite3`` connection in WAL mode
  (readers never wait for the writer). Only bounded queries belong here (primary keys, an indexed
  range with a small ``LIMIT``): a slow query would hold the loop;
- on PostgreSQL, through asyncpg's own pool, whose connections cache prepared statements (and can
  point at a read replica: ``CORDEE_DATABASE_REPLICA_URL``).

A list parameter (``ids``) has a fixed number of slots (``HotQuery.slots``), padded with an id that
cannot exist, so each query compiles to exactly one SQL string.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Protocol

from sqlalchemy import BigInteger, BindParameter, CompoundSelect, Select, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.url import URL, make_url
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import UpdateBase

#: Pads unused slots of an id list: ids are positive snowflakes.
NO_ID = -1
#: Above every id: the open upper bound of an id range.
MAX_ID = (1 << 63) - 1
#: SQLite's memory map of the database for the hot reads (address space; pages are shared with the
#: OS page cache, resident only once read) and its own page cache.
MMAP_BYTES = 1 << 30
CACHE_KIB = 64 * 1024

_DIALECTS: dict[str, Dialect] = {
    "sqlite": sqlite.dialect(),
    "postgresql": postgresql.asyncpg.dialect(),  # type: ignore[no-untyped-call]
}


def id_range(below: int | None, above: int | None) -> dict[str, int]:
    """The ``below`` and ``above`` parameters of a page's statement, open ends as the widest."""
    return {"below": MAX_ID if below is None else below, "above": 0 if above is None else above}


async def page_rows(hot: HotReader, query: HotQuery, *, oldest_first: bool, **params: Any) -> list[Any]:
    """The rows of a page's statement, newest first whichever way it ran (``oldest_first``: a page
    asked with ``min_id`` is the oldest ``limit`` rows above a bound)."""
    rows = list(await hot.rows(query, **params))
    if oldest_first:
        rows.reverse()
    return rows


def slots(name: str, count: int) -> list[BindParameter[Any]]:
    """``count`` bind parameters ``name0 … name{count-1}`` for an ``IN`` list of fixed width."""
    return [bindparam(f"{name}{i}", NO_ID, type_=BigInteger()) for i in range(count)]


@dataclass
class _Compiled:
    sql: str
    #: For each positional parameter, where its value comes from — (0, name, _) a parameter the
    #: caller gives, (1, list name, slot) one slot of an id list, (3, list name, width) a whole id
    #: list, (2, value, _) a literal of the query — and the function turning it into the driver's
    #: value (None: as it is).
    plan: list[tuple[int, Any, int, Callable[[Any], Any] | None]]
    #: Parameters the caller must give (named ``bindparam``s and lists).
    required: frozenset[str]
    #: Per result column, the function turning the driver's value into Python's (e.g. datetimes
    #: stored as text by SQLite); None where the value is right as it comes.
    results: list[Callable[[Any], Any] | None]
    #: The same plan as one gather (``_Gather``), where that is faster (``_worth_gathering``).
    gather: _Gather | None = None


class _Gather:
    """Lays out a statement's positional arguments in one C-level step: each named parameter is
    processed once (the home rules name the reader ~20 times and the time 4), then an
    ``itemgetter`` picks every position from the named values, the literals and the padded lists.
    The step-per-position loop cost half as much as running the statement (the home rules over 4
    new notes: 12.5–16.4 µs to bind, ~27 µs to run; 5 µs to bind this way: ``bench.hot_statements``)."""

    __slots__ = ("named", "literals", "lists", "pick")

    def __init__(
        self, plan: list[tuple[int, Any, int, Callable[[Any], Any] | None]], lists: dict[str, int]
    ) -> None:
        named: dict[str, Callable[[Any], Any] | None] = {}
        literals: list[Any] = []
        for kind, key, _, process in plan:
            if kind == 0:
                named.setdefault(key, process)
            elif kind == 2:
                literals.append(key)
        self.named = list(named.items())
        self.literals = tuple(literals)
        self.lists = [(name, width) for name, width in lists.items()]
        base = len(self.named) + len(self.literals)
        offsets = {}
        for name, width in self.lists:
            offsets[name], base = base, base + width
        index = {name: i for i, (name, _) in enumerate(self.named)}
        positions: list[int] = []
        literal = len(self.named)
        for kind, key, slot, _ in plan:
            if kind == 0:
                positions.append(index[key])
            elif kind == 2:
                positions.append(literal)
                literal += 1
            elif kind == 3:
                positions.extend(range(offsets[key], offsets[key] + slot))
            else:
                positions.append(offsets[key] + slot)
        # ``itemgetter`` of one index returns the item, not a 1-tuple.
        self.pick: Callable[[Sequence[Any]], Any] = (
            itemgetter(*positions)
            if len(positions) > 1
            else lambda source: tuple(source[i] for i in positions)
        )

    def __call__(self, params: dict[str, Any]) -> Any:
        source = []
        for name, process in self.named:
            value = params[name]
            source.append(process(value) if process is not None and value is not None else value)
        source.extend(self.literals)
        for name, width in self.lists:
            given = params[name]
            source.extend(given)
            source.extend(_PADDING[: width - len(given)])
        return self.pick(source)


@dataclass
class HotQuery:
    """A statement built once; ``lists`` names its fixed-width id lists and their widths."""

    statement: Select[*tuple[Any, ...]] | CompoundSelect[*tuple[Any, ...]] | UpdateBase
    lists: dict[str, int] = field(default_factory=dict)
    _compiled: dict[str, _Compiled] = field(default_factory=dict, repr=False)

    def compiled(self, dialect_name: str) -> _Compiled:
        found = self._compiled.get(dialect_name)
        if found is None:
            dialect = _DIALECTS[dialect_name]
            c = self.statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
            assert isinstance(c, SQLCompiler)
            slot_of = {f"{n}{i}": (n, i) for n, width in self.lists.items() for i in range(width)}
            plan: list[tuple[int, Any, int, Callable[[Any], Any] | None]] = []
            named: set[str] = set()
            for name in c.positiontup or ():
                bind = c.binds.get(name)  # None for the expanded members of a literal IN list
                process = None if bind is None else bind.type.dialect_impl(dialect).bind_processor(dialect)
                if name in slot_of:
                    plan.append((1, slot_of[name][0], slot_of[name][1], process))
                elif bind is not None and not bind.unique:
                    plan.append((0, name, 0, process))
                    named.add(name)
                else:
                    value = c.params[name]
                    plan.append(
                        (2, process(value) if process is not None and value is not None else value, 0, None)
                    )
            plan = _runs_of_slots(plan, self.lists)
            statement = self.statement  # a write's columns: those it returns
            columns = (
                statement.exported_columns
                if isinstance(statement, UpdateBase)
                else statement.selected_columns
            )
            results: list[Callable[[Any], Any] | None] = [
                col.type.dialect_impl(dialect).result_processor(dialect, None) for col in columns
            ]
            found = _Compiled(str(c), plan, frozenset(named | set(self.lists)), results)
            if _worth_gathering(plan):
                found.gather = _Gather(plan, self.lists)
            self._compiled[dialect_name] = found
        return found

    def bind(self, **params: Any) -> dict[str, Any]:
        """The statement's parameters, lists spread over their slots (also for running the
        statement on an ORM session, e.g. inside a transaction)."""
        values = dict(params)
        for name, width in self.lists.items():
            given: Sequence[int] = values.pop(name)
            if len(given) > width:
                raise ValueError(f"{name}: {len(given)} values for {width} slots")
            for i in range(width):
                values[f"{name}{i}"] = given[i] if i < len(given) else NO_ID
        return values

    def arguments(self, dialect_name: str, params: dict[str, Any]) -> tuple[_Compiled, Sequence[Any]]:
        compiled = self.compiled(dialect_name)
        missing = compiled.required - params.keys()
        if missing:
            raise KeyError(f"missing parameters: {', '.join(sorted(missing))}")
        for name, width in self.lists.items():
            if len(params[name]) > width:
                raise ValueError(f"{name}: {len(params[name])} values for {width} slots")
        if compiled.gather is not None:
            return compiled, compiled.gather(params)
        out = []
        for kind, key, slot, process in compiled.plan:
            if kind == 0:
                value = params[key]
            elif kind == 3:  # a whole id list, as it is, padded
                given = params[key]
                out.extend(given)
                out.extend(_PADDING[: slot - len(given)])
                continue
            elif kind == 1:
                given = params[key]
                value = given[slot] if slot < len(given) else NO_ID
            else:
                out.append(key)
                continue
            out.append(process(value) if process is not None and value is not None else value)
        return compiled, out


_PADDING = [NO_ID] * 1024


class HotQueries:
    """One statement built at several widths of its id list: each call runs the narrowest that
    fits. Binding and probing padded slots is most of a narrow read's cost (measured: the reader's
    marks on one note, 80 slots five times over, 179 µs; one slot, 39 µs), and one note is a
    common case (a status's page, the answer to a post or a favourite)."""

    def __init__(self, build: Callable[[int], HotQuery], widths: Sequence[int]) -> None:
        self._queries = [(width, build(width)) for width in sorted(widths)]

    @property
    def widest(self) -> int:
        return self._queries[-1][0]

    @property
    def every(self) -> list[HotQuery]:
        """The statement at each of its widths."""
        return [query for _, query in self._queries]

    def fitting(self, count: int) -> HotQuery:
        for width, query in self._queries:
            if count <= width:
                return query
        raise ValueError(f"{count} values for at most {self.widest} slots")


def _worth_gathering(plan: list[tuple[int, Any, int, Callable[[Any], Any] | None]]) -> bool:
    """Whether ``_Gather`` lays out this plan faster than its steps do: where a named parameter
    is repeated or processed (the home rules: the reader ~20 times, the time 4 times, 16.4 →
    5.1 µs) and no list slot is processed. A plan of id lists alone is faster as its ``extend``s
    (``python -m bench.hot_statements``)."""
    named = [key for kind, key, _, _ in plan if kind == 0]
    repeated = len(named) > len(set(named)) or any(kind == 0 and process for kind, _, _, process in plan)
    return repeated and all(kind != 1 or process is None for kind, _, _, process in plan)


def _runs_of_slots(
    plan: list[tuple[int, Any, int, Callable[[Any], Any] | None]], lists: dict[str, int]
) -> list[tuple[int, Any, int, Callable[[Any], Any] | None]]:
    """The plan with each complete run ``name0 … name{width-1}`` of an unprocessed id list made one
    step (3, name, width): binding a list then costs two ``extend``s instead of a Python step per
    slot (80 slots a statement on the home timeline's path)."""
    out: list[tuple[int, Any, int, Callable[[Any], Any] | None]] = []
    i = 0
    while i < len(plan):
        kind, key, slot, process = plan[i]
        width = lists.get(key, 0) if kind == 1 else 0
        run = plan[i : i + width]
        if (
            kind == 1
            and slot == 0
            and width <= len(_PADDING)
            and run == [(1, key, n, None) for n in range(width)]
        ):
            out.append((3, key, width, None))
            i += width
        else:
            out.append(plan[i])
            i += 1
    return out


def processed(compiled: _Compiled, rows: list[Any]) -> list[tuple[Any, ...]]:
    steps = [(i, f) for i, f in enumerate(compiled.results) if f is not None]
    if not steps or not rows:
        return rows
    out = []
    for row in rows:
        values = list(row)
        for i, process in steps:
            if values[i] is not None:
                values[i] = process(values[i])
        out.append(tuple(values))
    return out


class HotReader(Protocol):
    dialect_name: str

    async def rows(self, query: HotQuery, **params: Any) -> list[tuple[Any, ...]]: ...

    async def close(self) -> None: ...


class SqliteHotReader:
    """Runs hot queries on the event loop through one ``sqlite3`` connection that only reads."""

    dialect_name = "sqlite"

    def __init__(self, file: SqliteFile) -> None:
        self._file = file
        self._conn: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            # Not ``mode=ro``: a read-only connection cannot create WAL's shared-memory file when it
            # is the first to open the database. ``query_only`` refuses writes all the same.
            conn = self._file.connect(timeout=10, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA query_only=ON")
            # Reads through a memory map and a larger page cache: at a million notes the hot
            # statements' pages are spread over the file, and a read() per page cost more than
            # the statements themselves (measured: home rules 0.2 ms warm, 1 ms through syscalls).
            conn.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
            conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            self._conn = conn
        return self._conn

    async def rows(self, query: HotQuery, **params: Any) -> list[tuple[Any, ...]]:
        compiled, args = query.arguments(self.dialect_name, params)
        # Autocommit mode: each statement reads the latest committed snapshot, no transaction kept.
        rows = self._connection().execute(compiled.sql, args).fetchall()
        return processed(compiled, rows)

    async def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


async def _kept_as_is(connection: Any) -> None:
    """A hot connection given back to its pool needs no reset: it only ever runs one ``SELECT``
    outside any transaction, changing no session state. asyncpg's default reset (``RESET ALL``,
    ``UNLISTEN *``, … in one more round trip) cost a second round trip per hot read: ~7 % of the
    server's samples in the PostgreSQL mix (py-spy). (An open transaction is still rolled back by
    asyncpg itself before this runs.)"""


class PostgresHotReader:
    """Runs hot queries through an asyncpg pool (statements are prepared once per connection)."""

    dialect_name = "postgresql"

    def __init__(self, dsn: str, max_size: int = 10) -> None:
        self._dsn = dsn
        self._max_size = max_size
        self._pool: Any = None
        self._opening = asyncio.Lock()

    async def _get_pool(self) -> Any:
        if self._pool is None:
            async with self._opening:
                if self._pool is None:
                    import asyncpg

                    self._pool = await asyncpg.create_pool(
                        self._dsn, min_size=1, max_size=self._max_size, reset=_kept_as_is
                    )
        return self._pool

    async def rows(self, query: HotQuery, **params: Any) -> list[tuple[Any, ...]]:
        compiled, args = query.arguments(self.dialect_name, params)
        pool = await self._get_pool()
        records = await pool.fetch(compiled.sql, *args)
        return processed(compiled, [tuple(r) for r in records])

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


@dataclass(frozen=True)
class SqliteFile:
    """A SQLite database file as ``sqlite3.connect`` takes it: a path, or a ``file:`` URI (with
    its query: ``mode``, ``vfs``…) when the URL says ``uri=true``."""

    name: str
    uri: bool = False

    def connect(self, **options: Any) -> sqlite3.Connection:
        connection: sqlite3.Connection = sqlite3.connect(self.name, uri=self.uri, **options)
        return connection


def sqlite_file(url: str | URL) -> SqliteFile | None:
    """The file of a SQLite database URL, named as SQLAlchemy's driver opens it (so that the hot
    reader and the checkpointer open the writers' file, a ``file:`` URI included); None for an
    in-memory database or another kind."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    args, options = _DIALECTS["sqlite"].create_connect_args(parsed)
    name, uri = str(args[0]), bool(options.get("uri"))
    in_memory = name in ("", ":memory:") or (
        uri and (name.startswith("file::memory:") or "mode=memory" in name)
    )
    return None if in_memory else SqliteFile(name, uri)


def hot_reader_for(url: str) -> HotReader:
    """The hot reader for a SQLAlchemy database URL (SQLite file or PostgreSQL)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        file = sqlite_file(parsed)
        if file is None:
            raise ValueError("the hot read path needs a SQLite file, not an in-memory database")
        return SqliteHotReader(file)
    dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    return PostgresHotReader(dsn)
