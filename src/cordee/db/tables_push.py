"""Web Push: subscriptions (one per access token, as Mastodon keeps them), the deliveries still
to make, and the server's VAPID key pair."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cordee.db.tables import Base, _created, _id
from cordee.db.types import UTCDateTime, utcnow


class PushSubscription(Base):
    """Where and how to push an account's notifications for one app's token. ``data`` is what the
    client sent as ``data`` (``alerts`` by type, ``policy``), kept as given, like Mastodon's column;
    a revoked or deleted token takes its subscription with it."""

    __tablename__ = "push_subscriptions"
    __table_args__ = (Index("ix_push_subscriptions_account_id", "account_id"),)
    id: Mapped[int] = _id()
    access_token_id: Mapped[int] = mapped_column(
        ForeignKey("oauth_access_tokens.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    endpoint: Mapped[str] = mapped_column(Text, nullable=False)
    #: The subscriber's P-256 public key and auth secret, base64url as the client gave them.
    key_p256dh: Mapped[str] = mapped_column(String(200), nullable=False)
    key_auth: Mapped[str] = mapped_column(String(100), nullable=False)
    #: RFC 8030/8291/8292 (aes128gcm, ``vapid t=…,k=…``) when true; else the drafts Mastodon
    #: used first (aesgcm, ``WebPush`` and ``Crypto-Key``), still its default.
    standard: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = _created()


class PushDelivery(Base):
    """A notification to push to a subscription: written in the notification's own transaction,
    sent after commit by the ``push.deliver`` job, deleted once sent or given up. Its key is
    natural, so the rows are written by one ``INSERT … SELECT`` over the recipient's subscriptions."""

    __tablename__ = "push_deliveries"
    __table_args__ = (
        Index("ix_push_deliveries_due", "due_at"),
        Index("ix_push_deliveries_notification", "notification_id"),
    )
    subscription_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("push_subscriptions.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    )
    notification_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("notifications.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    #: When to try next: now at first, later after a failure, or the end of a running attempt's lease.
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)


class PushServerKey(Base):
    """The VAPID key pair, generated once (when no ``CORDEE_VAPID_*`` settings give one) and kept
    here so that every process signs with the same key and subscriptions outlive restarts."""

    __tablename__ = "push_server_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    private_key: Mapped[str] = mapped_column(Text, nullable=False)
    public_key: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = _created()
