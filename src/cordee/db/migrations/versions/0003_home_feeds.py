"""home feeds

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 20:00:03.488770

Home feeds of the SQL feed store (cordee.feeds.sql): which feeds exist, and their note ids.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cordee.db.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "home_feeds",
        sa.Column("account_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("built_at", cordee.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", cordee.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id"),
    )
    with op.batch_alter_table("home_feeds", schema=None) as batch_op:
        batch_op.create_index("ix_home_feeds_read_at", ["read_at"], unique=False)

    op.create_table(
        "home_feed_entries",
        sa.Column("account_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("status_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["status_id"], ["statuses.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id", "status_id"),
    )
    with op.batch_alter_table("home_feed_entries", schema=None) as batch_op:
        batch_op.create_index("ix_home_feed_entries_status", ["status_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("home_feed_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_home_feed_entries_status")

    op.drop_table("home_feed_entries")
    with op.batch_alter_table("home_feeds", schema=None) as batch_op:
        batch_op.drop_index("ix_home_feeds_read_at")

    op.drop_table("home_feeds")
