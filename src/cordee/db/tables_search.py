"""Full-text search of notes, accounts and hashtags (the search issue).

Each indexed note and account has one row here: ``body`` is the normalised token string of
``cordee.search.text`` (folded, stemmed in the note's language), written by the actions inside the
writing transaction (``cordee.search.index``). The text indexes over these rows depend on the
backend and are created by migration 0010 only, outside the models:

- SQLite: FTS5 tables ``status_fts`` / ``account_fts`` over these rows (external content, kept in
  step by triggers on ``status_search`` / ``account_search``, cascades included);
- PostgreSQL: a generated, stored ``tsv`` column (``to_tsvector('simple', body)``) on
  ``status_search`` with a GIN index; a GIN index on ``to_tsvector('simple', body)`` for accounts.

``include_name`` tells Alembic's comparison (and autogenerate) to leave those objects alone.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Literal

from sqlalchemy import BigInteger, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from cordee.db.tables import Base

#: The FTS5 tables (and their shadow tables) and the GIN indexes that migration 0010 creates.
TEXT_INDEX_PREFIXES = ("status_fts", "account_fts", "ix_status_search_tsv", "ix_account_search_tsv")


class StatusSearch(Base):
    """A note as the index sees it (original notes only: boosts carry no text of their own)."""

    __tablename__ = "status_search"
    status_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("statuses.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    body: Mapped[str] = mapped_column(Text, nullable=False)


class AccountSearch(Base):
    """An account as the index sees it: folded words of its username, display name and bio."""

    __tablename__ = "account_search"
    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    body: Mapped[str] = mapped_column(Text, nullable=False)


_NameType = Literal[
    "schema", "table", "column", "index", "unique_constraint", "foreign_key_constraint", "check_constraint"
]
_ParentNames = MutableMapping[Literal["schema_name", "table_name", "schema_qualified_table_name"], str | None]


def include_name(name: str | None, type_: _NameType, parent_names: _ParentNames) -> bool:
    """Alembic ``include_name`` hook: skip the backend-specific text indexes (and PostgreSQL's
    generated ``status_search.tsv`` column)."""
    if type_ == "column" and name == "tsv" and parent_names.get("table_name") == "status_search":
        return False
    return not (name and name.startswith(TEXT_INDEX_PREFIXES))
