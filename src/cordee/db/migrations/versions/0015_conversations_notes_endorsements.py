"""conversation ids and muted conversations, account notes, endorsements

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 15:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cordee.db.types

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_T = cordee.db.types.UTCDateTime(timezone=True)

# Every note takes the id of the first note of its reply chain (a boost, or a reply whose parent
# was deleted, is its own first note). A recursive CTE and UPDATE … FROM read the same on
# SQLite (3.33+) and PostgreSQL; ids only grow along a chain, so the walk ends.
_BACKFILL = """
WITH RECURSIVE chain(id, root) AS (
    SELECT id, id FROM statuses WHERE in_reply_to_id IS NULL
    UNION ALL
    SELECT s.id, chain.root FROM statuses AS s JOIN chain ON s.in_reply_to_id = chain.id
)
UPDATE statuses SET conversation_id = chain.root FROM chain WHERE chain.id = statuses.id
"""


def upgrade() -> None:
    # Plain ALTERs (no batch copy of the largest table on SQLite).
    op.add_column("statuses", sa.Column("conversation_id", sa.BigInteger(), nullable=True))
    op.execute(_BACKFILL)
    op.create_index("ix_statuses_conversation_id", "statuses", ["conversation_id"], unique=False)
    op.create_table(
        "conversation_mutes",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("conversation_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account_id", "conversation_id", name="uq_conversation_mutes_pair"),
    )
    op.create_table(
        "account_notes",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("target_account_id", sa.BigInteger(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", _T, nullable=False),
        sa.Column("updated_at", _T, nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["target_account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account_id", "target_account_id", name="uq_account_notes_pair"),
    )
    op.create_index("ix_account_notes_target", "account_notes", ["target_account_id"], unique=False)
    op.create_table(
        "account_pins",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("target_account_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", _T, nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["target_account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account_id", "target_account_id", name="uq_account_pins_pair"),
    )
    op.create_index("ix_account_pins_target", "account_pins", ["target_account_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_account_pins_target", table_name="account_pins")
    op.drop_table("account_pins")
    op.drop_index("ix_account_notes_target", table_name="account_notes")
    op.drop_table("account_notes")
    op.drop_table("conversation_mutes")
    with op.batch_alter_table("statuses") as batch:
        batch.drop_index("ix_statuses_conversation_id")
        batch.drop_column("conversation_id")
