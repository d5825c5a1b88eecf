"""video and audio media

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 13:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cordee.db.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

#: Columns that video and audio leave empty for a while (or for good: audio has no width).
_NULLABLE = ("file_key", "file_size", "width", "height", "small_key", "small_width", "small_height")


def upgrade() -> None:
    with op.batch_alter_table("media_attachments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("processing", sa.String(length=16), server_default="complete", nullable=False)
        )
        batch_op.add_column(sa.Column("processing_error", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("processing_attempts", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("processing_started_at", cordee.db.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("incoming_key", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("incoming_type", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("meta", sa.JSON(), nullable=True))
        for name in _NULLABLE:
            kind = sa.Text() if name.endswith("_key") else sa.Integer()
            batch_op.alter_column(name, existing_type=kind, nullable=True)
        batch_op.create_index("ix_media_attachments_processing", ["processing", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("media_attachments", schema=None) as batch_op:
        batch_op.drop_index("ix_media_attachments_processing")
        for name in _NULLABLE:
            kind = sa.Text() if name.endswith("_key") else sa.Integer()
            batch_op.alter_column(name, existing_type=kind, nullable=False)
        for name in (
            "meta",
            "incoming_type",
            "incoming_key",
            "processing_started_at",
            "processing_attempts",
            "processing_error",
            "processing",
        ):
            batch_op.drop_column(name)
