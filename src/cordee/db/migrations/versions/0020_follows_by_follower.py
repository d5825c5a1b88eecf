"""follows: whom an account follows, newest follow first, by index

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 03:35:00

``GET /api/v1/accounts/:id/following`` is paged by the follow's id. With only ``(account_id,
target_account_id)`` unique, each page found every follow of the account, then sorted them (on
SQLite, on the event loop: the hot statements run there). ``(account_id, id)`` walks the page
alone, as ``ix_follows_target`` does for followers.
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_follows_account_id_id", "follows", ["account_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_follows_account_id_id", table_name="follows")
