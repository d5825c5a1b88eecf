"""The in-memory twin of the database search: does one note match a query?

Used where notes arrive one by one (live columns of tracked searches) instead of being looked up in
the index. It applies the very rules the database search compiles to SQL (``search/backends.py``):
the same tokens (``search.text``), the same forms of each query word, the same operators;
``tests/api/test_search_engine.py`` checks that both agree on a corpus. Visibility is not its
business: callers decide who may read the note before asking whether it matches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import cached_property

from cordee.search.query import Hashtag, Mention, Query, Term, Words
from cordee.search.text import MODES, Mode, index_body, mode_for_language, primary_language, query_forms


@dataclass(frozen=True)
class NoteFacts:
    """What search knows of a note (``search.facts.note_facts`` builds them from the database)."""

    text: str  # the note's source text (not its HTML)
    language: str | None
    tags: frozenset[str]  # names as domain.text.normalize_tag stores them
    author: str  # acct: "user" for a local account, "user@domain" for a remote one; lower case
    created_at: datetime  # aware (UTC)
    has_media: bool
    mentions: frozenset[str] = frozenset()  # accts of the mentioned accounts, as ``author``
    spoiler_text: str = ""

    @cached_property
    def tokens(self) -> tuple[str, ...]:
        """The tokens the index holds for this note."""
        body = index_body(self.text, self.spoiler_text, self.language)
        return tuple(body.split())

    @cached_property
    def token_set(self) -> frozenset[str]:
        return frozenset(self.tokens)


def query_modes(query: Query) -> tuple[Mode, ...]:
    """The indexing modes a query's words are looked up under (all of them, or its ``lang:``'s)."""
    return (mode_for_language(query.language),) if query.language else MODES


def _contains(tokens: tuple[str, ...], token_set: frozenset[str], form: tuple[str, ...]) -> bool:
    if len(form) == 1:
        return form[0] in token_set
    if not all(t in token_set for t in form):
        return False
    n = len(form)
    return any(tokens[i : i + n] == form for i in range(len(tokens) - n + 1))


def term_matches(term: Term, note: NoteFacts, modes: tuple[Mode, ...]) -> bool:
    if isinstance(term, Words):
        return any(_contains(note.tokens, note.token_set, form) for form in query_forms(term.tokens, modes))
    if isinstance(term, Hashtag):
        return term.name in note.tags
    if isinstance(term, Mention):
        return term.acct in note.mentions
    raise TypeError(term)  # pragma: no cover - Term is a closed union


def day_start(day: date) -> datetime:
    """``since:``/``until:`` dates are days in UTC."""
    return datetime.combine(day, time(0), tzinfo=UTC)


def matches(query: Query, note: NoteFacts) -> bool:
    """Whether ``note`` matches ``query`` (visibility aside)."""
    if query.authors and note.author not in query.authors:
        return False
    if note.author in query.excluded_authors:
        return False
    if query.language and primary_language(note.language) != query.language:
        return False
    if query.since and note.created_at < day_start(query.since):
        return False
    if query.until and note.created_at >= day_start(query.until):
        return False
    if query.has_media is not None and note.has_media != query.has_media:
        return False
    modes = query_modes(query)
    if not all(any(term_matches(t, note, modes) for t in group) for group in query.groups):
        return False
    return not any(term_matches(t, note, modes) for t in query.excluded)
