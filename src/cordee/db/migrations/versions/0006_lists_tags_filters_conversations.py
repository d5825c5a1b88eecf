"""lists, followed and featured tags, filters, conversations, suggestions, reports

Revision ID: 0006
Revises: 0002
Create Date: 2026-11-25 20:10:00

Written by hand (a branch off 0002): the tables of cordee.db.tables_curation.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cordee.db.types

revision = "0006"
down_revision = "0002"
branch_labels = None
depends_on = None


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False)


def _created() -> sa.Column[object]:
    return sa.Column("created_at", cordee.db.types.UTCDateTime(timezone=True), nullable=False)


def _account(name: str = "account_id") -> tuple[sa.Column[int], sa.ForeignKeyConstraint]:
    return (
        sa.Column(name, sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint([name], ["accounts.id"], ondelete="CASCADE"),
    )


def upgrade() -> None:
    op.create_table(
        "lists",
        _id(),
        *_account(),
        sa.Column("title", sa.String(length=256), nullable=False),
        sa.Column("replies_policy", sa.String(length=10), nullable=False),
        sa.Column("exclusive", sa.Boolean(), nullable=False),
        _created(),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_lists_account_id", "lists", ["account_id", "id"])

    op.create_table(
        "list_accounts",
        _id(),
        sa.Column("list_id", sa.BigInteger(), nullable=False),
        *_account(),
        sa.Column("follow_id", sa.BigInteger(), nullable=False),
        _created(),
        sa.ForeignKeyConstraint(["list_id"], ["lists.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["follow_id"], ["follows.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("list_id", "account_id", name="uq_list_accounts_pair"),
    )
    op.create_index("ix_list_accounts_account_id", "list_accounts", ["account_id"])
    op.create_index("ix_list_accounts_follow_id", "list_accounts", ["follow_id"])

    for table, unique in (("tag_follows", "uq_tag_follows_pair"), ("featured_tags", "uq_featured_tags_pair")):
        op.create_table(
            table,
            _id(),
            *_account(),
            sa.Column("tag_id", sa.BigInteger(), nullable=False),
            _created(),
            sa.ForeignKeyConstraint(["tag_id"], ["tags.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("account_id", "tag_id", name=unique),
        )
    op.create_index("ix_tag_follows_tag_id", "tag_follows", ["tag_id"])

    op.create_table(
        "filters",
        _id(),
        *_account(),
        sa.Column("title", sa.String(length=256), nullable=False),
        sa.Column("context", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("expires_at", cordee.db.types.UTCDateTime(timezone=True), nullable=True),
        _created(),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_filters_account_id", "filters", ["account_id", "id"])
    op.create_table(
        "filter_keywords",
        _id(),
        sa.Column("filter_id", sa.BigInteger(), nullable=False),
        sa.Column("keyword", sa.Text(), nullable=False),
        sa.Column("whole_word", sa.Boolean(), nullable=False),
        _created(),
        sa.ForeignKeyConstraint(["filter_id"], ["filters.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_filter_keywords_filter_id", "filter_keywords", ["filter_id"])
    op.create_table(
        "filter_statuses",
        _id(),
        sa.Column("filter_id", sa.BigInteger(), nullable=False),
        sa.Column("status_id", sa.BigInteger(), nullable=False),
        _created(),
        sa.ForeignKeyConstraint(["filter_id"], ["filters.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["status_id"], ["statuses.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("filter_id", "status_id", name="uq_filter_statuses_pair"),
    )
    op.create_index("ix_filter_statuses_status_id", "filter_statuses", ["status_id"])

    op.create_table("conversations", _id(), _created(), sa.PrimaryKeyConstraint("id"))
    op.create_table(
        "conversation_statuses",
        sa.Column("status_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("conversation_id", sa.BigInteger(), nullable=False),
        sa.Column("participant_key", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["status_id"], ["statuses.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("status_id"),
    )
    op.create_index(
        "ix_conversation_statuses_thread",
        "conversation_statuses",
        ["conversation_id", "participant_key", "status_id"],
    )
    op.create_table(
        "account_conversations",
        _id(),
        *_account(),
        sa.Column("conversation_id", sa.BigInteger(), nullable=False),
        sa.Column("participant_key", sa.Text(), nullable=False),
        sa.Column("unread", sa.Boolean(), nullable=False),
        _created(),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "account_id", "conversation_id", "participant_key", name="uq_account_conversations_key"
        ),
    )

    op.create_table(
        "suggestion_dismissals",
        _id(),
        *_account(),
        *_account("target_account_id"),
        _created(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account_id", "target_account_id", name="uq_suggestion_dismissals_pair"),
    )

    op.create_table(
        "reports",
        _id(),
        *_account(),
        *_account("target_account_id"),
        sa.Column("status_ids", sa.Text(), nullable=False),
        sa.Column("rule_ids", sa.Text(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("forward", sa.Boolean(), nullable=False),
        sa.Column("action_taken_at", cordee.db.types.UTCDateTime(timezone=True), nullable=True),
        _created(),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_reports_target_account_id", "reports", ["target_account_id", "id"])


def downgrade() -> None:
    op.drop_table("reports")
    op.drop_table("suggestion_dismissals")
    op.drop_table("account_conversations")
    op.drop_table("conversation_statuses")
    op.drop_table("conversations")
    op.drop_table("filter_statuses")
    op.drop_table("filter_keywords")
    op.drop_table("filters")
    op.drop_table("featured_tags")
    op.drop_table("tag_follows")
    op.drop_table("list_accounts")
    op.drop_table("lists")
