"""favourites, bookmarks: a reader's own, newest first, by index

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 03:20:00

A reader's list of favourites or bookmarks (``GET /api/v1/favourites``, ``/api/v1/bookmarks``) is
paged by the listing row's id. With only ``(account_id, status_id)`` unique, each page found all of
the reader's rows, then sorted them: a page's cost grew with everything the reader ever marked,
and on SQLite the hot statements run on the event loop. ``(account_id, id)`` walks the page alone.
"""

from __future__ import annotations

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_favourites_account_id_id", "favourites", ["account_id", "id"])
    op.create_index("ix_bookmarks_account_id_id", "bookmarks", ["account_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_bookmarks_account_id_id", table_name="bookmarks")
    op.drop_index("ix_favourites_account_id_id", table_name="favourites")
