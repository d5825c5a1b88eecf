"""A chapter's raffle: set it up with a commitment, sell numbered tickets (each sale a ledger
entry, in the same transaction), draw by revealing the seed, publish the result as a post.

The algorithm and why it is fair are in ``domain/raffle.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select

from cordee.actions.campaigns import check_cents, clean_text, require
from cordee.actions.errors import NotFound, ValidationFailed
from cordee.actions.ledger import add_entry
from cordee.actions.statuses import NewStatus, counted_length, post_status
from cordee.config import Settings
from cordee.db.engine import Database, Tx
from cordee.db.tables_campaigns import Chapter, Raffle, RaffleTicket
from cordee.db.types import utcnow
from cordee.domain import raffle as rules
from cordee.domain.text import extract_entities

MAX_PER_SALE = 100
MAX_PRIZES = 100


@dataclass(frozen=True)
class Draw:
    raffle_id: int
    winners: list[int]
    status_id: int


async def create_raffle(
    db: Database, actor_id: int, chapter_id: int, price_cents: int, prizes: int, commitment: str
) -> int:
    price = check_cents(price_cents, "Price")
    if not 1 <= prizes <= MAX_PRIZES:
        raise ValidationFailed(f"Validation failed: Prizes must be between 1 and {MAX_PRIZES}")
    commitment = commitment.strip().lower()
    if not rules.is_commitment(commitment):
        raise ValidationFailed("Validation failed: Commitment must be a hex SHA-256 (64 characters)")
    async with db.write() as tx:
        await require(tx, actor_id, chapter_id, "manage")
        if await tx.session.scalar(select(Raffle.id).where(Raffle.chapter_id == chapter_id)) is not None:
            raise ValidationFailed("Validation failed: This chapter already has a raffle")
        row = Raffle(
            chapter_id=chapter_id,
            price_cents=price,
            prizes=prizes,
            commitment=commitment,
            created_by=actor_id,
        )
        tx.session.add(row)
        await tx.session.flush()
        return row.id


async def _lock(tx: Tx, raffle_id: int) -> Raffle:
    row = await tx.session.scalar(
        select(Raffle)
        .where(Raffle.id == raffle_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if row is None:
        raise NotFound()
    return row


async def sell(db: Database, actor_id: int, raffle_id: int, holder: str, count: int) -> list[int]:
    """Sell ``count`` tickets to ``holder`` (a door or treasurer role): one ledger entry of
    ``count × price``; the numbers follow on from the last one sold (under the raffle's row lock)."""
    name = clean_text(holder, "Holder", 100)
    if not 1 <= count <= MAX_PER_SALE:
        raise ValidationFailed(f"Validation failed: Count must be between 1 and {MAX_PER_SALE}")
    async with db.write() as tx:
        row = await _lock(tx, raffle_id)
        chapter = await require(tx, actor_id, row.chapter_id, "door")
        if row.seed is not None:
            raise ValidationFailed("Validation failed: The raffle has been drawn; sales are closed")
        entry = await add_entry(
            tx, chapter, actor_id, "raffle", row.price_cents * count, note=f"{count} × raffle ({name})"
        )
        last = int(
            await tx.session.scalar(
                select(func.max(RaffleTicket.number)).where(RaffleTicket.raffle_id == row.id)
            )
            or 0
        )
        numbers = list(range(last + 1, last + count + 1))
        tx.session.add_all(
            RaffleTicket(raffle_id=row.id, number=n, holder=name, ledger_entry_id=entry.id, sold_by=actor_id)
            for n in numbers
        )
        return numbers


async def draw(
    db: Database,
    settings: Settings,
    actor_id: int,
    raffle_id: int,
    seed: str,
    gettext: Callable[[str], str],
) -> Draw:
    """Reveal the seed, close sales and post the result from the drawing organiser's account, in
    one transaction: no sale can slip in between the count the draw used and the post. ``gettext``
    translates the post into the chapter's language (the adapter picks it)."""
    if not 1 <= len(seed) <= 128:
        raise ValidationFailed("Validation failed: Seed must be 1 to 128 characters")
    sold = 0

    async def reveal(tx: Tx) -> None:
        row = await _lock(tx, raffle_id)
        await require(tx, actor_id, row.chapter_id, "manage")
        if row.seed is not None:
            raise ValidationFailed("Validation failed: The raffle has already been drawn")
        if not rules.seed_matches(seed, row.commitment):
            raise ValidationFailed("Validation failed: This seed does not match the commitment")
        now_sold = int(
            await tx.session.scalar(select(func.count()).where(RaffleTicket.raffle_id == row.id)) or 0
        )
        if now_sold != sold:  # a sale landed after the text was written: post nothing, draw again
            raise ValidationFailed("Validation failed: A sale happened during the draw; draw again")
        if sold < row.prizes:
            raise ValidationFailed("Validation failed: Fewer tickets sold than prizes")
        row.seed = seed
        row.drawn_at = utcnow()

    # The post's text needs the numbers, which only the transaction knows: work them out first
    # under a read (cheap, and checked again inside ``reveal`` with the row locked).
    async with db.read() as session:
        raffle = await session.get(Raffle, raffle_id)
        if raffle is None:
            raise NotFound()
        chapter = await session.get(Chapter, raffle.chapter_id)
        assert chapter is not None
        sold = int(await session.scalar(select(func.count()).where(RaffleTicket.raffle_id == raffle_id)) or 0)
    text = announcement(settings, gettext, chapter, rules.winners(seed, sold, raffle.prizes))
    posted = await post_status(db, settings, actor_id, NewStatus(text=text, visibility="public"), also=reveal)
    status_id = posted.id
    async with db.write() as tx:
        row = await _lock(tx, raffle_id)
        row.result_status_id = status_id
    return Draw(raffle_id, rules.winners(seed, sold, raffle.prizes), status_id)


def announcement(
    settings: Settings,
    gettext: Callable[[str], str],
    chapter: Chapter,
    winners: list[int],
) -> str:
    """The result post: the winning numbers and the link to the raffle's public record (seed,
    commitment, tickets sold: what re-running the draw needs). The post must fit the server's
    character limit, so when the numbers do not all fit the last ones give way to "…"."""
    url = f"{settings.base_url}/api/v1/chapters/{chapter.id}/raffle"
    template = gettext("#{hashtag} raffle, winning tickets: {winners}. Check the draw: {url}")
    shown = list(winners)
    while True:
        listed = ", ".join(str(n) for n in shown) + ("…" if len(shown) < len(winners) else "")
        text = template.format(hashtag=chapter.hashtag, winners=listed, url=url)
        if (
            len(shown) <= 1
            or counted_length(settings, text, "", extract_entities(text)) <= settings.max_characters
        ):
            return text
        shown.pop()
