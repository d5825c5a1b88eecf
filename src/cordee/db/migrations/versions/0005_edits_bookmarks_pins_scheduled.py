"""status edits, bookmarks, pins, scheduled statuses (and their media), markers, preferences

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-26 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cordee.db.types

revision = "0005"
down_revision = "0002"
branch_labels = None
depends_on = None


def _account_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE")


def _status_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["status_id"], ["statuses.id"], ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "status_edits",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("status_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("spoiler_text", sa.Text(), nullable=False),
        sa.Column("sensitive", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=True),
        sa.Column("media_ids", sa.JSON(), nullable=True),
        sa.Column("poll_options", sa.JSON(), nullable=True),
        sa.Column("created_at", cordee.db.types.UTCDateTime(timezone=True), nullable=False),
        _status_fk(),
        _account_fk(),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_status_edits_status", "status_edits", ["status_id", "id"])

    for table, unique in (("bookmarks", "uq_bookmarks_pair"), ("status_pins", "uq_status_pins_pair")):
        op.create_table(
            table,
            sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
            sa.Column("account_id", sa.BigInteger(), nullable=False),
            sa.Column("status_id", sa.BigInteger(), nullable=False),
            sa.Column("created_at", cordee.db.types.UTCDateTime(timezone=True), nullable=False),
            _account_fk(),
            _status_fk(),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("account_id", "status_id", name=unique),
        )
    op.create_index("ix_bookmarks_status", "bookmarks", ["status_id"])
    op.create_index("ix_status_pins_status", "status_pins", ["status_id"])

    op.create_table(
        "scheduled_statuses",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("scheduled_at", cordee.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("application_id", sa.BigInteger(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("created_at", cordee.db.types.UTCDateTime(timezone=True), nullable=False),
        _account_fk(),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account_id", "idempotency_key", name="uq_scheduled_statuses_idempotency"),
    )
    op.create_index("ix_scheduled_statuses_scheduled_at", "scheduled_statuses", ["scheduled_at"])
    op.create_index("ix_scheduled_statuses_account", "scheduled_statuses", ["account_id", "id"])
    # media_id names a media_attachments row (another branch of migrations: no foreign key).
    op.create_table(
        "scheduled_status_media",
        sa.Column("media_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("scheduled_status_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["scheduled_status_id"], ["scheduled_statuses.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("media_id"),
    )
    op.create_index("ix_scheduled_status_media_scheduled", "scheduled_status_media", ["scheduled_status_id"])

    op.create_table(
        "markers",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("timeline", sa.String(length=16), nullable=False),
        sa.Column("last_read_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", cordee.db.types.UTCDateTime(timezone=True), nullable=False),
        _account_fk(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account_id", "timeline", name="uq_markers_timeline"),
    )

    op.create_table(
        "preferences",
        sa.Column("account_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("default_visibility", sa.String(length=10), nullable=False),
        sa.Column("default_sensitive", sa.Boolean(), nullable=False),
        sa.Column("default_language", sa.String(length=10), nullable=True),
        sa.Column("expand_media", sa.String(length=10), nullable=False),
        sa.Column("expand_spoilers", sa.Boolean(), nullable=False),
        _account_fk(),
        sa.PrimaryKeyConstraint("account_id"),
    )


def downgrade() -> None:
    op.drop_table("preferences")
    op.drop_table("markers")
    op.drop_index("ix_scheduled_status_media_scheduled", table_name="scheduled_status_media")
    op.drop_table("scheduled_status_media")
    op.drop_index("ix_scheduled_statuses_account", table_name="scheduled_statuses")
    op.drop_index("ix_scheduled_statuses_scheduled_at", table_name="scheduled_statuses")
    op.drop_table("scheduled_statuses")
    op.drop_index("ix_status_pins_status", table_name="status_pins")
    op.drop_index("ix_bookmarks_status", table_name="bookmarks")
    op.drop_table("status_pins")
    op.drop_table("bookmarks")
    op.drop_index("ix_status_edits_status", table_name="status_edits")
    op.drop_table("status_edits")
