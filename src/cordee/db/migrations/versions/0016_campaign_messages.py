"""campaign messages: announcements, reminders and thank-you notes to a chapter's attendees

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 15:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cordee.db.types

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_T = cordee.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "campaign_messages",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("chapter_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("slot", sa.String(length=32), nullable=False),
        sa.Column("sent_by", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("include_waiting", sa.Boolean(), nullable=False),
        sa.Column("status_id", sa.BigInteger(), nullable=True),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("delivered_at", _T, nullable=True),
        sa.Column("created_at", _T, nullable=False),
        sa.ForeignKeyConstraint(["chapter_id"], ["chapters.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["sent_by"], ["accounts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["status_id"], ["statuses.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chapter_id", "slot", name="uq_campaign_messages_slot"),
    )
    op.create_index("ix_campaign_messages_pending", "campaign_messages", ["delivered_at"])


def downgrade() -> None:
    op.drop_table("campaign_messages")
