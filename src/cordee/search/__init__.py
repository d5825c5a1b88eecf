"""Full-text search: the query language, the one text normaliser, the in-memory matcher, the index.

- ``search.query``: ``parse(text) -> Query`` (raises ``QueryError`` with a reason for people);
- ``search.text``: the normaliser used for indexing and querying alike (folding, Snowball stems);
- ``search.match``: ``matches(query, NoteFacts) -> bool``, the in-memory twin of the database search;
- ``search.index`` / ``search.backends``: the index kept inside writing transactions, and the
  statements that query it on SQLite (FTS5) and PostgreSQL (tsvector + GIN).
"""

from __future__ import annotations

from cordee.search.match import NoteFacts, matches
from cordee.search.query import Query, QueryError, parse

__all__ = ["NoteFacts", "Query", "QueryError", "matches", "parse"]
