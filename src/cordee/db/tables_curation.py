"""What people arrange for themselves around the timelines: lists, followed and featured hashtags,
filters, direct conversations, dismissed suggestions, and the reports they file.

Imported at the bottom of ``cordee.db.tables`` so that every model shares one metadata.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cordee.db.tables import Base, _created, _id
from cordee.db.types import UTCDateTime


class TimelineList(Base):
    """A list of followed accounts with its own timeline (Mastodon's List)."""

    __tablename__ = "lists"
    __table_args__ = (Index("ix_lists_account_id", "account_id", "id"),)
    id: Mapped[int] = _id()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    title: Mapped[str] = mapped_column(String(256), nullable=False)
    replies_policy: Mapped[str] = mapped_column(String(10), default="list", nullable=False)
    exclusive: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    created_at: Mapped[datetime] = _created()


class ListMember(Base):
    """An account in a list. It hangs on the owner's follow: unfollowing (or blocking) removes it."""

    __tablename__ = "list_accounts"
    __table_args__ = (
        UniqueConstraint("list_id", "account_id", name="uq_list_accounts_pair"),
        Index("ix_list_accounts_account_id", "account_id"),
    )
    id: Mapped[int] = _id()
    list_id: Mapped[int] = mapped_column(ForeignKey("lists.id", ondelete="CASCADE"), nullable=False)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    follow_id: Mapped[int] = mapped_column(
        ForeignKey("follows.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at: Mapped[datetime] = _created()


class TagFollow(Base):
    __tablename__ = "tag_follows"
    __table_args__ = (
        UniqueConstraint("account_id", "tag_id", name="uq_tag_follows_pair"),
        Index("ix_tag_follows_tag_id", "tag_id"),
    )
    id: Mapped[int] = _id()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), nullable=False)
    created_at: Mapped[datetime] = _created()


class FeaturedTag(Base):
    """A hashtag shown on a profile; its counts are computed from the account's notes when read."""

    __tablename__ = "featured_tags"
    __table_args__ = (UniqueConstraint("account_id", "tag_id", name="uq_featured_tags_pair"),)
    id: Mapped[int] = _id()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), nullable=False)
    created_at: Mapped[datetime] = _created()


class Filter(Base):
    """A v2 filter: keywords and statuses hidden or flagged in the chosen contexts."""

    __tablename__ = "filters"
    __table_args__ = (Index("ix_filters_account_id", "account_id", "id"),)
    id: Mapped[int] = _id()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    title: Mapped[str] = mapped_column(String(256), nullable=False)
    context: Mapped[str] = mapped_column(String(100), nullable=False)  # space separated
    action: Mapped[str] = mapped_column(String(8), default="warn", nullable=False)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = _created()


class FilterKeyword(Base):
    __tablename__ = "filter_keywords"
    id: Mapped[int] = _id()
    filter_id: Mapped[int] = mapped_column(
        ForeignKey("filters.id", ondelete="CASCADE"), nullable=False, index=True
    )
    keyword: Mapped[str] = mapped_column(Text, nullable=False)
    whole_word: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    created_at: Mapped[datetime] = _created()


class FilterStatus(Base):
    __tablename__ = "filter_statuses"
    __table_args__ = (UniqueConstraint("filter_id", "status_id", name="uq_filter_statuses_pair"),)
    id: Mapped[int] = _id()
    filter_id: Mapped[int] = mapped_column(ForeignKey("filters.id", ondelete="CASCADE"), nullable=False)
    status_id: Mapped[int] = mapped_column(
        ForeignKey("statuses.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at: Mapped[datetime] = _created()


class Conversation(Base):
    """A thread of direct notes: a reply joins its parent's conversation."""

    __tablename__ = "conversations"
    id: Mapped[int] = _id()
    created_at: Mapped[datetime] = _created()


class ConversationStatus(Base):
    """A direct note in its conversation, with the sorted ids of everyone in it (author + mentions)."""

    __tablename__ = "conversation_statuses"
    __table_args__ = (
        Index("ix_conversation_statuses_thread", "conversation_id", "participant_key", "status_id"),
    )
    status_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("statuses.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False
    )
    participant_key: Mapped[str] = mapped_column(Text, nullable=False)


class AccountConversation(Base):
    """One participant's view of a conversation (Mastodon's Conversation entity): its own unread
    flag; its last status is computed from ``conversation_statuses``, so deleting notes needs no upkeep."""

    __tablename__ = "account_conversations"
    __table_args__ = (
        UniqueConstraint(
            "account_id", "conversation_id", "participant_key", name="uq_account_conversations_key"
        ),
    )
    id: Mapped[int] = _id()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False
    )
    participant_key: Mapped[str] = mapped_column(Text, nullable=False)
    unread: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    created_at: Mapped[datetime] = _created()


class SuggestionDismissal(Base):
    __tablename__ = "suggestion_dismissals"
    __table_args__ = (
        UniqueConstraint("account_id", "target_account_id", name="uq_suggestion_dismissals_pair"),
    )
    id: Mapped[int] = _id()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    target_account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )
    created_at: Mapped[datetime] = _created()


class Report(Base):
    """A report filed against an account, kept for moderation."""

    __tablename__ = "reports"
    __table_args__ = (Index("ix_reports_target_account_id", "target_account_id", "id"),)
    id: Mapped[int] = _id()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    target_account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )
    status_ids: Mapped[str] = mapped_column(Text, default="", nullable=False)  # space separated
    rule_ids: Mapped[str] = mapped_column(Text, default="", nullable=False)  # space separated
    comment: Mapped[str] = mapped_column(Text, default="", nullable=False)
    category: Mapped[str] = mapped_column(String(16), nullable=False)
    forward: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    action_taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = _created()
