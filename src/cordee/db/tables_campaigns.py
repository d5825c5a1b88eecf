"""Campaigns, chapters, tickets, the donation ledger and raffles (the campaigns issue).

Money is always a whole number of the currency's minor unit (``*_cents``, BigInteger) with its
ISO 4217 code beside it; nothing here holds a float. Totals are not stored: they are the SUM of
``ledger_entries`` (see ``queries/campaigns.py``), so they cannot drift from the ledger.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cordee.db.tables import Base, _created, _id
from cordee.db.types import UTCDateTime


def _account() -> Mapped[int]:
    return mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False)


class Campaign(Base):
    """One cause, one hashtag, one goal; many chapters (cities)."""

    __tablename__ = "campaigns"
    __table_args__ = (UniqueConstraint("hashtag_key", name="uq_campaigns_hashtag_key"),)
    id: Mapped[int] = _id()
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    hashtag: Mapped[str] = mapped_column(String(100), nullable=False)
    #: The hashtag lowered: one campaign per hashtag, whatever its case.
    hashtag_key: Mapped[str] = mapped_column(String(100), nullable=False)
    cause: Mapped[str] = mapped_column(Text, default="", nullable=False)
    goal_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    created_by: Mapped[int] = _account()
    created_at: Mapped[datetime] = _created()


class CampaignOrganiser(Base):
    """A campaign organiser: approves chapters, corrects any chapter's ledger."""

    __tablename__ = "campaign_organisers"
    __table_args__ = (
        UniqueConstraint("campaign_id", "account_id", name="uq_campaign_organisers"),
        Index("ix_campaign_organisers_account_id", "account_id"),
    )
    id: Mapped[int] = _id()
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False)
    account_id: Mapped[int] = _account()
    created_at: Mapped[datetime] = _created()


class Chapter(Base):
    """A campaign's event in one city. ``starts_at`` is an instant (UTC); ``time_zone`` (IANA) says
    how to show it and where the event's local day is."""

    __tablename__ = "chapters"
    __table_args__ = (
        UniqueConstraint("campaign_id", "hashtag_key", name="uq_chapters_campaign_hashtag"),
        Index("ix_chapters_campaign_id_city", "campaign_id", "city"),
    )
    id: Mapped[int] = _id()
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False)
    city: Mapped[str] = mapped_column(String(100), nullable=False)
    venue: Mapped[str] = mapped_column(String(200), nullable=False)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    time_zone: Mapped[str] = mapped_column(String(64), nullable=False)
    #: Places in the venue (every admission tier together); NULL: no limit.
    capacity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    hashtag: Mapped[str] = mapped_column(String(100), nullable=False)
    hashtag_key: Mapped[str] = mapped_column(String(100), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    #: The locale amounts and dates are formatted in on its pages (``fr_FR``, ``en_GB``…).
    locale: Mapped[str] = mapped_column(String(10), nullable=False)
    #: ``proposed`` (anyone may propose) or ``approved`` (by a campaign organiser).
    status: Mapped[str] = mapped_column(String(10), nullable=False)
    #: The live wall's moderation: ``after`` (notes show at once, organisers hide) or ``before``
    #: (notes wait in a queue until an organiser approves them).
    wall_moderation: Mapped[str] = mapped_column(String(6), default="after", nullable=False)
    proposed_by: Mapped[int] = _account()
    created_at: Mapped[datetime] = _created()


class ChapterOrganiser(Base):
    """A local organiser and their role: ``lead`` (everything), ``treasurer`` (ledger), ``door``
    (check-in and payments at the door)."""

    __tablename__ = "chapter_organisers"
    __table_args__ = (
        UniqueConstraint("chapter_id", "account_id", name="uq_chapter_organisers"),
        Index("ix_chapter_organisers_account_id", "account_id"),
    )
    id: Mapped[int] = _id()
    chapter_id: Mapped[int] = mapped_column(ForeignKey("chapters.id", ondelete="CASCADE"), nullable=False)
    account_id: Mapped[int] = _account()
    role: Mapped[str] = mapped_column(String(10), nullable=False)
    created_at: Mapped[datetime] = _created()


class LedgerEntry(Base):
    """Money in: a ticket, a raffle sale, a donation — or a correction of one of those, which is a
    new row naming the entry it corrects (``corrects_id``); rows are never updated nor deleted.

    ``campaign_id`` is copied from the chapter so that a campaign's total is one index range; the
    covering indexes make every total an index-only SUM.
    """

    __tablename__ = "ledger_entries"
    __table_args__ = (
        Index("ix_ledger_entries_chapter", "chapter_id", "currency", "amount_cents"),
        Index("ix_ledger_entries_campaign", "campaign_id", "currency", "amount_cents"),
        Index("ix_ledger_entries_corrects_id", "corrects_id"),
        UniqueConstraint("ticket_id", "kind", name="uq_ledger_entries_ticket_kind"),
    )
    id: Mapped[int] = _id()
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False)
    chapter_id: Mapped[int] = mapped_column(ForeignKey("chapters.id", ondelete="CASCADE"), nullable=False)
    #: ``ticket``, ``raffle``, ``donation`` or ``correction``.
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    amount_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"), nullable=True)
    #: The admission ticket a ``ticket`` entry was paid for (one payment per ticket). Money stays
    #: in the ledger when the ticket's holder deletes their account (SET NULL, never a cascade).
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), nullable=True
    )
    note: Mapped[str] = mapped_column(String(500), default="", nullable=False)
    #: Who recorded it; NULL once that account is deleted (the entry itself stays).
    recorded_by: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True
    )
    #: How the money came: ``offline`` (cash or card terminal at the door) or a provider's name.
    provider: Mapped[str] = mapped_column(String(20), default="offline", nullable=False)
    recorded_at: Mapped[datetime] = _created()


class TicketTier(Base):
    """A kind of admission for a chapter: a free RSVP (price 0) or a paid ticket, with its own
    optional capacity (under the chapter's)."""

    __tablename__ = "ticket_tiers"
    __table_args__ = (Index("ix_ticket_tiers_chapter_id", "chapter_id"),)
    id: Mapped[int] = _id()
    chapter_id: Mapped[int] = mapped_column(ForeignKey("chapters.id", ondelete="CASCADE"), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    price_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    capacity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = _created()


class Ticket(Base):
    """One person's place (``confirmed``) or place in the queue (``waiting``, promoted in id order
    when a place frees), or ``cancelled``. The code on the ticket is its id signed with the
    chapter's key (``actions/tickets.py``): nothing secret is stored."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_chapter_status", "chapter_id", "status", "id"),
        Index("ix_tickets_tier_status", "tier_id", "status"),
        Index("ix_tickets_account_id", "account_id"),
    )
    id: Mapped[int] = _id()
    chapter_id: Mapped[int] = mapped_column(ForeignKey("chapters.id", ondelete="CASCADE"), nullable=False)
    tier_id: Mapped[int] = mapped_column(ForeignKey("ticket_tiers.id", ondelete="CASCADE"), nullable=False)
    account_id: Mapped[int] = _account()
    status: Mapped[str] = mapped_column(String(10), nullable=False)
    created_at: Mapped[datetime] = _created()


class CheckIn(Base):
    """A scan at the door, possibly made offline and synced later. ``scan_key`` is chosen by the
    door device, so sending the same scan twice records it once; a second *scan* of a ticket is
    kept and flagged ``duplicate``."""

    __tablename__ = "ticket_checkins"
    __table_args__ = (
        UniqueConstraint("scan_key", name="uq_ticket_checkins_scan_key"),
        Index("ix_ticket_checkins_ticket_id", "ticket_id"),
    )
    id: Mapped[int] = _id()
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False)
    scan_key: Mapped[str] = mapped_column(String(64), nullable=False)
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    recorded_by: Mapped[int] = _account()
    duplicate: Mapped[bool] = mapped_column(default=False, nullable=False)
    created_at: Mapped[datetime] = _created()


class Raffle(Base):
    """A chapter's raffle, drawn by commit-reveal (``actions/raffle.py``)."""

    __tablename__ = "raffles"
    __table_args__ = (UniqueConstraint("chapter_id", name="uq_raffles_chapter_id"),)
    id: Mapped[int] = _id()
    chapter_id: Mapped[int] = mapped_column(ForeignKey("chapters.id", ondelete="CASCADE"), nullable=False)
    price_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    prizes: Mapped[int] = mapped_column(Integer, nullable=False)
    #: Hex SHA-256 of the seed, published before any ticket is sold.
    commitment: Mapped[str] = mapped_column(String(64), nullable=False)
    #: The seed (hex), revealed at the draw; NULL until then. Sales are closed once it is set.
    seed: Mapped[str | None] = mapped_column(String(128), nullable=True)
    drawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    result_status_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_by: Mapped[int] = _account()
    created_at: Mapped[datetime] = _created()


class RaffleTicket(Base):
    """A raffle ticket; ``number`` is its place in the order of sale (1, 2, …), the order the
    draw ranks. ``holder`` names the buyer as written on the stub."""

    __tablename__ = "raffle_tickets"
    __table_args__ = (UniqueConstraint("raffle_id", "number", name="uq_raffle_tickets_number"),)
    id: Mapped[int] = _id()
    raffle_id: Mapped[int] = mapped_column(ForeignKey("raffles.id", ondelete="CASCADE"), nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    holder: Mapped[str] = mapped_column(String(100), nullable=False)
    ledger_entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), nullable=False)
    sold_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = _created()


class WallDecision(Base):
    """An organiser's decision about a note on a chapter's live wall: ``hidden`` (taken off), or
    ``approved`` (let on, when the chapter holds notes for approval first). The note itself is
    untouched; only the wall reads this."""

    __tablename__ = "wall_decisions"
    __table_args__ = (UniqueConstraint("chapter_id", "status_id", name="uq_wall_decisions"),)
    id: Mapped[int] = _id()
    chapter_id: Mapped[int] = mapped_column(ForeignKey("chapters.id", ondelete="CASCADE"), nullable=False)
    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"), nullable=False)
    decision: Mapped[str] = mapped_column(String(8), nullable=False)
    decided_by: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = _created()


class CampaignMessage(Base):
    """A message to a chapter's attendees: an organiser's ``announcement``, or an automatic
    ``reminder_24h``, ``reminder_2h`` or ``thanks`` (actions/campaign_messages.py). The row is
    claimed before anything is sent: ``slot`` is unique per chapter (the kind for the automatic
    ones, so each goes out once whatever the number of processes; the row's id for announcements).
    ``delivered_at`` is set in the transaction that notifies the attendees, so a send cut short
    is finished by the job."""

    __tablename__ = "campaign_messages"
    __table_args__ = (
        UniqueConstraint("chapter_id", "slot", name="uq_campaign_messages_slot"),
        Index("ix_campaign_messages_pending", "delivered_at"),
    )
    id: Mapped[int] = _id()
    chapter_id: Mapped[int] = mapped_column(ForeignKey("chapters.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    slot: Mapped[str] = mapped_column(String(32), nullable=False)
    sent_by: Mapped[int] = _account()
    text: Mapped[str] = mapped_column(Text, nullable=False)
    include_waiting: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    status_id: Mapped[int | None] = mapped_column(
        ForeignKey("statuses.id", ondelete="SET NULL"), nullable=True
    )
    recipients: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = _created()
