"""The donation ledger: every ticket, raffle sale and donation is a row; a mistake is mended by a
correction, a new row naming the entry it corrects. No row is ever updated or deleted.

Totals are the SUM of the rows (``queries/campaigns.py``), not a counter kept beside them: a
counter per campaign would be one hot row that all 200 chapters' writers wait on (a row lock on
PostgreSQL), and it could drift; the SUM is an index-only scan of the covering index and is the
ledger by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from cordee.actions.campaigns import MAX_CENTS, check_cents, require
from cordee.actions.errors import NotFound, ValidationFailed
from cordee.db.engine import Database, Tx
from cordee.db.tables_campaigns import Chapter, LedgerEntry
from cordee.events.campaigns import LedgerChanged

#: Entries that bring money in (a correction is the fourth kind).
INCOME_KINDS = ("ticket", "raffle", "donation")
KINDS = (*INCOME_KINDS, "correction")


@dataclass(frozen=True)
class NewEntry:
    kind: str
    amount_cents: int
    currency: str
    note: str = ""


def _note(raw: str) -> str:
    note = raw.strip()
    if len(note) > 500:
        raise ValidationFailed("Validation failed: Note is too long (maximum is 500 characters)")
    return note


async def add_entry(
    tx: Tx,
    chapter: Chapter,
    recorded_by: int,
    kind: str,
    amount_cents: int,
    *,
    note: str = "",
    ticket_id: int | None = None,
    provider: str = "offline",
) -> LedgerEntry:
    """Write one income entry inside a caller's transaction (tickets and raffle sales record their
    money this way, in the same transaction as the sale)."""
    assert kind in INCOME_KINDS
    if chapter.status != "approved":
        raise ValidationFailed("Validation failed: The chapter is not approved yet")
    row = LedgerEntry(
        campaign_id=chapter.campaign_id,
        chapter_id=chapter.id,
        kind=kind,
        amount_cents=check_cents(amount_cents, "Amount"),
        currency=chapter.currency,
        note=_note(note),
        recorded_by=recorded_by,
        ticket_id=ticket_id,
        provider=provider,
    )
    tx.session.add(row)
    await tx.session.flush()
    tx.emit(LedgerChanged(chapter.campaign_id, chapter.id))
    return row


async def record_entry(db: Database, actor_id: int, chapter_id: int, new: NewEntry) -> int:
    """A donation (``ledger`` role) or a ticket/raffle sale recorded by hand (``ledger`` role too:
    the ticket and raffle actions record their own sales). The currency must be the chapter's:
    an amount in another currency is refused rather than converted at some rate."""
    if new.kind not in INCOME_KINDS:
        raise ValidationFailed(f"Validation failed: Kind must be one of {', '.join(INCOME_KINDS)}")
    async with db.write() as tx:
        chapter = await require(tx, actor_id, chapter_id, "ledger")
        if new.currency.strip().upper() != chapter.currency:
            raise ValidationFailed(f"Validation failed: This chapter's ledger is in {chapter.currency}")
        row = await add_entry(tx, chapter, actor_id, new.kind, new.amount_cents, note=new.note)
        return row.id


async def correct_entry(db: Database, actor_id: int, entry_id: int, amount_cents: int, note: str) -> int:
    """A correction of ``amount_cents`` (negative takes money off, positive adds it) to an income
    entry; the entry with its corrections may not go below zero. The corrected row is locked
    (``FOR UPDATE`` on PostgreSQL; SQLite has one writer) so two corrections cannot both pass."""
    if not isinstance(amount_cents, int) or isinstance(amount_cents, bool) or amount_cents == 0:
        raise ValidationFailed("Validation failed: A correction is a non-zero whole number of cents")
    if abs(amount_cents) > MAX_CENTS:
        raise ValidationFailed("Validation failed: Amount is out of range")
    if not note.strip():
        raise ValidationFailed("Validation failed: A correction needs a note saying why")
    async with db.write() as tx:
        entry = await tx.session.scalar(
            select(LedgerEntry).where(LedgerEntry.id == entry_id).with_for_update()
        )
        if entry is None:
            raise NotFound()
        chapter = await require(tx, actor_id, entry.chapter_id, "ledger")
        if entry.kind == "correction":
            raise ValidationFailed("Validation failed: Correct the original entry, not a correction")
        corrected = await tx.session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(
                LedgerEntry.corrects_id == entry.id
            )
        )
        net = entry.amount_cents + int(corrected or 0) + amount_cents
        if net < 0:
            raise ValidationFailed("Validation failed: The entry would fall below zero")
        if net > MAX_CENTS:
            raise ValidationFailed("Validation failed: Amount is out of range")
        row = LedgerEntry(
            campaign_id=chapter.campaign_id,
            chapter_id=chapter.id,
            kind="correction",
            amount_cents=amount_cents,
            currency=entry.currency,
            corrects_id=entry.id,
            note=_note(note),
            recorded_by=actor_id,
            provider=entry.provider,
        )
        tx.session.add(row)
        await tx.session.flush()
        tx.emit(LedgerChanged(chapter.campaign_id, chapter.id))
        return row.id
