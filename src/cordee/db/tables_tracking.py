"""Tracked searches ('veilles'), their recorded matches, team members, and sentiment corrections
(the listening issue). A match is a row, not a counter: analytics are exact and survive restarts,
and the alert jobs find "what is new since the last alert" by id."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cordee.db.tables import Base, _created, _id
from cordee.db.types import UTCDateTime


class TrackedSearch(Base):
    """A saved query of one owner. ``notified_upto``/``digested_upto`` are the newest match ids
    already covered by a notification / an e-mail digest: the alert jobs claim a batch by moving
    them forward (compare-and-set), so two processes never send the same batch twice."""

    __tablename__ = "tracked_searches"
    __table_args__ = (Index("ix_tracked_searches_account", "account_id", "id"),)
    id: Mapped[int] = _id()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    query: Mapped[str] = mapped_column(Text, nullable=False)
    #: Column order in the owner's /columns page (columns live on the server: synced across devices).
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    notify: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    email_digest: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    #: At most one digest per this many minutes (0: one per batch the job finds).
    digest_minutes: Mapped[int] = mapped_column(Integer, default=60, nullable=False)
    spike_alert: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    #: A spike: the last window holds at least ``spike_factor`` times the baseline's mean per window.
    spike_factor: Mapped[float] = mapped_column(Float, default=3.0, nullable=False)
    spike_window_minutes: Mapped[int] = mapped_column(Integer, default=60, nullable=False)
    notified_upto: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    digested_upto: Mapped[int] = mapped_column(BigInteger, default=0, nullable=False)
    digested_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    spiked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = _created()


class TrackedSearchMember(Base):
    """An account the owner shares the search with: it may read the column and its analytics
    (each note still through its own ``visible_to``)."""

    __tablename__ = "tracked_search_members"
    __table_args__ = (Index("ix_tracked_search_members_account", "account_id"),)
    tracked_search_id: Mapped[int] = mapped_column(
        ForeignKey("tracked_searches.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)


class TrackedMatch(Base):
    """A note a tracked search matched (and its owner could see) when it was posted or backfilled.
    ``author_id`` and ``sentiment`` (the lexicon's compound score, -1..1) are kept with the match so
    analytics read one table."""

    __tablename__ = "tracked_matches"
    __table_args__ = (
        UniqueConstraint("tracked_search_id", "status_id", name="uq_tracked_matches_pair"),
        Index("ix_tracked_matches_search_id", "tracked_search_id", "id"),
        Index("ix_tracked_matches_status", "status_id"),
    )
    id: Mapped[int] = _id()
    tracked_search_id: Mapped[int] = mapped_column(
        ForeignKey("tracked_searches.id", ondelete="CASCADE"), nullable=False
    )
    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"), nullable=False)
    author_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    #: When the note was posted (not when it was matched: a backfill matches old notes).
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    sentiment: Mapped[float] = mapped_column(Float, default=0.0, nullable=False)


class SentimentCorrection(Base):
    """A person's own label for a note ('positive', 'neutral', 'negative'): it replaces the
    lexicon's in that person's analytics."""

    __tablename__ = "sentiment_corrections"
    __table_args__ = (UniqueConstraint("account_id", "status_id", name="uq_sentiment_corrections_pair"),)
    id: Mapped[int] = _id()
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"), nullable=False)
    label: Mapped[str] = mapped_column(String(10), nullable=False)
    note: Mapped[str] = mapped_column(Text, default="", nullable=False)
    created_at: Mapped[datetime] = _created()
