"""full-text search of notes, accounts and hashtags

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 13:45:00

``status_search`` / ``account_search`` hold the normalised token string of each note and account
(``cordee.search.text``); over them, FTS5 tables on SQLite and GIN indexes on PostgreSQL. Existing
notes and accounts are indexed here, in batches, with the same normaliser the actions use.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cordee.search.index import account_body
from cordee.search.text import index_body

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_BATCH = 2000

_SQLITE_UP = [
    # Phrases need positions (detail=full, the default). The tokens are already folded, so the
    # tokenizer only has to split on the spaces between them.
    "CREATE VIRTUAL TABLE status_fts USING fts5(body, content='status_search', content_rowid='status_id',"
    " tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER status_search_ai AFTER INSERT ON status_search BEGIN"
    " INSERT INTO status_fts(rowid, body) VALUES (new.status_id, new.body); END",
    "CREATE TRIGGER status_search_ad AFTER DELETE ON status_search BEGIN"
    " INSERT INTO status_fts(status_fts, rowid, body) VALUES ('delete', old.status_id, old.body); END",
    "CREATE TRIGGER status_search_au AFTER UPDATE ON status_search BEGIN"
    " INSERT INTO status_fts(status_fts, rowid, body) VALUES ('delete', old.status_id, old.body);"
    " INSERT INTO status_fts(rowid, body) VALUES (new.status_id, new.body); END",
    # Accounts are found by word prefixes ("ali" finds Alice): prefix indexes of 2 and 3 letters.
    "CREATE VIRTUAL TABLE account_fts USING fts5(body, content='account_search', content_rowid='account_id',"
    " tokenize='unicode61 remove_diacritics 0', prefix='2 3')",
    "CREATE TRIGGER account_search_ai AFTER INSERT ON account_search BEGIN"
    " INSERT INTO account_fts(rowid, body) VALUES (new.account_id, new.body); END",
    "CREATE TRIGGER account_search_ad AFTER DELETE ON account_search BEGIN"
    " INSERT INTO account_fts(account_fts, rowid, body) VALUES ('delete', old.account_id, old.body); END",
    "CREATE TRIGGER account_search_au AFTER UPDATE ON account_search BEGIN"
    " INSERT INTO account_fts(account_fts, rowid, body) VALUES ('delete', old.account_id, old.body);"
    " INSERT INTO account_fts(rowid, body) VALUES (new.account_id, new.body); END",
]

_SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS account_search_au",
    "DROP TRIGGER IF EXISTS account_search_ad",
    "DROP TRIGGER IF EXISTS account_search_ai",
    "DROP TABLE IF EXISTS account_fts",
    "DROP TRIGGER IF EXISTS status_search_au",
    "DROP TRIGGER IF EXISTS status_search_ad",
    "DROP TRIGGER IF EXISTS status_search_ai",
    "DROP TABLE IF EXISTS status_fts",
]

_PG_UP = [
    # A stored tsvector: checking a candidate row (phrases, which GIN cannot answer alone) and
    # ranking read it instead of parsing the body again.
    "ALTER TABLE status_search ADD COLUMN tsv tsvector"
    " GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, body)) STORED",
    "CREATE INDEX ix_status_search_tsv ON status_search USING gin (tsv)",
    "CREATE INDEX ix_account_search_tsv ON account_search USING gin (to_tsvector('simple', body))",
]


def _backfill() -> None:
    bind = op.get_bind()
    statuses = sa.table(
        "statuses",
        sa.column("id", sa.BigInteger),
        sa.column("text", sa.Text),
        sa.column("spoiler_text", sa.Text),
        sa.column("language", sa.String),
        sa.column("reblog_of_id", sa.BigInteger),
    )
    status_search = sa.table(
        "status_search", sa.column("status_id", sa.BigInteger), sa.column("body", sa.Text)
    )
    last = -1
    while True:
        rows = bind.execute(
            sa.select(statuses.c.id, statuses.c.text, statuses.c.spoiler_text, statuses.c.language)
            .where(statuses.c.reblog_of_id.is_(None), statuses.c.id > last)
            .order_by(statuses.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        bind.execute(
            status_search.insert(),
            [{"status_id": r.id, "body": index_body(r.text, r.spoiler_text, r.language)} for r in rows],
        )
        last = rows[-1].id
    accounts = sa.table(
        "accounts",
        sa.column("id", sa.BigInteger),
        sa.column("username", sa.String),
        sa.column("display_name", sa.String),
        sa.column("note", sa.Text),
    )
    account_search = sa.table(
        "account_search", sa.column("account_id", sa.BigInteger), sa.column("body", sa.Text)
    )
    last = -1
    while True:
        rows = bind.execute(
            sa.select(accounts.c.id, accounts.c.username, accounts.c.display_name, accounts.c.note)
            .where(accounts.c.id > last)
            .order_by(accounts.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        bind.execute(
            account_search.insert(),
            [{"account_id": r.id, "body": account_body(r.username, r.display_name, r.note)} for r in rows],
        )
        last = rows[-1].id


def upgrade() -> None:
    op.create_table(
        "status_search",
        sa.Column("status_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["status_id"], ["statuses.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("status_id"),
    )
    op.create_table(
        "account_search",
        sa.Column("account_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id"),
    )
    dialect = op.get_bind().dialect.name
    for statement in _SQLITE_UP if dialect == "sqlite" else _PG_UP:
        op.execute(statement)
    _backfill()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in _SQLITE_DOWN:
            op.execute(statement)
    op.drop_table("account_search")
    op.drop_table("status_search")
