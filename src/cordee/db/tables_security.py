"""Rows of the security features: server-side web sessions, two-factor sign-in, e-mail tokens
(address confirmation, password reset), the audit log, and the snowflake worker leases."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cordee.db.tables import Base, _created, _id
from cordee.db.types import UTCDateTime


class WebSession(Base):
    """A signed-in browser. The cookie holds a random key; only its SHA-256 is stored, so a copy of
    the database does not sign anyone in. Revoked on sign-out, password change, "sign out everywhere"."""

    __tablename__ = "web_sessions"
    __table_args__ = (Index("ix_web_sessions_user_id", "user_id"),)
    id: Mapped[int] = _id()
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    ip: Mapped[str] = mapped_column(String(45), default="", nullable=False)
    user_agent: Mapped[str] = mapped_column(String(300), default="", nullable=False)
    last_seen_at: Mapped[datetime] = _created()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = _created()


class TwoFactor(Base):
    """A user's TOTP secret (RFC 6238). ``enabled_at`` is NULL while enrolment awaits its first code;
    ``last_step`` is the time step of the last accepted code, so a code cannot be replayed."""

    __tablename__ = "two_factor"
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    secret: Mapped[str] = mapped_column(String(64), nullable=False)
    enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_step: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    created_at: Mapped[datetime] = _created()


class RecoveryCode(Base):
    """A single-use code that stands in for a TOTP code (stored hashed)."""

    __tablename__ = "two_factor_recovery_codes"
    __table_args__ = (Index("ix_two_factor_recovery_codes_user_id", "user_id"),)
    id: Mapped[int] = _id()
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = _created()


class EmailToken(Base):
    """A link sent by e-mail: ``purpose`` is ``confirm`` (the address) or ``reset`` (the password).
    Stored as a SHA-256 of the token; single use; short-lived."""

    __tablename__ = "email_tokens"
    __table_args__ = (Index("ix_email_tokens_user_id", "user_id"),)
    id: Mapped[int] = _id()
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    purpose: Mapped[str] = mapped_column(String(16), nullable=False)
    email: Mapped[str] = mapped_column(String(320), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = _created()


class AuditEvent(Base):
    """One security event (sign-in, failed sign-in, 2FA change, token revocation, password change,
    admin action). Kept apart from the rows it talks about: no foreign keys, so it outlives them."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_user_id_id", "user_id", "id"),)
    id: Mapped[int] = _id()
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    #: The user the event is about (signed in, changed, failed to sign in …), when known.
    user_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    #: Who did it, when not the user themselves (an admin, the CLI): free text such as ``cli``.
    actor: Mapped[str] = mapped_column(String(100), default="", nullable=False)
    ip: Mapped[str] = mapped_column(String(45), default="", nullable=False)
    #: A JSON object with the details (never a secret).
    detail: Mapped[str] = mapped_column(Text, default="{}", nullable=False)
    created_at: Mapped[datetime] = _created()


class IdWorker(Base):
    """A lease on one snowflake worker number, so that processes minting ids at the same
    millisecond never mint the same id (``cordee.ids``)."""

    __tablename__ = "id_workers"
    worker: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    holder: Mapped[str] = mapped_column(String(100), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
