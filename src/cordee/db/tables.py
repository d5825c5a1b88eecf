"""The relational model. Plain rows: no serialisation, no business rules (those live in
``domain``, ``actions`` and ``queries``). Ids are snowflakes from ``cordee.ids``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from cordee.db.types import UTCDateTime, utcnow
from cordee.ids import new_id


class Base(DeclarativeBase):
    pass


def _id() -> Mapped[int]:
    return mapped_column(BigInteger, primary_key=True, default=new_id, autoincrement=False)


def _created() -> Mapped[datetime]:
    return mapped_column(UTCDateTime, default=utcnow, nullable=False)


class Account(Base):
    """A profile that posts and follows. Local accounts have ``domain`` NULL and a ``User``."""

    __tablename__ = "accounts"
    __table_args__ = (
        # Usernames are unique per domain, case-insensitively (stored lowered in username_key).
        UniqueConstraint("username_key", "domain", name="uq_accounts_username_domain"),
    )
    id: Mapped[int] = _id()
    username: Mapped[str] = mapped_column(String(30), nullable=False)
    username_key: Mapped[str] = mapped_column(String(30), nullable=False)
    domain: Mapped[str | None] = mapped_column(String(255), nullable=True)
    display_name: Mapped[str] = mapped_column(String(100), default="", nullable=False)
    note: Mapped[str] = mapped_column(Text, default="", nullable=False)
    avatar_url: Mapped[str] = mapped_column(Text, default="", nullable=False)
    header_url: Mapped[str] = mapped_column(Text, default="", nullable=False)
    locked: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    bot: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    discoverable: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    followers_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    following_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    statuses_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    last_status_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = _created()


class User(Base):
    """The sign-in side of a local account."""

    __tablename__ = "users"
    id: Mapped[int] = _id()
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    email: Mapped[str] = mapped_column(String(320), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(Text, nullable=False)
    approved: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    admin: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    locale: Mapped[str] = mapped_column(String(10), default="en", nullable=False)
    registration_reason: Mapped[str] = mapped_column(Text, default="", nullable=False)
    #: When the e-mail address was confirmed (the link sent at sign-up); NULL: not yet.
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = _created()


class Invite(Base):
    __tablename__ = "invites"
    id: Mapped[int] = _id()
    code: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    max_uses: Mapped[int | None] = mapped_column(Integer, nullable=True)
    uses: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = _created()


class Application(Base):
    """An OAuth client registered through ``POST /api/v1/apps``."""

    __tablename__ = "applications"
    id: Mapped[int] = _id()
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    website: Mapped[str | None] = mapped_column(Text, nullable=True)
    redirect_uris: Mapped[str] = mapped_column(Text, nullable=False)  # newline separated
    scopes: Mapped[str] = mapped_column(Text, nullable=False)  # space separated
    client_id: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    client_secret: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = _created()


class AuthorizationCode(Base):
    __tablename__ = "oauth_authorization_codes"
    id: Mapped[int] = _id()
    code: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    redirect_uri: Mapped[str] = mapped_column(Text, nullable=False)
    scopes: Mapped[str] = mapped_column(Text, nullable=False)
    code_challenge: Mapped[str | None] = mapped_column(String(128), nullable=True)
    code_challenge_method: Mapped[str | None] = mapped_column(String(10), nullable=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    used: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    created_at: Mapped[datetime] = _created()


class AccessToken(Base):
    """A bearer token; ``user_id`` is NULL for client_credentials (app-only) tokens."""

    __tablename__ = "oauth_access_tokens"
    __table_args__ = (Index("ix_oauth_access_tokens_authorization_code_id", "authorization_code_id"),)
    id: Mapped[int] = _id()
    token: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    refresh_token: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=True)
    scopes: Mapped[str] = mapped_column(Text, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: The authorization code this token (or the token it was refreshed from) was issued for: a
    #: code presented again revokes them all (RFC 6749 §4.1.2). No foreign key: a pruned code
    #: leaves a number that matches nothing, which is all that is needed.
    authorization_code_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = _created()


class Status(Base):
    __tablename__ = "statuses"
    __table_args__ = (
        Index("ix_statuses_account_id_id", "account_id", "id"),
        Index("ix_statuses_visibility_id", "visibility", "id"),
        # Boosts of a note (its deletion cascades to them), and whether a reader boosted the notes
        # of a page: one probe per note, not a walk through all the reader's notes.
        Index("ix_statuses_reblog_of_id_account_id", "reblog_of_id", "account_id"),
    )
    id: Mapped[int] = _id()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    text: Mapped[str] = mapped_column(Text, default="", nullable=False)
    content: Mapped[str] = mapped_column(Text, default="", nullable=False)
    spoiler_text: Mapped[str] = mapped_column(Text, default="", nullable=False)
    visibility: Mapped[str] = mapped_column(String(10), nullable=False)
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    language: Mapped[str | None] = mapped_column(String(10), nullable=True)
    in_reply_to_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("statuses.id", ondelete="SET NULL"), nullable=True, index=True
    )
    in_reply_to_account_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reblog_of_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("statuses.id", ondelete="CASCADE"), nullable=True
    )
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("applications.id", ondelete="SET NULL"), nullable=True
    )
    replies_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    reblogs_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    favourites_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    created_at: Mapped[datetime] = _created()
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: The thread the note belongs to: a reply inherits its parent's, any other note (boosts
    #: included) starts its own (its id), as Mastodon's ``conversation_id``. NULL (rows written
    #: outside ``post_status``) reads as the note's own id.
    conversation_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)


class Mention(Base):
    __tablename__ = "mentions"
    __table_args__ = (UniqueConstraint("status_id", "account_id", name="uq_mentions_status_account"),)
    id: Mapped[int] = _id()
    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"), nullable=False)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False, index=True
    )


class Tag(Base):
    __tablename__ = "tags"
    id: Mapped[int] = _id()
    name: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)  # lowered
    display_name: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = _created()


class StatusTag(Base):
    __tablename__ = "status_tags"
    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True)
    __table_args__ = (Index("ix_status_tags_tag_status", "tag_id", "status_id"),)


class Follow(Base):
    __tablename__ = "follows"
    __table_args__ = (
        UniqueConstraint("account_id", "target_account_id", name="uq_follows_pair"),
        Index("ix_follows_target", "target_account_id", "id"),
        Index("ix_follows_account_id_id", "account_id", "id"),  # whom one follows, newest first
        # Who asked to be told of an author's new notes: a post looks them up through this small
        # index, not through all its followers.
        Index(
            "ix_follows_notify",
            "target_account_id",
            sqlite_where=text("notify = 1"),
            postgresql_where=text("notify"),
        ),
    )
    id: Mapped[int] = _id()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    target_account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )
    show_reblogs: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    notify: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    languages: Mapped[str | None] = mapped_column(Text, nullable=True)  # space separated
    created_at: Mapped[datetime] = _created()


class Favourite(Base):
    __tablename__ = "favourites"
    __table_args__ = (
        UniqueConstraint("account_id", "status_id", name="uq_favourites_pair"),
        Index("ix_favourites_status", "status_id", "id"),
        Index("ix_favourites_account_id_id", "account_id", "id"),  # a reader's list, newest first
    )
    id: Mapped[int] = _id()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"), nullable=False)
    created_at: Mapped[datetime] = _created()


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_account_id", "account_id", "id"),)
    id: Mapped[int] = _id()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    from_account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )
    type: Mapped[str] = mapped_column(String(32), nullable=False)
    status_id: Mapped[int | None] = mapped_column(
        ForeignKey("statuses.id", ondelete="CASCADE"), nullable=True
    )
    created_at: Mapped[datetime] = _created()


class IdempotencyKey(Base):
    """Remembers which status a client's ``Idempotency-Key`` produced, so a retry returns it."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("account_id", "key", name="uq_idempotency_account_key"),)
    id: Mapped[int] = _id()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    key: Mapped[str] = mapped_column(String(200), nullable=False)
    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"), nullable=False)
    created_at: Mapped[datetime] = _created()


class FollowRequest(Base):
    """A pending follow of a locked account, until the target authorizes or rejects it."""

    __tablename__ = "follow_requests"
    __table_args__ = (
        UniqueConstraint("account_id", "target_account_id", name="uq_follow_requests_pair"),
        Index("ix_follow_requests_target", "target_account_id", "id"),
    )
    id: Mapped[int] = _id()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    target_account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )
    show_reblogs: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    notify: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    languages: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = _created()


class Block(Base):
    __tablename__ = "blocks"
    __table_args__ = (
        UniqueConstraint("account_id", "target_account_id", name="uq_blocks_pair"),
        Index("ix_blocks_target", "target_account_id"),
    )
    id: Mapped[int] = _id()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    target_account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )
    created_at: Mapped[datetime] = _created()


class Mute(Base):
    __tablename__ = "mutes"
    __table_args__ = (UniqueConstraint("account_id", "target_account_id", name="uq_mutes_pair"),)
    id: Mapped[int] = _id()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    target_account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )
    hide_notifications: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = _created()


class AccountDomainBlock(Base):
    """A user hiding a whole (remote) domain."""

    __tablename__ = "account_domain_blocks"
    __table_args__ = (UniqueConstraint("account_id", "domain", name="uq_account_domain_blocks"),)
    id: Mapped[int] = _id()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    domain: Mapped[str] = mapped_column(String(255), nullable=False)
    created_at: Mapped[datetime] = _created()


class FeedOutbox(Base):
    """Feed work to do in another store (Redis) for a committed change, written in the change's
    own transaction: deleted once done, replayed if the process died before doing it."""

    __tablename__ = "feed_outbox"
    id: Mapped[int] = _id()
    events: Mapped[str] = mapped_column(Text, nullable=False)  # events/codec.py
    created_at: Mapped[datetime] = _created()


class HomeFeed(Base):
    """A home feed kept in the SQL feed store: when it was (re)built and last read. No row, or a
    row not read for ``feed_inactive_days``, means the feed must be rebuilt before it is read;
    fan-out only writes to the feeds listed here (and still read)."""

    __tablename__ = "home_feeds"
    __table_args__ = (Index("ix_home_feeds_read_at", "read_at"),)
    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    built_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class HomeFeedEntry(Base):
    """One note id in one account's home feed (the newest ``feed_size`` are kept). ``author_id``
    lets unfollow, block and mute take an author's notes out without reading the statuses."""

    __tablename__ = "home_feed_entries"
    __table_args__ = (Index("ix_home_feed_entries_status", "status_id"),)
    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    status_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("statuses.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    author_id: Mapped[int] = mapped_column(BigInteger, nullable=False)


# Tables of other areas, in their own modules; imported here so that the metadata knows them all.
from cordee.db import (  # noqa: E402, F401
    tables_campaigns,
    tables_curation,
    tables_media,
    tables_personal,
    tables_polls,
    tables_push,
    tables_search,
    tables_security,
    tables_tracking,
)
