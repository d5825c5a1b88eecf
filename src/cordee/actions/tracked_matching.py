"""Recording the matches of tracked searches.

New notes are matched inside the transaction that posts them, edited ones inside the edit's (a
``before_commit`` hook, like the SQL home-feed fan-out): a match commits with its note or not at
all, so nothing is lost and nothing needs replaying, and its ``TrackedMatched`` event is published
after the commit. The query is
``search.match.matches`` — the in-memory twin of the database search, the same parser and rules —
and a search records a note only when its owner may see it (``visible_to``, asked in one statement
for all the owners concerned).

The searches are kept in memory, parsed: a post does not read the table of searches. Every change
of a search emits ``TrackedSearchesChanged``, which each process hears on the bus (Redis when
several run) and reloads on its next post; ``CACHE_SECONDS`` bounds how long a missed event (a
lost Redis connection) can leave a process behind; the process that made the change reloads at once
(``forget_searches``).

A new or changed search is backfilled from notes already posted, through the database search
(``queries.search.search_statuses``: the full-text index, ``visible_to`` and what the owner chose
not to see, as their search page).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.config import Settings
from cordee.db.engine import Database, Tx
from cordee.db.tables import Status
from cordee.db.tables_tracking import TrackedMatch, TrackedSearch
from cordee.domain.sentiment import note_text, score
from cordee.events.tracking import TrackedMatched, TrackedSearchesChanged
from cordee.events.types import Event, StatusCreated, StatusUpdated
from cordee.queries.search import search_statuses
from cordee.queries.visibility import viewers_who_see, visible_to
from cordee.search.facts import note_facts
from cordee.search.match import NoteFacts, matches, query_modes
from cordee.search.query import Hashtag, Mention, Query, QueryError, Words, parse
from cordee.search.text import query_forms

log = logging.getLogger(__name__)

CACHE_SECONDS = 300.0
#: A new search records at most this many of the newest notes the database search finds.
BACKFILL_MAX = 1000


@dataclass(frozen=True)
class _Compiled:
    id: int
    owner_id: int
    query: Query
    #: Per group of the query, what a note must hold for one of its alternatives to match: the
    #: tokens of each form of a word or phrase (``search.text.query_forms``, as the matcher uses
    #: them), hashtags, mentioned accounts. Computed once, so that a post skips most searches with
    #: a few set lookups and runs the full matcher only on those that may match.
    needs: tuple[tuple[tuple[frozenset[str], ...], frozenset[str], frozenset[str]], ...] = ()

    @classmethod
    def of(cls, search_id: int, owner_id: int, query: Query) -> _Compiled:
        modes = query_modes(query)
        needs = []
        for group in query.groups:
            forms = tuple(
                frozenset(form)
                for term in group
                if isinstance(term, Words)
                for form in query_forms(term.tokens, modes)
            )
            tags = frozenset(t.name for t in group if isinstance(t, Hashtag))
            mentions = frozenset(t.acct for t in group if isinstance(t, Mention))
            needs.append((forms, tags, mentions))
        return cls(search_id, owner_id, query, tuple(needs))

    def may_match(self, note: NoteFacts) -> bool:
        """False only when the note cannot match (a necessary condition, never a sufficient one)."""
        tokens = note.token_set
        for forms, tags, mentions in self.needs:
            if not (
                any(form <= tokens for form in forms)
                or not tags.isdisjoint(note.tags)
                or not mentions.isdisjoint(note.mentions)
            ):
                return False
        return True


_generation = 0


def forget_searches() -> None:
    """A search was created, changed or deleted in this process: reload them before the next match."""
    global _generation
    _generation += 1


def _compile(settings: Settings, rows: Sequence[Any]) -> list[_Compiled]:
    compiled = []
    for search_id, owner_id, text in rows:
        try:
            compiled.append(_Compiled.of(search_id, owner_id, parse(text, local_domain=settings.domain)))
        except QueryError:  # stored before a stricter parser: it matches nothing until edited
            log.warning("tracked search %s no longer parses", search_id)
    return compiled


def _sentiment(facts: NoteFacts) -> float:
    return score(note_text(facts.text, facts.spoiler_text), facts.language)


def _visible(viewer: Any) -> Any:
    return select(Status).where(visible_to(viewer))


async def _record(
    session: AsyncSession,
    status_id: int,
    facts: NoteFacts,
    author_id: int,
    searches: list[_Compiled],
    *,
    edited: bool = False,
) -> list[int]:
    """Record the note for the searches whose query it matches and whose owner may see it; returns
    the searches that matched it anew. An edited note is matched again: searches it no longer
    matches lose it, the others keep it with its new sentiment."""
    wanted = [s for s in searches if s.may_match(facts) and matches(s.query, facts)]
    if wanted:
        owners = sorted({s.owner_id for s in wanted})
        seen = set(await session.scalars(viewers_who_see(status_id, owners, _visible)))
        wanted = [s for s in wanted if s.owner_id in seen]
    sentiment = _sentiment(facts)
    present: set[int] = set()
    if edited:  # a new note has no match yet: no statement to find them
        present = set(
            await session.scalars(
                select(TrackedMatch.tracked_search_id).where(TrackedMatch.status_id == status_id)
            )
        )
        stale = present - {s.id for s in wanted}
        if stale:
            await session.execute(
                delete(TrackedMatch).where(
                    TrackedMatch.status_id == status_id, TrackedMatch.tracked_search_id.in_(stale)
                )
            )
        if present - stale:
            await session.execute(
                update(TrackedMatch).where(TrackedMatch.status_id == status_id).values(sentiment=sentiment)
            )
    new = [s for s in wanted if s.id not in present]
    session.add_all(
        TrackedMatch(
            tracked_search_id=s.id,
            status_id=status_id,
            author_id=author_id,
            posted_at=facts.created_at,
            sentiment=sentiment,
        )
        for s in new
    )
    return [s.id for s in new]


class Tracker:
    """The ``before_commit`` hook that matches new notes against every tracked search."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self._db = db
        self._settings = settings
        self._searches: list[_Compiled] = []
        self._loaded_at = -1e9
        self._generation = -1
        self._unsubscribe: Callable[[], None] = lambda: None

    def attach(self) -> None:
        if self._in_transaction not in self._db.before_commit:
            self._db.before_commit.append(self._in_transaction)
            self._unsubscribe = self._db.bus.subscribe(self._on_events)

    def detach(self) -> None:
        if self._in_transaction in self._db.before_commit:
            self._db.before_commit.remove(self._in_transaction)
            self._unsubscribe()

    async def _on_events(self, events: Sequence[Event]) -> None:
        if any(isinstance(e, TrackedSearchesChanged) for e in events):
            self._loaded_at = -1e9  # reload on the next post

    async def _load(self, session: AsyncSession) -> list[_Compiled]:
        now = time.monotonic()
        if self._generation != _generation or now - self._loaded_at > CACHE_SECONDS:
            rows = (
                await session.execute(select(TrackedSearch.id, TrackedSearch.account_id, TrackedSearch.query))
            ).all()
            self._searches = _compile(self._settings, rows)
            self._loaded_at, self._generation = now, _generation
        return self._searches

    async def _in_transaction(self, tx: Tx) -> None:
        notes = [
            (e.status_id, e.account_id, isinstance(e, StatusUpdated))
            for e in tx.events
            if (isinstance(e, StatusCreated) and e.reblog_of_id is None and e.local)
            or (isinstance(e, StatusUpdated) and e.local)
        ]
        if not notes:
            return
        searches = await self._load(tx.session)
        if not searches:
            return
        facts = await note_facts(tx.session, [status_id for status_id, _, _ in notes])
        for status_id, author_id, edited in notes:
            found = facts.get(status_id)
            if found is None:
                continue
            ids = await _record(tx.session, status_id, found, author_id, searches, edited=edited)
            if ids:
                tx.emit(TrackedMatched(status_id, tuple(ids)))


async def clear_matches(tx: Tx, row: TrackedSearch) -> None:
    await tx.session.execute(delete(TrackedMatch).where(TrackedMatch.tracked_search_id == row.id))


async def backfill(db: Database, settings: Settings, search_id: int) -> int:
    """Record the newest ``BACKFILL_MAX`` notes the database search finds for a new (or
    re-queried) search, as its owner's search page would list them; returns how many. The alert
    cursors move past them: a backfill is history, not news."""
    async with db.read() as session:
        row = await session.get(TrackedSearch, search_id)
        if row is None:
            return 0
        compiled = _compile(settings, [(row.id, row.account_id, row.query)])
        if not compiled:
            return 0
        statuses = await search_statuses(
            session, row.account_id, compiled[0].query, limit=BACKFILL_MAX, local_domain=settings.domain
        )
        facts = await note_facts(session, [s.id for s in statuses])
    found = [(s.id, s.account_id, facts[s.id]) for s in statuses if s.id in facts]
    async with db.write() as tx:
        current = await tx.session.get(TrackedSearch, search_id)
        if current is None or current.query != row.query:
            return 0  # deleted or changed meanwhile: that change backfills itself
        present = set(
            await tx.session.scalars(
                select(TrackedMatch.status_id).where(TrackedMatch.tracked_search_id == search_id)
            )
        )
        added = [
            TrackedMatch(
                tracked_search_id=search_id,
                status_id=status_id,
                author_id=author_id,
                posted_at=note.created_at,
                sentiment=_sentiment(note),
            )
            for status_id, author_id, note in found
            if status_id not in present
        ]
        tx.session.add_all(added)
        await tx.session.flush()
        newest = max((m.id for m in added), default=0)
        current.notified_upto = max(current.notified_upto, newest)
        current.digested_upto = max(current.digested_upto, newest)
    return len(added)
