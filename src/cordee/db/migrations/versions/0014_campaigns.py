"""campaigns, chapters, tickets, ledger, raffles

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 13:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cordee.db.types

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_T = cordee.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("hashtag", sa.String(length=100), nullable=False),
        sa.Column("hashtag_key", sa.String(length=100), nullable=False),
        sa.Column("cause", sa.Text(), nullable=False),
        sa.Column("goal_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column("created_at", _T, nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("hashtag_key", name="uq_campaigns_hashtag_key"),
    )
    op.create_table(
        "campaign_organisers",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("campaign_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", _T, nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("campaign_id", "account_id", name="uq_campaign_organisers"),
    )
    op.create_index("ix_campaign_organisers_account_id", "campaign_organisers", ["account_id"], unique=False)
    op.create_table(
        "chapters",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("campaign_id", sa.BigInteger(), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("venue", sa.String(length=200), nullable=False),
        sa.Column("starts_at", _T, nullable=False),
        sa.Column("ends_at", _T, nullable=True),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("hashtag", sa.String(length=100), nullable=False),
        sa.Column("hashtag_key", sa.String(length=100), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("wall_moderation", sa.String(length=6), nullable=False),
        sa.Column("proposed_by", sa.BigInteger(), nullable=False),
        sa.Column("created_at", _T, nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["proposed_by"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("campaign_id", "hashtag_key", name="uq_chapters_campaign_hashtag"),
    )
    op.create_index("ix_chapters_campaign_id_city", "chapters", ["campaign_id", "city"], unique=False)
    op.create_table(
        "chapter_organisers",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("chapter_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("created_at", _T, nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["chapter_id"], ["chapters.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chapter_id", "account_id", name="uq_chapter_organisers"),
    )
    op.create_index("ix_chapter_organisers_account_id", "chapter_organisers", ["account_id"], unique=False)
    op.create_table(
        "raffles",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("chapter_id", sa.BigInteger(), nullable=False),
        sa.Column("price_cents", sa.BigInteger(), nullable=False),
        sa.Column("prizes", sa.Integer(), nullable=False),
        sa.Column("commitment", sa.String(length=64), nullable=False),
        sa.Column("seed", sa.String(length=128), nullable=True),
        sa.Column("drawn_at", _T, nullable=True),
        sa.Column("result_status_id", sa.BigInteger(), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column("created_at", _T, nullable=False),
        sa.ForeignKeyConstraint(["chapter_id"], ["chapters.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chapter_id", name="uq_raffles_chapter_id"),
    )
    op.create_table(
        "ticket_tiers",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("chapter_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("price_cents", sa.BigInteger(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("created_at", _T, nullable=False),
        sa.ForeignKeyConstraint(["chapter_id"], ["chapters.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ticket_tiers_chapter_id", "ticket_tiers", ["chapter_id"], unique=False)
    op.create_table(
        "tickets",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("chapter_id", sa.BigInteger(), nullable=False),
        sa.Column("tier_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", _T, nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["chapter_id"], ["chapters.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tier_id"], ["ticket_tiers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_tickets_account_id", "tickets", ["account_id"], unique=False)
    op.create_index("ix_tickets_chapter_status", "tickets", ["chapter_id", "status", "id"], unique=False)
    op.create_index("ix_tickets_tier_status", "tickets", ["tier_id", "status"], unique=False)
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("campaign_id", sa.BigInteger(), nullable=False),
        sa.Column("chapter_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("corrects_id", sa.BigInteger(), nullable=True),
        sa.Column("ticket_id", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("recorded_by", sa.BigInteger(), nullable=True),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("recorded_at", _T, nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["chapter_id"], ["chapters.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["corrects_id"],
            ["ledger_entries.id"],
        ),
        sa.ForeignKeyConstraint(["recorded_by"], ["accounts.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ticket_id", "kind", name="uq_ledger_entries_ticket_kind"),
    )
    op.create_index(
        "ix_ledger_entries_campaign",
        "ledger_entries",
        ["campaign_id", "currency", "amount_cents"],
        unique=False,
    )
    op.create_index(
        "ix_ledger_entries_chapter",
        "ledger_entries",
        ["chapter_id", "currency", "amount_cents"],
        unique=False,
    )
    op.create_index("ix_ledger_entries_corrects_id", "ledger_entries", ["corrects_id"], unique=False)
    op.create_table(
        "ticket_checkins",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("ticket_id", sa.BigInteger(), nullable=False),
        sa.Column("scan_key", sa.String(length=64), nullable=False),
        sa.Column("scanned_at", _T, nullable=False),
        sa.Column("recorded_by", sa.BigInteger(), nullable=False),
        sa.Column("duplicate", sa.Boolean(), nullable=False),
        sa.Column("created_at", _T, nullable=False),
        sa.ForeignKeyConstraint(["recorded_by"], ["accounts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("scan_key", name="uq_ticket_checkins_scan_key"),
    )
    op.create_index("ix_ticket_checkins_ticket_id", "ticket_checkins", ["ticket_id"], unique=False)
    op.create_table(
        "raffle_tickets",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("raffle_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=100), nullable=False),
        sa.Column("ledger_entry_id", sa.BigInteger(), nullable=False),
        sa.Column("sold_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", _T, nullable=False),
        sa.ForeignKeyConstraint(
            ["ledger_entry_id"],
            ["ledger_entries.id"],
        ),
        sa.ForeignKeyConstraint(["raffle_id"], ["raffles.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["sold_by"], ["accounts.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("raffle_id", "number", name="uq_raffle_tickets_number"),
    )
    op.create_table(
        "wall_decisions",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("chapter_id", sa.BigInteger(), nullable=False),
        sa.Column("status_id", sa.BigInteger(), nullable=False),
        sa.Column("decision", sa.String(length=8), nullable=False),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", _T, nullable=False),
        sa.ForeignKeyConstraint(["chapter_id"], ["chapters.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["status_id"], ["statuses.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["decided_by"], ["accounts.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chapter_id", "status_id", name="uq_wall_decisions"),
    )


def downgrade() -> None:
    # Dropping a table drops its indexes; children before parents.
    for table in (
        "wall_decisions",
        "raffle_tickets",
        "ticket_checkins",
        "ledger_entries",
        "tickets",
        "ticket_tiers",
        "raffles",
        "chapter_organisers",
        "chapters",
        "campaign_organisers",
        "campaigns",
    ):
        op.drop_table(table)
