"""The search query language, parsed without any I/O.

    bénévoles "assemblée générale"    words (stemmed, accents folded) and exact phrases
    climat OR météo                   OR binds the terms on each side (tighter than the implicit AND)
    -pluie  -"fake news"  -#spam      excluded words, phrases, hashtags, mentions
    #cordee                           notes carrying the hashtag (case-insensitive)
    @alice  @bob@example.org          notes mentioning the account
    from:alice  -from:bob             notes by (not by) the account
    lang:fr                           notes in that language (primary subtag)
    since:2026-01-31  until:2026-02-01  created on or after the first date, before the second (UTC)
    has:media  -has:media             notes with (without) attachments

Parentheses and other punctuation are separators, so ``(a OR b) c`` reads as intended. Terms
under ``OR`` are the alternatives of one group; every group must match (AND). ``parse`` raises
``QueryError`` with a readable reason for malformed queries (an unbalanced quote, ``OR`` without
a term on each side, an unknown ``has:`` value, a bad date…) and for costly ones (too many terms,
phrases too long, nothing positive to look for).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from cordee.domain.text import normalize_tag
from cordee.search.text import primary_language, words

#: At most this many words, phrases, hashtags and mentions in a query (alternatives and exclusions count).
MAX_TERMS = 16
#: At most this many words in one phrase.
MAX_PHRASE_WORDS = 8
#: At most this many ``from:`` accounts.
MAX_AUTHORS = 10
#: Queries longer than this are refused before parsing.
MAX_LENGTH = 500


class QueryError(ValueError):
    """A query that is malformed or too costly; ``str(error)`` is the reason, for people (English).

    ``template`` and ``params`` let a page translate it: ``_(error.template).format(**error.params)``
    (the French catalogue has every template of this module)."""

    def __init__(self, template: str, **params: object) -> None:
        self.template = template
        self.params = params
        super().__init__(template.format(**params) if params else template)


@dataclass(frozen=True)
class Words:
    """A word (one token) or a phrase (several tokens, adjacent and in order): folded, unstemmed."""

    tokens: tuple[str, ...]


@dataclass(frozen=True)
class Hashtag:
    name: str  # as domain.text.normalize_tag stores it


@dataclass(frozen=True)
class Mention:
    acct: str  # "user" for a local account, "user@domain" for a remote one; lower case


Term = Words | Hashtag | Mention


@dataclass(frozen=True)
class Query:
    #: Every group must match; a group matches when one of its alternatives does.
    groups: tuple[tuple[Term, ...], ...] = ()
    #: No excluded term may match.
    excluded: tuple[Term, ...] = ()
    #: ``from:``: the note's author is one of these (empty: anyone).
    authors: tuple[str, ...] = ()
    excluded_authors: tuple[str, ...] = ()
    language: str | None = None
    since: date | None = None
    until: date | None = None
    has_media: bool | None = None
    #: The text that was parsed (for display and for storing a tracked search).
    source: str = field(default="", compare=False)

    @property
    def terms(self) -> tuple[Term, ...]:
        return tuple(t for group in self.groups for t in group) + self.excluded


# A token of the query: optional "-", then a quoted phrase or a run of non-space characters.
_PIECE = re.compile(r'\s*(-?)(?:"([^"]*)("?)|(\S+))')
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ACCT = re.compile(r"@?([a-z0-9_]+)(?:@([a-z0-9.-]+\.[a-z0-9-]+|[a-z0-9-]+))?", re.IGNORECASE)
_T = TypeVar("_T")
_OPERATORS = ("from", "lang", "since", "until", "has")


def _acct(value: str, local_domain: str | None, operator: str) -> str:
    match = _ACCT.fullmatch(value)
    if not match:
        raise QueryError(
            "{operator} needs an account such as alice or alice@example.org, not “{value}”",
            operator=operator,
            value=value,
        )
    user, domain = match.group(1).lower(), (match.group(2) or "").lower()
    if not domain or (local_domain and domain == local_domain.lower()):
        return user
    return f"{user}@{domain}"


def _date(value: str, operator: str) -> date:
    try:
        if not _DATE.fullmatch(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise QueryError(
            "{operator}: needs a date written YYYY-MM-DD, not “{value}”", operator=operator, value=value
        ) from None


class _Builder:
    def __init__(self, local_domain: str | None) -> None:
        self.local_domain = local_domain
        self.groups: list[list[Term]] = []
        self.excluded: list[Term] = []
        self.authors: list[str] = []
        self.excluded_authors: list[str] = []
        self.language: str | None = None
        self.since: date | None = None
        self.until: date | None = None
        self.has_media: bool | None = None
        self.pending_or = False
        self.last_was_term = False

    def term(self, term: Term, negative: bool) -> None:
        if negative:
            if self.pending_or:
                raise QueryError("an excluded term cannot be an alternative of OR")
            self.excluded.append(term)
            self.last_was_term = False
            return
        if self.pending_or:
            self.groups[-1].append(term)
            self.pending_or = False
        else:
            self.groups.append([term])
        self.last_was_term = True

    def operator(self, key: str, value: str, negative: bool) -> None:
        if self.pending_or:
            raise QueryError("OR joins words, phrases, hashtags or mentions, not {key}:", key=key)
        self.last_was_term = False
        if not value:
            raise QueryError("{key}: needs a value", key=key)
        if key == "from":
            acct = _acct(value, self.local_domain, "from:")
            (self.excluded_authors if negative else self.authors).append(acct)
            if len(self.authors) + len(self.excluded_authors) > MAX_AUTHORS:
                raise QueryError("at most {count} from: accounts in a query", count=MAX_AUTHORS)
            return
        if negative:
            if key == "has" and value.lower() == "media":
                self.has_media = self._once(self.has_media, False, "has:media")
                return
            raise QueryError("{key}: cannot be excluded with “-”", key=key)
        if key == "lang":
            language = primary_language(value)
            if not language or not re.fullmatch(r"[a-z]{2,3}", language):
                raise QueryError("lang: needs a language code such as fr or en, not “{value}”", value=value)
            self.language = self._once(self.language, language, "lang:")
        elif key == "since":
            self.since = self._once(self.since, _date(value, "since"), "since:")
        elif key == "until":
            self.until = self._once(self.until, _date(value, "until"), "until:")
        elif key == "has":
            if value.lower() != "media":
                raise QueryError("has: knows only has:media, not has:{value}", value=value)
            self.has_media = self._once(self.has_media, True, "has:media")

    @staticmethod
    def _once(current: _T | None, new: _T, name: str) -> _T:
        if current is not None and current != new:
            raise QueryError("{name} may appear only once in a query", name=name)
        return new


def parse(text: str, *, local_domain: str | None = None) -> Query:
    """Parse a query; ``local_domain`` lets ``@alice@<local domain>`` mean the local ``alice``."""
    if len(text) > MAX_LENGTH:
        raise QueryError("the query is too long (at most {count} characters)", count=MAX_LENGTH)
    b = _Builder(local_domain)
    position = 0
    while position < len(text):
        match = _PIECE.match(text, position)
        if match is None:  # only trailing white space is left
            break
        position = match.end()
        negative = match.group(1) == "-"
        phrase, closing, bare = match.group(2), match.group(3), match.group(4)
        if phrase is not None:
            if not closing:
                raise QueryError("a quotation mark is not closed")
            tokens = tuple(words(phrase))
            if len(tokens) > MAX_PHRASE_WORDS:
                raise QueryError("a phrase may have at most {count} words", count=MAX_PHRASE_WORDS)
            if tokens:
                b.term(Words(tokens), negative)
            continue
        assert bare is not None
        if bare == "OR" and not negative:
            if not b.last_was_term or b.pending_or:
                raise QueryError("OR needs a word, phrase, hashtag or mention on each side")
            b.pending_or = True
            continue
        if '"' in bare:
            raise QueryError("a quotation mark is not closed")
        key, colon, value = bare.partition(":")
        if colon and key.lower() in _OPERATORS:
            b.operator(key.lower(), value, negative)
            continue
        if bare.startswith("#") and len(bare) > 1:
            name = normalize_tag(bare[1:].rstrip(".,;:!?)"))
            if not re.fullmatch(r"\w+", name):
                raise QueryError("“{text}” is not a hashtag", text=bare)
            b.term(Hashtag(name), negative)
            continue
        if bare.startswith("@") and len(bare) > 1:
            b.term(Mention(_acct(bare.rstrip(".,;:!?)"), local_domain, "@")), negative)
            continue
        tokens = tuple(words(bare))
        if len(tokens) > MAX_PHRASE_WORDS:
            raise QueryError(
                "“{text}” has too many parts (at most {count})", text=bare[:40], count=MAX_PHRASE_WORDS
            )
        if tokens:
            # "l'école" or "e-mail" is several tokens: a phrase, as the index saw it.
            b.term(Words(tokens), negative)
        elif b.pending_or:
            raise QueryError("OR needs a word, phrase, hashtag or mention on each side")
    if b.pending_or:
        raise QueryError("OR needs a word, phrase, hashtag or mention on each side")
    query = Query(
        groups=tuple(tuple(dict.fromkeys(g)) for g in b.groups),
        excluded=tuple(dict.fromkeys(b.excluded)),
        authors=tuple(dict.fromkeys(b.authors)),
        excluded_authors=tuple(dict.fromkeys(b.excluded_authors)),
        language=b.language,
        since=b.since,
        until=b.until,
        has_media=b.has_media,
        source=text,
    )
    if len(query.terms) > MAX_TERMS:
        raise QueryError("the query has too many terms (at most {count})", count=MAX_TERMS)
    if not query.groups and not query.authors:
        if query.excluded or query.excluded_authors:
            raise QueryError("a query needs at least one term to look for, not only excluded ones")
        raise QueryError("the query has nothing to look for")
    if query.since and query.until and query.since >= query.until:
        raise QueryError("since: must be before until:")
    return query
