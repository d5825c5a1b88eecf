"""A parsed query as SQL over the search index, on SQLite (FTS5) and PostgreSQL (tsvector + GIN).

One interface, ``note_search(query, dialect)``: the predicates on ``statuses`` for everything the
query asks, the text index to join (when the query has words to look for) and the indexed tokens
that relevance is ranked by (``search.rank``).
Both backends search the same token strings (``search.text``), so they find the same notes; the
rules are those of ``search.match.matches`` (tested to agree on a corpus):

- a word or phrase matches if any of its forms (French stem, English stem, plain; or only its
  ``lang:`` form) appears in the note's tokens — adjacent and in order for a phrase;
- the groups of pure words go into one text-index expression (``a AND (b OR c) NOT d``); groups
  mixing hashtags or mentions with words, and exclusions without a positive text term, become
  ``IN``/``EXISTS`` predicates;
- hashtags, mentions, authors, language, dates and media are ordinary predicates on the tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    exists,
    false,
    func,
    literal_column,
    not_,
    or_,
    select,
    table,
)
from sqlalchemy import column as sql_column
from sqlalchemy.sql.expression import FromClause

from cordee.db.tables import Account, Mention, Status, StatusTag, Tag
from cordee.db.tables_media import MediaAttachment
from cordee.db.tables_search import AccountSearch, StatusSearch
from cordee.search.match import day_start, query_modes
from cordee.search.query import Hashtag, Query, Term, Words
from cordee.search.query import Mention as MentionTerm
from cordee.search.text import Mode, query_forms, words

# The FTS5 tables of migration 0010 (not in the models: virtual tables).
status_fts = table("status_fts", sql_column("rowid"), sql_column("body"))
account_fts = table("account_fts", sql_column("rowid"), sql_column("body"))

#: At most this many prefixes of an account query are looked up.
MAX_ACCOUNT_WORDS = 4


@dataclass(frozen=True)
class NoteSearch:
    """What a query asks of ``statuses``: predicates, and the text index to join if any."""

    where: tuple[ColumnElement[bool], ...]
    #: The text index joined on the note's id (``None``: no positive words, nothing to join).
    index: FromClause | None
    index_on: ColumnElement[bool] | None
    #: The note's indexed tokens (``status_search.body``) as the joined index gives them, which
    #: ``search.rank`` ranks by (``None`` without an index join).
    body: ColumnElement[Any] | None
    #: The note id as the joined index has it: order and bound pages by it, so that SQLite's FTS5
    #: walks its matches newest first and stops at the page's end instead of sorting them all.
    index_id: ColumnElement[Any]
    #: Supersets of the matching notes' ids that narrowing terms give (the notes of the ``from:``
    #: authors, of a required hashtag), each a ``SELECT id``; the text index may be probed for
    #: each of a small one's ids instead of walking the words' matches (``queries.search``).
    candidates: tuple[Select[Any], ...] = ()


# --- text expressions -----------------------------------------------------------------------


def _fts_form(form: tuple[str, ...]) -> str:
    return '"' + " ".join(form) + '"'  # tokens are letters and digits only: nothing to escape


def _pg_form(form: tuple[str, ...]) -> str:
    return " <-> ".join(f"'{t}'" for t in form)


class _Text:
    """Builds the text-index expression of one dialect."""

    def __init__(self, dialect: str, modes: tuple[Mode, ...]) -> None:
        self.pg = dialect == "postgresql"
        self.modes = modes

    def term(self, term: Words) -> str:
        forms = query_forms(term.tokens, self.modes)
        parts = [(_pg_form if self.pg else _fts_form)(f) for f in forms]
        if len(parts) == 1:
            return parts[0]
        return "(" + (" | " if self.pg else " OR ").join(parts) + ")"

    def any_of(self, terms: Sequence[Words]) -> str:
        parts = [self.term(t) for t in terms]
        if len(parts) == 1:
            return parts[0]
        return "(" + (" | " if self.pg else " OR ").join(parts) + ")"

    def expression(self, groups: Sequence[Sequence[Words]], excluded: Sequence[Words]) -> str:
        positive = (" & " if self.pg else " AND ").join(self.any_of(g) for g in groups)
        if not excluded:
            return positive
        if self.pg:
            return positive + "".join(f" & !{self.term(t)}" for t in excluded)
        return positive + "".join(f" NOT {self.term(t)}" for t in excluded)

    def matching_ids(self, expression: str) -> Any:
        """``SELECT <note ids> WHERE <index matches expression>``."""
        # correlate(None): the outer query may join the same index table; this one stands alone.
        if self.pg:
            return select(StatusSearch.status_id).where(_pg_match(expression)).correlate(None)
        matching = literal_column("status_fts").op("MATCH")(expression)
        return select(status_fts.c.rowid).where(matching).correlate(None)


def _pg_vector() -> ColumnElement[Any]:
    # status_search.tsv: a generated column on PostgreSQL only (migration 0010), not in the models.
    return literal_column("status_search.tsv")


def _pg_match(expression: str) -> ColumnElement[bool]:
    return _pg_vector().op("@@")(func.to_tsquery(literal_column("'simple'"), expression))


# --- predicates -------------------------------------------------------------------------------


def _acct_clause(acct: str) -> ColumnElement[bool]:
    username, _, domain = acct.partition("@")
    same_domain = Account.domain == domain if domain else Account.domain.is_(None)
    return and_(Account.username_key == username, same_domain)


def _authors(accts: Sequence[str]) -> ColumnElement[bool]:
    return Status.account_id.in_(select(Account.id).where(or_(*(_acct_clause(a) for a in accts))))


def _tag_notes(name: str) -> Select[Any]:
    """The ids of the notes with hashtag ``name``, read from ``(tag_id, status_id)`` by the tag's id."""
    tag_id = select(Tag.id).where(Tag.name == name).scalar_subquery()
    return select(StatusTag.status_id).where(StatusTag.tag_id == tag_id).correlate(None)


def _tagged(name: str, pg: bool) -> ColumnElement[bool]:
    if pg:
        # With the tag's id known first (an InitPlan), PostgreSQL can walk the tag's notes newest
        # first and check each one's words: 14 ms for `#tag word` over 1M notes where the EXISTS
        # form hashed every note with the word (18,000 for a common one: 74-87 ms).
        return Status.id.in_(_tag_notes(name))
    return exists(
        select(StatusTag.status_id)
        .join(Tag, Tag.id == StatusTag.tag_id)
        .where(StatusTag.status_id == Status.id, Tag.name == name)
    )


def _mentions(acct: str) -> ColumnElement[bool]:
    return exists(
        select(Mention.id)
        .join(Account, Account.id == Mention.account_id)
        .where(Mention.status_id == Status.id, _acct_clause(acct))
    )


def _term(term: Term, text: _Text) -> ColumnElement[bool]:
    if isinstance(term, Hashtag):
        return _tagged(term.name, text.pg)
    if isinstance(term, MentionTerm):
        return _mentions(term.acct)
    return Status.id.in_(text.matching_ids(text.term(term)))


def note_search(query: Query, dialect: str) -> NoteSearch:
    """The SQL for ``query`` on ``dialect`` (``sqlite`` or ``postgresql``)."""
    text = _Text(dialect, query_modes(query))
    where: list[ColumnElement[bool]] = []
    word_groups = [g for g in query.groups if all(isinstance(t, Words) for t in g)]
    mixed_groups = [g for g in query.groups if not all(isinstance(t, Words) for t in g)]
    excluded_words = [t for t in query.excluded if isinstance(t, Words)]
    index: FromClause | None = None
    index_on: ColumnElement[bool] | None = None
    body: ColumnElement[Any] | None = None
    index_id: ColumnElement[Any] = Status.id.expression
    if word_groups:
        expression = text.expression(word_groups, excluded_words)  # type: ignore[arg-type]
        if text.pg:
            index, index_on = StatusSearch.__table__, StatusSearch.status_id == Status.id
            where.append(_pg_match(expression))
            body, index_id = StatusSearch.body.expression, StatusSearch.status_id.expression
        else:
            index, index_on = status_fts, status_fts.c.rowid == Status.id
            where.append(literal_column("status_fts").op("MATCH")(expression))
            # FTS5 reads an external-content column from status_search, by rowid.
            body, index_id = status_fts.c.body, status_fts.c.rowid
    for group in mixed_groups:
        where.append(or_(*(_term(t, text) for t in group)))
    for term in query.excluded:
        if isinstance(term, Words) and word_groups:
            continue  # already in the text expression ("... NOT term")
        where.append(not_(_term(term, text)))
    if query.authors:
        where.append(_authors(query.authors))
    if query.excluded_authors:
        where.append(not_(_authors(query.excluded_authors)))
    on_row: list[ColumnElement[bool]] = []  # predicates on the note's own row
    if query.language:
        language = func.lower(Status.language)
        on_row.append(or_(language == query.language, language.like(query.language + "-%")))
    if query.since:
        on_row.append(Status.created_at >= day_start(query.since))
    if query.until:
        on_row.append(Status.created_at < day_start(query.until))
    where += on_row
    if query.has_media is not None:
        attached = exists(select(MediaAttachment.id).where(MediaAttachment.status_id == Status.id))
        where.append(attached if query.has_media else not_(attached))
    if index is None:  # the index rows are original notes only; without them, leave boosts out here
        where.append(Status.reblog_of_id.is_(None))
    candidates: list[Select[Any]] = []
    if query.authors:
        # The row's own predicates too: reading an author's note is cheaper than probing FTS5 for it.
        candidates.append(select(Status.id).where(_authors(query.authors), *on_row).correlate(None))
    for group in mixed_groups:
        if len(group) == 1 and isinstance(group[0], Hashtag):
            candidates.append(_tag_notes(group[0].name))
    return NoteSearch(tuple(where), index, index_on, body, index_id, tuple(candidates))


# --- accounts ---------------------------------------------------------------------------------


def account_search(q: str, dialect: str) -> ColumnElement[bool]:
    """Accounts whose username, display name or bio has words starting with those of ``q``
    (folded: "ecol" finds "École"). Words of one letter are too costly as prefixes and ignored."""
    prefixes = [w for w in words(q) if len(w) >= 2][:MAX_ACCOUNT_WORDS]
    if not prefixes:
        return false()
    if dialect == "postgresql":
        expression = " & ".join(f"'{p}':*" for p in prefixes)
        vector = func.to_tsvector(literal_column("'simple'"), AccountSearch.body)
        matching = select(AccountSearch.account_id).where(
            vector.op("@@")(func.to_tsquery(literal_column("'simple'"), expression))
        )
    else:
        expression = " AND ".join(f'"{p}"*' for p in prefixes)
        matching = select(account_fts.c.rowid).where(literal_column("account_fts").op("MATCH")(expression))
    return Account.id.in_(matching)
