"""Search: notes by a query of the search language, hashtags by prefix, among what the viewer may see.

Notes go through the full-text index (``cordee.search``: the query language, the normaliser, and the
SQL of each backend), then through ``visible_to`` and ``shown_in_timelines`` like every read path:
nobody finds a note they may not read. ``/api/v2/search`` and the web page ``/search`` both call
``search_statuses``.
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import BigInteger, ColumnElement, Select, bindparam, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.db.tables import Status, Tag
from cordee.db.types import UTCDateTime, utcnow
from cordee.domain.text import normalize_tag
from cordee.queries.accounts import escape_like
from cordee.queries.visibility import shown_in_timelines, visible_to
from cordee.search.backends import NoteSearch, note_search
from cordee.search.query import Query, parse
from cordee.search.rank import by_relevance

#: ``date``: newest first (Mastodon's order, and the one ``max_id``/``min_id`` page through);
#: ``relevance``: best text match first (``search.rank``: BM25), newest first among equals.
Order = Literal["date", "relevance"]
ORDERS: tuple[Order, ...] = ("date", "relevance")
#: ``relevance`` ranks this many of the newest matching notes (visible to the reader): older ones
#: are not ranked. 1,000 reads in 3-10 ms over 1M notes (bench.search) and ranks in ~3 ms.
RELEVANCE_WINDOW = 1000
#: SQLite: a narrowing term (``from:``, a required ``#tag``) with at most this many notes is where
#: the search starts: FTS5 is probed for each of its notes, instead of walking the words' matches
#: newest first and dropping those the term rejects (a common word by one author read every note
#: with the word before 20 passed: ~0.4-0.6 s over 1M notes, growing with the corpus). A probe
#: costs 35-100 µs over 1M notes (FTS5 seeks each of its segments; measured in bench.search),
#: ~20 times a match read in order: a bounded cost that loses to the words' walk only for rare
#: words (~11 ms instead of ~35 ms for an author's 500 notes) and grows past the target above this.
PROBE_LIMIT = 1000


# Who may see what, built once with the reader and the time as parameters: building these
# predicates (aliases, nested EXISTS) took 3-8 ms of CPU per search, more than most searches' SQL.
_viewer: Any = bindparam("viewer", type_=BigInteger(), required=True)
_now: Any = bindparam("now", type_=UTCDateTime(), required=True)
_SIGNED_IN: tuple[ColumnElement[bool], ...] = (visible_to(_viewer), shown_in_timelines(_viewer, _now))
_ANONYMOUS: tuple[ColumnElement[bool], ...] = (visible_to(None), shown_in_timelines(None))

# PostgreSQL, for the search's transaction only (one round trip):
# - plan_cache_mode: the text query is a bind parameter; a generic plan (asyncpg prepares
#   statements) cannot know how rare its words are and walks the notes by id: plan each search for
#   its words;
# - jit off: the planner's cost of a search is often high (it counts each of the rule's NOT EXISTS
#   inside an OR at 0.5, so expects a long walk), past jit_above_cost; compiling its ~150
#   expressions took ~200 ms of a 224 ms relevance search over 1M notes (EXPLAIN ANALYZE; 30 ms
#   without), for a statement that runs in milliseconds;
# - no parallel workers: starting one (Gather Merge) cost 5-10 ms before the first row of a rare
#   word's search, whose own scan takes ~0.4 ms.
_PG_SEARCH_SETTINGS = text(
    "SELECT set_config('plan_cache_mode', 'force_custom_plan', true), set_config('jit', 'off', true),"
    " set_config('max_parallel_workers_per_gather', '0', true)"
)


def _visibility(viewer_id: int | None) -> tuple[tuple[ColumnElement[bool], ...], dict[str, Any]]:
    """The predicates of what ``viewer_id`` may see in a list, and the values of their parameters."""
    if viewer_id is None:
        return _ANONYMOUS, {}
    return _SIGNED_IN, {"viewer": viewer_id, "now": utcnow()}


async def search_tags(session: AsyncSession, q: str, *, limit: int, offset: int = 0) -> list[Tag]:
    name = normalize_tag(q.strip().lstrip("#"))
    if not name:
        return []
    query = (
        select(Tag)
        .where(Tag.name.like(escape_like(name) + "%", escape="\\"))
        .order_by((Tag.name == name).desc(), func.length(Tag.name), Tag.name)
        .offset(offset)
        .limit(limit)
    )
    return list(await session.scalars(query))


async def _smallest_candidates(
    session: AsyncSession, found: NoteSearch, account_id: int | None
) -> Select[Any] | None:
    """The smallest candidate set of at most ``PROBE_LIMIT`` notes, if any: each count stops at the
    best size so far, so choosing reads at most ``PROBE_LIMIT`` index entries per narrowing term."""
    best, bound = None, PROBE_LIMIT + 1
    sets = list(found.candidates)
    if account_id is not None:  # Mastodon's account_id parameter narrows like from:
        sets.append(select(Status.id).where(Status.account_id == account_id).correlate(None))
    for candidates in sets:
        count = await session.scalar(select(func.count()).select_from(candidates.limit(bound).subquery()))
        if count is not None and count < bound:
            best, bound = candidates, count
    return best


async def search_statuses(
    session: AsyncSession,
    viewer_id: int | None,
    q: Query | str,
    *,
    limit: int,
    offset: int = 0,
    account_id: int | None = None,
    max_id: int | None = None,
    min_id: int | None = None,
    order: Order = "date",
    local_domain: str | None = None,
) -> list[Status]:
    """Notes matching ``q`` (a parsed query, or text: ``QueryError`` if malformed); no boosts."""
    query = parse(q, local_domain=local_domain) if isinstance(q, str) else q
    dialect = session.get_bind().dialect.name
    found = note_search(query, dialect)
    statement = select(Status)
    if found.index is not None and found.index_on is not None:
        statement = statement.join(found.index, found.index_on)
    visible, params = _visibility(viewer_id)
    statement = statement.where(*found.where)
    if account_id is not None:
        statement = statement.where(Status.account_id == account_id)
    order_id = found.index_id
    if dialect == "sqlite" and found.index is not None:
        # PostgreSQL plans each search for its words and its filters (statistics, custom plans);
        # SQLite has no statistics here and always walks the text index: choose for it.
        candidates = await _smallest_candidates(session, found, account_id)
        if candidates is not None:
            statement = statement.where(found.index_id.in_(candidates))
            # Order and bound by the note's own id: asked for its rowids in descending order,
            # FTS5 walks each probed word's matches backwards (~10x the cost of a probe); the
            # few matches are sorted afterwards.
            order_id = Status.id.expression
    if max_id is not None:
        statement = statement.where(order_id < max_id)
    if min_id is not None:
        statement = statement.where(order_id > min_id)
    if dialect == "postgresql":
        await session.execute(_PG_SEARCH_SETTINGS)
    statement = statement.where(*visible)
    if order == "relevance" and found.body is not None:
        # The newest RELEVANCE_WINDOW matches, ranked (search.rank): a bounded cost whatever the
        # words and the corpus (ranking every note that has a common word would read them all).
        window = statement.with_only_columns(Status.id, found.body).order_by(order_id.desc())
        notes: Any = (await session.execute(window.limit(RELEVANCE_WINDOW), params)).all()  # (id, body)
        ranked = by_relevance(query, notes)[offset : offset + limit]
        if not ranked:
            return []
        # The rule again: the same transaction read the window, but a note is only ever shown
        # through a statement that checks it.
        page = select(Status).where(Status.id.in_(ranked), *visible)
        found_rows = {s.id: s for s in await session.scalars(page, params)}
        return [found_rows[i] for i in ranked if i in found_rows]
    statement = statement.order_by(order_id.desc())
    return list(await session.scalars(statement.offset(offset).limit(limit), params))
