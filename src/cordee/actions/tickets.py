"""Admission: ticket tiers, free RSVPs and paid tickets, the waiting list, payments through a
provider, and check-in at the door (possibly offline, synced later).

Capacity is checked with the chapter's row locked (``FOR UPDATE`` on PostgreSQL; SQLite has one
writer), so two people taking the last place at once cannot both get it. A place that frees
(a cancellation) goes to the oldest waiting ticket whose tier has room, in the same transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import func, select

from cordee.actions.campaigns import check_cents, check_moment, clean_text, require
from cordee.actions.errors import Forbidden, NotFound, ValidationFailed
from cordee.actions.ledger import add_entry
from cordee.config import Settings
from cordee.db.engine import Database, Tx
from cordee.db.tables_campaigns import Chapter, CheckIn, LedgerEntry, Ticket, TicketTier
from cordee.domain import ticket_codes

#: A door device names each scan (``<device>-<counter>`` or a UUID): sending it again is a no-op.
_SCAN_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")
MAX_SCANS_PER_SYNC = 500


# --- payments -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentRequest:
    ticket_id: int
    amount_cents: int
    currency: str
    description: str


@dataclass(frozen=True)
class PaymentStart:
    """What the buyer is told: a provider's hosted checkout page, or instructions."""

    checkout_url: str | None
    instructions: str


class PaymentProvider(Protocol):
    """A way to be paid. Card data never reaches Cordée: a real provider's adapter sends the buyer
    to the provider's hosted checkout (``start``) and, when the provider's signed webhook says the
    payment succeeded, calls ``record_payment`` with its own ``name`` (docs/campaigns.md)."""

    name: str

    def start(self, request: PaymentRequest) -> PaymentStart: ...


class OfflineProvider:
    """Cash or a card terminal at the door: the place is held, and a door organiser records the
    payment when it is made (``record_payment``), which writes the ledger entry."""

    name = "offline"

    def start(self, request: PaymentRequest) -> PaymentStart:
        return PaymentStart(None, "Pay at the door")


PROVIDERS: dict[str, PaymentProvider] = {"offline": OfflineProvider()}


# --- tiers and tickets ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NewTier:
    name: str
    price_cents: int
    capacity: int | None = None


async def _lock_chapter(tx: Tx, chapter_id: int) -> Chapter:
    chapter = await tx.session.scalar(
        select(Chapter)
        .where(Chapter.id == chapter_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if chapter is None:
        raise NotFound()
    return chapter


async def create_tier(db: Database, actor_id: int, chapter_id: int, new: NewTier) -> int:
    name = clean_text(new.name, "Name", 100)
    price = check_cents(new.price_cents, "Price", allow_zero=True)
    if new.capacity is not None and not 1 <= new.capacity <= 1_000_000:
        raise ValidationFailed("Validation failed: Capacity is out of range")
    async with db.write() as tx:
        await require(tx, actor_id, chapter_id, "manage")
        row = TicketTier(chapter_id=chapter_id, name=name, price_cents=price, capacity=new.capacity)
        tx.session.add(row)
        await tx.session.flush()
        return row.id


async def _confirmed(tx: Tx, *where: object) -> int:
    return int(
        await tx.session.scalar(select(func.count(Ticket.id)).where(Ticket.status == "confirmed", *where))  # type: ignore[arg-type]
        or 0
    )


async def _has_room(tx: Tx, chapter: Chapter, tier: TicketTier) -> bool:
    if (
        chapter.capacity is not None
        and await _confirmed(tx, Ticket.chapter_id == chapter.id) >= chapter.capacity
    ):
        return False
    return tier.capacity is None or await _confirmed(tx, Ticket.tier_id == tier.id) < tier.capacity


async def take_ticket(db: Database, account_id: int, tier_id: int) -> int:
    """A place for ``account_id`` (``confirmed``), or a place on the waiting list (``waiting``)
    when the tier or the venue is full. One live ticket per person and chapter."""
    async with db.write() as tx:
        tier = await tx.session.get(TicketTier, tier_id)
        if tier is None:
            raise NotFound()
        chapter = await _lock_chapter(tx, tier.chapter_id)
        if chapter.status != "approved":
            raise ValidationFailed("Validation failed: The chapter is not approved yet")
        mine = await tx.session.scalar(
            select(Ticket.id).where(
                Ticket.chapter_id == chapter.id,
                Ticket.account_id == account_id,
                Ticket.status.in_(("confirmed", "waiting")),
            )
        )
        if mine is not None:
            raise ValidationFailed("Validation failed: You already have a ticket for this event")
        status = "confirmed" if await _has_room(tx, chapter, tier) else "waiting"
        row = Ticket(chapter_id=chapter.id, tier_id=tier.id, account_id=account_id, status=status)
        tx.session.add(row)
        await tx.session.flush()
        return row.id


async def _promote(tx: Tx, chapter: Chapter) -> None:
    """Give freed places to waiting tickets, oldest first, as long as their tier has room."""
    waiting = list(
        await tx.session.scalars(
            select(Ticket)
            .where(Ticket.chapter_id == chapter.id, Ticket.status == "waiting")
            .order_by(Ticket.id)
        )
    )
    tiers = {
        t.id: t
        for t in await tx.session.scalars(select(TicketTier).where(TicketTier.chapter_id == chapter.id))
    }
    for ticket in waiting:
        if await _has_room(tx, chapter, tiers[ticket.tier_id]):
            ticket.status = "confirmed"
            await tx.session.flush()


async def _paid(tx: Tx, ticket_id: int) -> bool:
    return (
        await tx.session.scalar(
            select(LedgerEntry.id).where(LedgerEntry.ticket_id == ticket_id, LedgerEntry.kind == "ticket")
        )
    ) is not None


async def cancel_ticket(db: Database, actor_id: int, ticket_id: int) -> None:
    """The holder (or the chapter's lead) gives a place up; the first waiting ticket that fits
    takes it. A paid ticket is cancelled by the organisers, who record the refund as a correction."""
    async with db.write() as tx:
        ticket = await tx.session.get(Ticket, ticket_id)
        if ticket is None:
            raise NotFound()
        chapter = await _lock_chapter(tx, ticket.chapter_id)
        if ticket.account_id != actor_id:
            await require(tx, actor_id, chapter.id, "manage")
        elif await _paid(tx, ticket.id):
            raise Forbidden("A paid ticket is cancelled by the event's organisers")
        if ticket.status == "cancelled":
            return
        ticket.status = "cancelled"
        await tx.session.flush()
        await _promote(tx, chapter)


async def record_payment(db: Database, actor_id: int, ticket_id: int, provider: str) -> int:
    """A ticket's price has been received (by a door organiser for ``offline``; a provider's
    webhook adapter otherwise): one ``ticket`` entry in the ledger, once per ticket."""
    if provider not in PROVIDERS:
        raise ValidationFailed(f"Validation failed: Provider must be one of {', '.join(PROVIDERS)}")
    async with db.write() as tx:
        ticket = await tx.session.get(Ticket, ticket_id)
        if ticket is None:
            raise NotFound()
        chapter = await require(tx, actor_id, ticket.chapter_id, "door")
        tier = await tx.session.get(TicketTier, ticket.tier_id)
        assert tier is not None
        if ticket.status != "confirmed":
            raise ValidationFailed("Validation failed: Only a confirmed ticket is paid")
        if tier.price_cents == 0:
            raise ValidationFailed("Validation failed: This ticket is free")
        if await _paid(tx, ticket.id):
            raise ValidationFailed("Validation failed: This ticket is already paid")
        entry = await add_entry(
            tx,
            chapter,
            actor_id,
            "ticket",
            tier.price_cents,
            ticket_id=ticket.id,
            provider=provider,
            note=f"{tier.name}",
        )
        return entry.id


# --- the door ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scan:
    code: str
    scan_key: str
    scanned_at: datetime


@dataclass(frozen=True)
class ScanResult:
    scan_key: str
    #: ``ok`` (first entry), ``duplicate`` (the ticket was already checked in: flagged),
    #: ``invalid`` (not a code of this chapter), ``refused`` (cancelled or on the waiting list).
    result: str
    ticket_id: int | None = None
    #: Whether a paid tier's ticket is still to be paid (the door collects it).
    unpaid: bool = False
    #: The scan had been synced before: this is its first answer again, nothing was written.
    replayed: bool = False


async def check_in(
    db: Database, settings: Settings, actor_id: int, chapter_id: int, scans: list[Scan]
) -> list[ScanResult]:
    """Record the door's scans (made online or offline, in any order, any number of times).
    Checks each code's signature like the door page does, then keeps one row per scan; a ticket
    scanned a second time is recorded and flagged ``duplicate`` (someone may be sharing a code)."""
    if len(scans) > MAX_SCANS_PER_SYNC:
        raise ValidationFailed(f"Validation failed: at most {MAX_SCANS_PER_SYNC} scans at a time")
    for scan in scans:
        if not _SCAN_KEY.match(scan.scan_key):
            raise ValidationFailed("Validation failed: scan_key must be 8 to 64 letters, digits or -_.:")
        check_moment(scan.scanned_at, "scanned_at")
    key = ticket_codes.public_key(settings.secret_key, chapter_id)
    out: list[ScanResult] = []
    async with db.write() as tx:
        await require(tx, actor_id, chapter_id, "door")
        await _lock_chapter(tx, chapter_id)  # one sync at a time per chapter: duplicates are exact
        for scan in sorted(scans, key=lambda s: s.scanned_at):
            out.append(await _one_scan(tx, actor_id, chapter_id, key, scan))
    order = {s.scan_key: i for i, s in enumerate(scans)}
    return sorted(out, key=lambda r: order[r.scan_key])


async def _one_scan(tx: Tx, actor_id: int, chapter_id: int, key: str, scan: Scan) -> ScanResult:
    before = await tx.session.scalar(select(CheckIn).where(CheckIn.scan_key == scan.scan_key))
    if before is not None:
        # Scan keys are unique across chapters: one of another chapter's door is none of ours
        # (and says nothing about it).
        if (
            await tx.session.scalar(select(Ticket.chapter_id).where(Ticket.id == before.ticket_id))
            != chapter_id
        ):
            return ScanResult(scan.scan_key, "invalid")
        return ScanResult(
            scan.scan_key,
            "duplicate" if before.duplicate else "ok",
            before.ticket_id,
            replayed=True,
        )
    ref = ticket_codes.read_code(key, scan.code)
    if ref is None or ref.chapter_id != chapter_id:
        return ScanResult(scan.scan_key, "invalid")
    ticket = await tx.session.get(Ticket, ref.ticket_id)
    if ticket is None or ticket.chapter_id != chapter_id:
        return ScanResult(scan.scan_key, "invalid")
    if ticket.status != "confirmed":
        return ScanResult(scan.scan_key, "refused", ticket.id)
    seen = await tx.session.scalar(select(CheckIn.id).where(CheckIn.ticket_id == ticket.id).limit(1))
    tx.session.add(
        CheckIn(
            ticket_id=ticket.id,
            scan_key=scan.scan_key,
            scanned_at=scan.scanned_at,
            recorded_by=actor_id,
            duplicate=seen is not None,
        )
    )
    await tx.session.flush()
    tier = await tx.session.get(TicketTier, ticket.tier_id)
    unpaid = tier is not None and tier.price_cents > 0 and not await _paid(tx, ticket.id)
    return ScanResult(scan.scan_key, "duplicate" if seen is not None else "ok", ticket.id, unpaid=unpaid)
