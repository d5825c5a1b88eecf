"""Rows for what a person keeps for themself around notes: the history of their edits, bookmarks,
pins, notes scheduled for later, reading positions (markers), posting/reading preferences, muted
threads, and what they keep about other accounts (private notes, endorsements)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cordee.db.tables import Base, _created, _id
from cordee.db.types import UTCDateTime, utcnow


class StatusEdit(Base):
    """One revision of an edited note, as it read from ``created_at`` on. The first edit also
    records the original (dated like the note), so the history always starts with it."""

    __tablename__ = "status_edits"
    __table_args__ = (Index("ix_status_edits_status", "status_id", "id"),)
    id: Mapped[int] = _id()
    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"), nullable=False)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    spoiler_text: Mapped[str] = mapped_column(Text, nullable=False)
    sensitive: Mapped[bool] = mapped_column(Boolean, nullable=False)
    language: Mapped[str | None] = mapped_column(String(10), nullable=True)
    #: Ids of the media attachments of this revision, in order (None: none).
    media_ids: Mapped[list[int] | None] = mapped_column(JSON, nullable=True)
    #: The poll's option titles at this revision (None: no poll).
    poll_options: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = _created()


class Bookmark(Base):
    __tablename__ = "bookmarks"
    __table_args__ = (
        UniqueConstraint("account_id", "status_id", name="uq_bookmarks_pair"),
        Index("ix_bookmarks_status", "status_id"),
        Index("ix_bookmarks_account_id_id", "account_id", "id"),  # a reader's list, newest first
    )
    id: Mapped[int] = _id()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"), nullable=False)
    created_at: Mapped[datetime] = _created()


class StatusPin(Base):
    """A note its author pinned to their profile (at most ``MAX_PINS``, see ``actions.pins``)."""

    __tablename__ = "status_pins"
    __table_args__ = (
        UniqueConstraint("account_id", "status_id", name="uq_status_pins_pair"),
        Index("ix_status_pins_status", "status_id"),
    )
    id: Mapped[int] = _id()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"), nullable=False)
    created_at: Mapped[datetime] = _created()


class ScheduledStatus(Base):
    """A note to publish at ``scheduled_at``; the row is deleted in the transaction that posts it.

    ``params`` holds what ``POST /api/v1/statuses`` was given (text, visibility, in_reply_to_id…),
    in the shape of Mastodon's ScheduledStatus ``params``.
    """

    __tablename__ = "scheduled_statuses"
    __table_args__ = (
        UniqueConstraint("account_id", "idempotency_key", name="uq_scheduled_statuses_idempotency"),
        Index("ix_scheduled_statuses_scheduled_at", "scheduled_at"),
        Index("ix_scheduled_statuses_account", "account_id", "id"),
    )
    id: Mapped[int] = _id()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("applications.id", ondelete="SET NULL"), nullable=True
    )
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = _created()


class Marker(Base):
    """Where a person stopped reading a timeline (``home`` or ``notifications``)."""

    __tablename__ = "markers"
    __table_args__ = (UniqueConstraint("account_id", "timeline", name="uq_markers_timeline"),)
    id: Mapped[int] = _id()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    timeline: Mapped[str] = mapped_column(String(16), nullable=False)
    last_read_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class Preferences(Base):
    """A local account's posting defaults and reading preferences; no row means the defaults."""

    __tablename__ = "preferences"
    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    default_visibility: Mapped[str] = mapped_column(String(10), default="public", nullable=False)
    default_sensitive: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    default_language: Mapped[str | None] = mapped_column(String(10), nullable=True)
    expand_media: Mapped[str] = mapped_column(String(10), default="default", nullable=False)
    expand_spoilers: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)


class ScheduledMedia(Base):
    """An unattached upload kept for a scheduled note: no other note may take it, and the clean-up
    of unattached media leaves it alone. Gone with the scheduled note (published or cancelled)."""

    __tablename__ = "scheduled_status_media"
    __table_args__ = (Index("ix_scheduled_status_media_scheduled", "scheduled_status_id"),)
    media_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    scheduled_status_id: Mapped[int] = mapped_column(
        ForeignKey("scheduled_statuses.id", ondelete="CASCADE"), nullable=False
    )


class ConversationMute(Base):
    """A person no longer notified about a thread (Mastodon's ``conversation_mutes``)."""

    __tablename__ = "conversation_mutes"
    __table_args__ = (UniqueConstraint("account_id", "conversation_id", name="uq_conversation_mutes_pair"),)
    id: Mapped[int] = _id()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    conversation_id: Mapped[int] = mapped_column(BigInteger, nullable=False)


class AccountNote(Base):
    """A private comment a person keeps about another account (the relationship's ``note``)."""

    __tablename__ = "account_notes"
    __table_args__ = (
        UniqueConstraint("account_id", "target_account_id", name="uq_account_notes_pair"),
        Index("ix_account_notes_target", "target_account_id"),
    )
    id: Mapped[int] = _id()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    target_account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )
    comment: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class AccountPin(Base):
    """An account a person features on their profile (an endorsement; Mastodon's ``account_pins``)."""

    __tablename__ = "account_pins"
    __table_args__ = (
        UniqueConstraint("account_id", "target_account_id", name="uq_account_pins_pair"),
        Index("ix_account_pins_target", "target_account_id"),
    )
    id: Mapped[int] = _id()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    target_account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )
    created_at: Mapped[datetime] = _created()
