"""Web Push subscriptions

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 13:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cordee.db.types

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_T = cordee.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "push_subscriptions",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("access_token_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("endpoint", sa.Text(), nullable=False),
        sa.Column("key_p256dh", sa.String(length=200), nullable=False),
        sa.Column("key_auth", sa.String(length=100), nullable=False),
        sa.Column("standard", sa.Boolean(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", _T, nullable=False),
        sa.ForeignKeyConstraint(["access_token_id"], ["oauth_access_tokens.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("access_token_id"),
    )
    op.create_index("ix_push_subscriptions_account_id", "push_subscriptions", ["account_id"])
    op.create_table(
        "push_deliveries",
        sa.Column("subscription_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("notification_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("due_at", _T, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["subscription_id"], ["push_subscriptions.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["notification_id"], ["notifications.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("subscription_id", "notification_id"),
    )
    op.create_index("ix_push_deliveries_due", "push_deliveries", ["due_at"])
    op.create_index("ix_push_deliveries_notification", "push_deliveries", ["notification_id"])
    op.create_table(
        "push_server_keys",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("private_key", sa.Text(), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("created_at", _T, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("push_server_keys")
    op.drop_index("ix_push_deliveries_notification", table_name="push_deliveries")
    op.drop_index("ix_push_deliveries_due", table_name="push_deliveries")
    op.drop_table("push_deliveries")
    op.drop_index("ix_push_subscriptions_account_id", table_name="push_subscriptions")
    op.drop_table("push_subscriptions")
