"""Rows for polls and their votes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cordee.db.tables import Base, _created, _id
from cordee.db.types import UTCDateTime


class Poll(Base):
    """A poll on a note. Tallies are counted from ``poll_votes`` (they cannot drift).

    ``closed_at`` is set once the poll has ended *and* its end was announced (``poll``
    notifications to the author and the voters): the periodic task looks for ended polls where it
    is NULL, so a poll that ended while the server was down is still announced, exactly once.
    """

    __tablename__ = "polls"
    __table_args__ = (
        UniqueConstraint("status_id", name="uq_polls_status_id"),
        Index("ix_polls_expires_at", "expires_at"),
    )
    id: Mapped[int] = _id()
    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"), nullable=False)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    options: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    multiple: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    hide_totals: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = _created()


class PollVote(Base):
    """One chosen option; a multiple-choice vote is several rows."""

    __tablename__ = "poll_votes"
    __table_args__ = (UniqueConstraint("poll_id", "account_id", "choice", name="uq_poll_votes_choice"),)
    id: Mapped[int] = _id()
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"), nullable=False)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)
    choice: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = _created()
