"""The read side of campaigns: campaigns, chapters, organisers, ledger entries and totals.

Every total is a SUM over ``ledger_entries`` computed by the database (integers all the way: the
SUM of a BIGINT column is an integer on SQLite and a NUMERIC on PostgreSQL, read back as ``int``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Row, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from cordee.db.tables import Account, Status
from cordee.db.tables_campaigns import (
    Campaign,
    CampaignMessage,
    CampaignOrganiser,
    Chapter,
    ChapterOrganiser,
    CheckIn,
    LedgerEntry,
    Raffle,
    RaffleTicket,
    Ticket,
    TicketTier,
    WallDecision,
)
from cordee.domain import raffle as raffle_rules
from cordee.queries.widget import widget_query


@dataclass(frozen=True)
class Totals:
    """Money per currency (integer minor units) and how many entries made it."""

    by_currency: dict[str, int]
    entries: int

    def in_currency(self, currency: str) -> int:
        return self.by_currency.get(currency, 0)


#: What each local role may do. ``manage``: the chapter's details, organisers, tiers, raffle;
#: ``ledger``: donations, corrections, reading the entries; ``door``: check-in, payments at the
#: door, raffle sales. A campaign organiser may do everything in every chapter.
ROLES: dict[str, frozenset[str]] = {
    "lead": frozenset({"manage", "ledger", "door"}),
    "treasurer": frozenset({"ledger", "door"}),
    "door": frozenset({"door"}),
}


async def is_campaign_organiser(session: AsyncSession, campaign_id: int, account_id: int | None) -> bool:
    if account_id is None:
        return False
    return (
        await session.scalar(
            select(CampaignOrganiser.id).where(
                CampaignOrganiser.campaign_id == campaign_id, CampaignOrganiser.account_id == account_id
            )
        )
    ) is not None


async def allowed(session: AsyncSession, account_id: int | None, chapter: Chapter, capability: str) -> bool:
    """Whether ``account_id`` may do ``capability`` in ``chapter`` (the one permission rule)."""
    if account_id is None:
        return False
    if await is_campaign_organiser(session, chapter.campaign_id, account_id):
        return True
    role = await session.scalar(
        select(ChapterOrganiser.role).where(
            ChapterOrganiser.chapter_id == chapter.id, ChapterOrganiser.account_id == account_id
        )
    )
    return role is not None and capability in ROLES.get(role, frozenset())


async def campaign_by_id(session: AsyncSession, campaign_id: int) -> Campaign | None:
    return await session.get(Campaign, campaign_id)


async def chapter_by_id(session: AsyncSession, chapter_id: int) -> Chapter | None:
    return await session.get(Chapter, chapter_id)


async def chapters_of(session: AsyncSession, campaign_id: int, *, approved_only: bool) -> Sequence[Chapter]:
    """A campaign's chapters by city (then by start)."""
    query = select(Chapter).where(Chapter.campaign_id == campaign_id)
    if approved_only:
        query = query.where(Chapter.status == "approved")
    return list(await session.scalars(query.order_by(Chapter.city, Chapter.starts_at, Chapter.id)))


async def recent_campaigns(session: AsyncSession, limit: int = 50) -> Sequence[Campaign]:
    """The newest campaigns first (the campaigns' page)."""
    return list(await session.scalars(select(Campaign).order_by(Campaign.id.desc()).limit(limit)))


async def totals_per_campaign(session: AsyncSession, campaign_ids: Sequence[int]) -> dict[int, Totals]:
    """Several campaigns' totals in one grouped query."""
    rows = await session.execute(
        select(
            LedgerEntry.campaign_id,
            LedgerEntry.currency,
            func.coalesce(func.sum(LedgerEntry.amount_cents), 0),
            func.count(),
        )
        .where(LedgerEntry.campaign_id.in_(list(campaign_ids)))
        .group_by(LedgerEntry.campaign_id, LedgerEntry.currency)
    )
    out: dict[int, Totals] = {}
    for campaign_id, currency, total, count in rows:
        before = out.get(campaign_id, Totals({}, 0))
        out[campaign_id] = Totals({**before.by_currency, currency: whole(total)}, before.entries + count)
    return out


async def campaign_organisers(session: AsyncSession, campaign_id: int) -> Sequence[Account]:
    return list(
        await session.scalars(
            select(Account)
            .join(CampaignOrganiser, CampaignOrganiser.account_id == Account.id)
            .where(CampaignOrganiser.campaign_id == campaign_id)
            .order_by(CampaignOrganiser.id)
        )
    )


async def chapter_organisers(
    session: AsyncSession, chapter_ids: Sequence[int]
) -> dict[int, list[tuple[Account, str]]]:
    """Each chapter's organisers with their roles, for many chapters in one query."""
    rows = await session.execute(
        select(ChapterOrganiser.chapter_id, Account, ChapterOrganiser.role)
        .join(Account, Account.id == ChapterOrganiser.account_id)
        .where(ChapterOrganiser.chapter_id.in_(chapter_ids))
        .order_by(ChapterOrganiser.id)
    )
    out: dict[int, list[tuple[Account, str]]] = {i: [] for i in chapter_ids}
    for chapter_id, account, role in rows:
        out[chapter_id].append((account, role))
    return out


def whole(total: object) -> int:
    """A SUM of cents as an int. PostgreSQL's SUM(bigint) is NUMERIC, read back as a Decimal
    that may be written with an exponent (``Decimal('1.0E+9')``: found by the property test,
    ``int(str(...))`` failed on it); ``int()`` of an integral Decimal is exact, no float."""
    if isinstance(total, int):
        return total
    if isinstance(total, Decimal) and total == total.to_integral_value():
        return int(total)
    raise TypeError(f"a sum of cents that is not a whole number: {total!r}")


def _totals_query(column: InstrumentedAttribute[int], key: int) -> Select[str, object, int]:
    return (
        select(LedgerEntry.currency, func.coalesce(func.sum(LedgerEntry.amount_cents), 0), func.count())
        .where(column == key)
        .group_by(LedgerEntry.currency)
    )


def _totals(rows: Sequence[Row[str, object, int]]) -> Totals:
    return Totals({currency: whole(total) for currency, total, _ in rows}, sum(n for *_, n in rows))


async def chapter_totals(session: AsyncSession, chapter_id: int) -> Totals:
    return _totals(list(await session.execute(_totals_query(LedgerEntry.chapter_id, chapter_id))))


async def campaign_totals(session: AsyncSession, campaign_id: int) -> Totals:
    return _totals(list(await session.execute(_totals_query(LedgerEntry.campaign_id, campaign_id))))


async def totals_per_chapter(session: AsyncSession, campaign_id: int) -> dict[int, Totals]:
    """Every chapter's totals in one grouped query (the campaign page, the impact report)."""
    rows = await session.execute(
        select(
            LedgerEntry.chapter_id,
            LedgerEntry.currency,
            func.coalesce(func.sum(LedgerEntry.amount_cents), 0),
            func.count(),
        )
        .where(LedgerEntry.campaign_id == campaign_id)
        .group_by(LedgerEntry.chapter_id, LedgerEntry.currency)
    )
    out: dict[int, Totals] = {}
    for chapter_id, currency, total, count in rows:
        before = out.get(chapter_id, Totals({}, 0))
        out[chapter_id] = Totals({**before.by_currency, currency: whole(total)}, before.entries + count)
    return out


def entries_query(*, chapter_id: int | None = None, campaign_id: int | None = None) -> Select[LedgerEntry]:
    query = select(LedgerEntry)
    if chapter_id is not None:
        query = query.where(LedgerEntry.chapter_id == chapter_id)
    if campaign_id is not None:
        query = query.where(LedgerEntry.campaign_id == campaign_id)
    return query


async def entry_by_id(session: AsyncSession, entry_id: int) -> LedgerEntry | None:
    return await session.get(LedgerEntry, entry_id)


# --- tickets ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TierState:
    tier: TicketTier
    confirmed: int
    waiting: int

    @property
    def remaining(self) -> int | None:
        return None if self.tier.capacity is None else max(0, self.tier.capacity - self.confirmed)


async def tiers_of(session: AsyncSession, chapter_id: int) -> list[TierState]:
    """A chapter's tiers (cheapest first) with their confirmed and waiting counts, in two queries."""
    tiers = list(
        await session.scalars(
            select(TicketTier)
            .where(TicketTier.chapter_id == chapter_id)
            .order_by(TicketTier.price_cents, TicketTier.id)
        )
    )
    counts: dict[tuple[int, str], int] = {}
    for tier_id, status, n in await session.execute(
        select(Ticket.tier_id, Ticket.status, func.count())
        .where(Ticket.chapter_id == chapter_id, Ticket.status.in_(("confirmed", "waiting")))
        .group_by(Ticket.tier_id, Ticket.status)
    ):
        counts[(tier_id, status)] = n
    return [TierState(t, counts.get((t.id, "confirmed"), 0), counts.get((t.id, "waiting"), 0)) for t in tiers]


async def confirmed_in_chapter(session: AsyncSession, chapter_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count()).where(Ticket.chapter_id == chapter_id, Ticket.status == "confirmed")
        )
        or 0
    )


async def ticket_by_id(session: AsyncSession, ticket_id: int) -> Ticket | None:
    return await session.get(Ticket, ticket_id)


async def live_ticket_of(session: AsyncSession, chapter_id: int, account_id: int) -> Ticket | None:
    """The person's confirmed or waiting ticket for the chapter, if any."""
    return await session.scalar(
        select(Ticket).where(
            Ticket.chapter_id == chapter_id,
            Ticket.account_id == account_id,
            Ticket.status.in_(("confirmed", "waiting")),
        )
    )


async def waiting_position(session: AsyncSession, ticket: Ticket) -> int | None:
    """1 for the next in line; None when the ticket is not waiting."""
    if ticket.status != "waiting":
        return None
    ahead = await session.scalar(
        select(func.count()).where(
            Ticket.chapter_id == ticket.chapter_id, Ticket.status == "waiting", Ticket.id < ticket.id
        )
    )
    return int(ahead or 0) + 1


@dataclass(frozen=True)
class Attendee:
    ticket: Ticket
    username: str
    tier_name: str
    paid: bool
    checked_in: bool


#: The organisers' list shows this many people at most (a venue's worth; the API has each ticket).
ATTENDEES_SHOWN = 2000


async def attendees(session: AsyncSession, chapter_id: int, limit: int = ATTENDEES_SHOWN) -> list[Attendee]:
    """A chapter's live tickets for its organisers, in one statement: the places in the order they
    were taken, then the waiting list in its order ("confirmed" sorts before "waiting")."""
    paid = (
        select(LedgerEntry.id)
        .where(LedgerEntry.ticket_id == Ticket.id, LedgerEntry.kind == "ticket")
        .exists()
    )
    came = select(CheckIn.id).where(CheckIn.ticket_id == Ticket.id).exists()
    rows = await session.execute(
        select(Ticket, Account.username, TicketTier.name, paid, came)
        .join(Account, Account.id == Ticket.account_id)
        .join(TicketTier, TicketTier.id == Ticket.tier_id)
        .where(Ticket.chapter_id == chapter_id, Ticket.status.in_(("confirmed", "waiting")))
        .order_by(Ticket.status, Ticket.id)
        .limit(limit)
    )
    return [Attendee(t, username, tier, bool(p), bool(c)) for t, username, tier, p, c in rows]


async def ticket_paid(session: AsyncSession, ticket_id: int) -> bool:
    return (
        await session.scalar(
            select(LedgerEntry.id).where(LedgerEntry.ticket_id == ticket_id, LedgerEntry.kind == "ticket")
        )
    ) is not None


async def check_ins_of(session: AsyncSession, ticket_id: int) -> list[CheckIn]:
    return list(
        await session.scalars(select(CheckIn).where(CheckIn.ticket_id == ticket_id).order_by(CheckIn.id))
    )


# --- the live wall ---------------------------------------------------------------------------------


def _wall_tags(campaign: Campaign, chapter: Chapter) -> Select[Status]:
    # The widget's rule for a hashtag (public notes only), with the chapter's tag or the campaign's.
    return widget_query(tag=chapter.hashtag, any_tags=(campaign.hashtag,))


def _decided(chapter: Chapter, decision: str) -> Select[int]:
    return select(WallDecision.status_id).where(
        WallDecision.chapter_id == chapter.id, WallDecision.decision == decision
    )


def wall_query(campaign: Campaign, chapter: Chapter) -> Select[Status]:
    """The notes a chapter's wall shows: with its moderation ``after``, every note with its tags
    but those hidden; ``before``, only those approved."""
    query = _wall_tags(campaign, chapter)
    if chapter.wall_moderation == "before":
        return query.where(Status.id.in_(_decided(chapter, "approved")))
    return query.where(Status.id.not_in(_decided(chapter, "hidden")))


def wall_queue_query(campaign: Campaign, chapter: Chapter) -> Select[Status]:
    """Notes waiting for an organiser's decision (walls moderated ``before``)."""
    decided = select(WallDecision.status_id).where(WallDecision.chapter_id == chapter.id)
    return _wall_tags(campaign, chapter).where(Status.id.not_in(decided))


async def attendance(session: AsyncSession, campaign_id: int) -> dict[int, tuple[int, int]]:
    """Per chapter of the campaign: confirmed places, and tickets checked in at the door (two
    grouped statements)."""
    places = dict(
        (
            await session.execute(
                select(Ticket.chapter_id, func.count())
                .join(Chapter, Chapter.id == Ticket.chapter_id)
                .where(Chapter.campaign_id == campaign_id, Ticket.status == "confirmed")
                .group_by(Ticket.chapter_id)
            )
        ).all()
    )
    came = dict(
        (
            await session.execute(
                select(Ticket.chapter_id, func.count(func.distinct(CheckIn.ticket_id)))
                .join(Ticket, Ticket.id == CheckIn.ticket_id)
                .join(Chapter, Chapter.id == Ticket.chapter_id)
                .where(Chapter.campaign_id == campaign_id)
                .group_by(Ticket.chapter_id)
            )
        ).all()
    )
    return {c: (int(places.get(c, 0)), int(came.get(c, 0))) for c in {*places, *came}}


async def chapter_news(session: AsyncSession, chapter_id: int, limit: int = 5) -> Sequence[CampaignMessage]:
    """The organisers' announcements sent to the chapter's attendees, newest first (each is an
    unlisted note: anyone with its link may read it, so the chapter's page shows them)."""
    return (
        await session.scalars(
            select(CampaignMessage)
            .where(
                CampaignMessage.chapter_id == chapter_id,
                CampaignMessage.kind == "announcement",
                CampaignMessage.delivered_at.is_not(None),
            )
            .order_by(CampaignMessage.id.desc())
            .limit(limit)
        )
    ).all()


@dataclass(frozen=True)
class RaffleState:
    """A raffle as the public sees it: what re-running its draw needs, and the winners once drawn."""

    raffle: Raffle
    sold: int
    winners: list[int] | None
    #: The username of the result post's author (its page is ``/@username/result_status_id``).
    result_author: str | None = None


async def raffle_state(session: AsyncSession, raffle: Raffle) -> RaffleState:
    sold = int(await session.scalar(select(func.count()).where(RaffleTicket.raffle_id == raffle.id)) or 0)
    seed = raffle.seed
    author = (
        await session.scalar(
            select(Account.username)
            .join(Status, Status.account_id == Account.id)
            .where(Status.id == raffle.result_status_id)
        )
        if raffle.result_status_id is not None
        else None
    )
    winners = raffle_rules.winners(seed, sold, raffle.prizes) if seed is not None else None
    return RaffleState(raffle, sold, winners, author)


async def chapter_raffle(session: AsyncSession, chapter_id: int) -> RaffleState | None:
    raffle = await session.scalar(select(Raffle).where(Raffle.chapter_id == chapter_id))
    return await raffle_state(session, raffle) if raffle is not None else None
