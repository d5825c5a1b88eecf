"""tracked searches, alerts, sentiment labels

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 13:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cordee.db.types

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_T = cordee.db.types.UTCDateTime(timezone=True)


def _fk(column: str, table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{table}.id"], ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "tracked_searches",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("notify", sa.Boolean(), nullable=False),
        sa.Column("email_digest", sa.Boolean(), nullable=False),
        sa.Column("digest_minutes", sa.Integer(), nullable=False),
        sa.Column("spike_alert", sa.Boolean(), nullable=False),
        sa.Column("spike_factor", sa.Float(), nullable=False),
        sa.Column("spike_window_minutes", sa.Integer(), nullable=False),
        sa.Column("notified_upto", sa.BigInteger(), nullable=False),
        sa.Column("digested_upto", sa.BigInteger(), nullable=False),
        sa.Column("digested_at", _T, nullable=True),
        sa.Column("spiked_at", _T, nullable=True),
        sa.Column("created_at", _T, nullable=False),
        _fk("account_id", "accounts"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_tracked_searches_account", "tracked_searches", ["account_id", "id"])
    op.create_table(
        "tracked_search_members",
        sa.Column("tracked_search_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        _fk("tracked_search_id", "tracked_searches"),
        _fk("account_id", "accounts"),
        sa.PrimaryKeyConstraint("tracked_search_id", "account_id"),
    )
    op.create_index("ix_tracked_search_members_account", "tracked_search_members", ["account_id"])
    op.create_table(
        "tracked_matches",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("tracked_search_id", sa.BigInteger(), nullable=False),
        sa.Column("status_id", sa.BigInteger(), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=False),
        sa.Column("posted_at", _T, nullable=False),
        sa.Column("sentiment", sa.Float(), nullable=False),
        _fk("tracked_search_id", "tracked_searches"),
        _fk("status_id", "statuses"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tracked_search_id", "status_id", name="uq_tracked_matches_pair"),
    )
    op.create_index("ix_tracked_matches_search_id", "tracked_matches", ["tracked_search_id", "id"])
    op.create_index("ix_tracked_matches_status", "tracked_matches", ["status_id"])
    op.create_table(
        "sentiment_corrections",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("status_id", sa.BigInteger(), nullable=False),
        sa.Column("label", sa.String(length=10), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", _T, nullable=False),
        _fk("account_id", "accounts"),
        _fk("status_id", "statuses"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account_id", "status_id", name="uq_sentiment_corrections_pair"),
    )


def downgrade() -> None:
    for table in ("sentiment_corrections", "tracked_matches", "tracked_search_members", "tracked_searches"):
        op.drop_table(table)
