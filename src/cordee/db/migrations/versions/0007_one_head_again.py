"""Merge the feature branches (feeds, media and polls, personal data, curation) into one head.

They were written side by side off 0002 and touch disjoint tables; from here on, migrations are a
single line again.

Revision ID: 0007
Revises: 0003, 0004, 0005, 0006
Create Date: 2026-11-25 21:02:42.352132
"""

from __future__ import annotations

revision = "0007"
down_revision = ("0003", "0004", "0005", "0006")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
