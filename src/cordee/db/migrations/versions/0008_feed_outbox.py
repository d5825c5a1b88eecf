"""feed outbox

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 07:00:00

The outbox of the Redis feed store (cordee.feeds.outbox): feed work recorded with the change that
causes it, replayed after a crash.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cordee.db.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feed_outbox",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("events", sa.Text(), nullable=False),
        sa.Column("created_at", cordee.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("feed_outbox")
