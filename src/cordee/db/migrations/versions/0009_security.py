"""security: web sessions, two-factor sign-in, e-mail tokens, audit log, snowflake worker leases

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 10:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cordee.db.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_T = cordee.db.types.UTCDateTime(timezone=True)


def _user_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE")


def upgrade() -> None:
    op.add_column("users", sa.Column("email_confirmed_at", _T, nullable=True))
    # Addresses of accounts made before confirmation existed are taken as confirmed.
    op.execute("UPDATE users SET email_confirmed_at = created_at")
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=False),
        sa.Column("user_agent", sa.String(length=300), nullable=False),
        sa.Column("last_seen_at", _T, nullable=False),
        sa.Column("expires_at", _T, nullable=False),
        sa.Column("revoked_at", _T, nullable=True),
        sa.Column("created_at", _T, nullable=False),
        _user_fk(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash"),
    )
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"])
    op.create_table(
        "two_factor",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("enabled_at", _T, nullable=True),
        sa.Column("last_step", sa.BigInteger(), nullable=False),
        sa.Column("created_at", _T, nullable=False),
        _user_fk(),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "two_factor_recovery_codes",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", _T, nullable=True),
        sa.Column("created_at", _T, nullable=False),
        _user_fk(),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_two_factor_recovery_codes_user_id", "two_factor_recovery_codes", ["user_id"])
    op.create_table(
        "email_tokens",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("expires_at", _T, nullable=False),
        sa.Column("used_at", _T, nullable=True),
        sa.Column("created_at", _T, nullable=False),
        _user_fk(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_email_tokens_user_id", "email_tokens", ["user_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("created_at", _T, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_log_user_id_id", "audit_log", ["user_id", "id"])
    op.create_table(
        "id_workers",
        sa.Column("worker", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("holder", sa.String(length=100), nullable=False),
        sa.Column("expires_at", _T, nullable=False),
        sa.PrimaryKeyConstraint("worker"),
    )
    op.add_column("oauth_access_tokens", sa.Column("authorization_code_id", sa.BigInteger(), nullable=True))
    op.create_index(
        "ix_oauth_access_tokens_authorization_code_id", "oauth_access_tokens", ["authorization_code_id"]
    )
    # Followers who asked for a notification of each new note (``notify``): found by a post.
    op.create_index(
        "ix_follows_notify",
        "follows",
        ["target_account_id"],
        sqlite_where=sa.text("notify = 1"),
        postgresql_where=sa.text("notify"),
    )


def downgrade() -> None:
    op.drop_index("ix_follows_notify", "follows")
    op.drop_index("ix_oauth_access_tokens_authorization_code_id", "oauth_access_tokens")
    op.drop_column("oauth_access_tokens", "authorization_code_id")
    for table in ("id_workers", "audit_log", "email_tokens", "two_factor_recovery_codes", "two_factor"):
        op.drop_table(table)
    op.drop_table("web_sessions")
    op.drop_column("users", "email_confirmed_at")
