"""Campaigns and their chapters: create a campaign, propose a chapter (anyone), approve it
(a campaign organiser), name organisers. Also the one permission rule every campaign action uses
(``require``): a campaign organiser may do everything in every chapter; a chapter's own organisers
what their role allows."""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime

from babel import Locale, UnknownLocaleError
from babel.numbers import list_currencies
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cordee.actions.errors import Forbidden, NotFound, ValidationFailed
from cordee.db.engine import Database, Tx
from cordee.db.tables import Account
from cordee.db.tables_campaigns import Campaign, CampaignOrganiser, Chapter, ChapterOrganiser
from cordee.queries.campaigns import ROLES, allowed, is_campaign_organiser

CAPABILITIES = frozenset({"manage", "ledger", "door"})
#: A hashtag as the text rules read one: letters, digits, underscores, not only digits.
_HASHTAG = re.compile(r"^(?!\d+$)\w{1,100}$")
#: Goals and amounts stay far below 2**63 (and below what a float could hold exactly, for
#: whatever client reads the JSON): ten billion units of any currency.
MAX_CENTS = 10**12


@dataclass(frozen=True)
class NewCampaign:
    title: str
    hashtag: str
    cause: str
    goal_cents: int
    currency: str


@dataclass(frozen=True)
class NewChapter:
    city: str
    venue: str
    starts_at: datetime
    time_zone: str
    hashtag: str
    currency: str
    locale: str
    capacity: int | None = None
    ends_at: datetime | None = None


def check_hashtag(raw: str) -> str:
    tag = raw.strip().removeprefix("#")
    if not _HASHTAG.match(tag):
        raise ValidationFailed("Validation failed: Hashtag must be letters, digits or underscores")
    return tag


def check_currency(raw: str) -> str:
    code = raw.strip().upper()
    if code not in list_currencies():
        raise ValidationFailed("Validation failed: Currency must be an ISO 4217 code (EUR, USD…)")
    return code


def check_locale(raw: str) -> str:
    try:
        return str(Locale.parse(raw.strip().replace("-", "_")))
    except (ValueError, UnknownLocaleError):
        raise ValidationFailed("Validation failed: Locale is not known (fr_FR, en_GB…)") from None


def check_time_zone(raw: str) -> str:
    try:
        zoneinfo.ZoneInfo(raw.strip())
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        raise ValidationFailed("Validation failed: Time zone must be an IANA name (Europe/Paris…)") from None
    return raw.strip()


def check_moment(moment: datetime, what: str) -> datetime:
    """An instant with its offset, within the years an event or a scan can have. Bounded so that
    a far date (year 9999 at UTC-1) cannot overflow when it is turned to UTC for storage."""
    if moment.tzinfo is None:
        raise ValidationFailed(f"Validation failed: {what} must carry its UTC offset")
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:
        raise ValidationFailed(f"Validation failed: {what} is out of range") from None
    if not 2000 <= utc.year <= 2200:
        raise ValidationFailed(f"Validation failed: {what} is out of range")
    return utc


def check_cents(value: int, what: str, *, allow_zero: bool = False) -> int:
    # bool is an int: refuse it, as a JSON true is no amount.
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationFailed(f"Validation failed: {what} must be a whole number of cents")
    if not (0 if allow_zero else 1) <= value <= MAX_CENTS:
        raise ValidationFailed(f"Validation failed: {what} is out of range")
    return value


def clean_text(raw: str, what: str, maximum: int, *, blank_ok: bool = False) -> str:
    value = raw.strip()
    if not value and not blank_ok:
        raise ValidationFailed(f"Validation failed: {what} can't be blank")
    if len(value) > maximum:
        raise ValidationFailed(f"Validation failed: {what} is too long (maximum is {maximum} characters)")
    return value


async def campaign_organiser(tx: Tx, campaign_id: int, account_id: int) -> bool:
    return await is_campaign_organiser(tx.session, campaign_id, account_id)


async def require(tx: Tx, account_id: int, chapter_id: int, capability: str) -> Chapter:
    """The chapter, if ``account_id`` may do ``capability`` there; else Forbidden (chapters are
    public, so a refusal reveals nothing). A missing chapter is NotFound."""
    assert capability in CAPABILITIES
    chapter = await tx.session.get(Chapter, chapter_id)
    if chapter is None:
        raise NotFound()
    if not await allowed(tx.session, account_id, chapter, capability):
        raise Forbidden("This action is reserved to the chapter's organisers")
    return chapter


async def _insert(tx: Tx, row: object, taken: str | None) -> None:
    """Insert in a savepoint: the checks before it read without locks, so on PostgreSQL a
    concurrent writer can take the same unique value first. ``taken``: the refusal then (None:
    the other writer's row does the same job)."""
    try:
        async with tx.session.begin_nested():
            tx.session.add(row)
    except IntegrityError:
        if taken is not None:
            raise ValidationFailed(taken) from None


async def create_campaign(db: Database, account_id: int, new: NewCampaign) -> int:
    """The creator is the first campaign organiser."""
    title = clean_text(new.title, "Title", 200)
    tag = check_hashtag(new.hashtag)
    cause = clean_text(new.cause, "Cause", 5000, blank_ok=True)
    goal = check_cents(new.goal_cents, "Goal")
    currency = check_currency(new.currency)
    async with db.write() as tx:
        taken = await tx.session.scalar(select(Campaign.id).where(Campaign.hashtag_key == tag.lower()))
        if taken is not None:
            raise ValidationFailed("Validation failed: Hashtag is already used by another campaign")
        row = Campaign(
            title=title,
            hashtag=tag,
            hashtag_key=tag.lower(),
            cause=cause,
            goal_cents=goal,
            currency=currency,
            created_by=account_id,
        )
        await _insert(tx, row, "Validation failed: Hashtag is already used by another campaign")
        tx.session.add(CampaignOrganiser(campaign_id=row.id, account_id=account_id))
        return row.id


async def add_campaign_organiser(db: Database, actor_id: int, campaign_id: int, account_id: int) -> None:
    async with db.write() as tx:
        if await tx.session.get(Campaign, campaign_id) is None:
            raise NotFound()
        if not await campaign_organiser(tx, campaign_id, actor_id):
            raise Forbidden("This action is reserved to the campaign's organisers")
        if await tx.session.get(Account, account_id) is None:
            raise NotFound()
        if not await campaign_organiser(tx, campaign_id, account_id):
            # Added by someone else at the same moment: the same end state.
            await _insert(tx, CampaignOrganiser(campaign_id=campaign_id, account_id=account_id), None)


async def propose_chapter(db: Database, account_id: int, campaign_id: int, new: NewChapter) -> int:
    """Anyone signed in may propose a chapter; they become its lead. A campaign organiser's own
    proposal is approved at once."""
    city = clean_text(new.city, "City", 100)
    venue = clean_text(new.venue, "Venue", 200)
    tag = check_hashtag(new.hashtag)
    zone = check_time_zone(new.time_zone)
    currency = check_currency(new.currency)
    locale = check_locale(new.locale)
    starts_at = check_moment(new.starts_at, "Start time")
    ends_at = check_moment(new.ends_at, "End time") if new.ends_at is not None else None
    if ends_at is not None and ends_at <= starts_at:
        raise ValidationFailed("Validation failed: The end must come after the start")
    if new.capacity is not None and not 1 <= new.capacity <= 1_000_000:
        raise ValidationFailed("Validation failed: Capacity is out of range")
    async with db.write() as tx:
        if await tx.session.get(Campaign, campaign_id) is None:
            raise NotFound()
        taken = await tx.session.scalar(
            select(Chapter.id).where(Chapter.campaign_id == campaign_id, Chapter.hashtag_key == tag.lower())
        )
        if taken is not None:
            raise ValidationFailed("Validation failed: Hashtag is already used by another chapter")
        organiser = await campaign_organiser(tx, campaign_id, account_id)
        row = Chapter(
            campaign_id=campaign_id,
            city=city,
            venue=venue,
            starts_at=starts_at,
            ends_at=ends_at,
            time_zone=zone,
            capacity=new.capacity,
            hashtag=tag,
            hashtag_key=tag.lower(),
            currency=currency,
            locale=locale,
            status="approved" if organiser else "proposed",
            proposed_by=account_id,
        )
        await _insert(tx, row, "Validation failed: Hashtag is already used by another chapter")
        tx.session.add(ChapterOrganiser(chapter_id=row.id, account_id=account_id, role="lead"))
        return row.id


async def approve_chapter(db: Database, actor_id: int, chapter_id: int) -> None:
    async with db.write() as tx:
        chapter = await tx.session.get(Chapter, chapter_id)
        if chapter is None:
            raise NotFound()
        if not await campaign_organiser(tx, chapter.campaign_id, actor_id):
            raise Forbidden("Only the campaign's organisers approve chapters")
        chapter.status = "approved"


async def set_chapter_organiser(
    db: Database, actor_id: int, chapter_id: int, account_id: int, role: str | None
) -> None:
    """Give ``account_id`` a role in the chapter, or take it away (``role`` None). A chapter keeps
    at least one lead."""
    if role is not None and role not in ROLES:
        raise ValidationFailed(f"Validation failed: Role must be one of {', '.join(ROLES)}")
    async with db.write() as tx:
        await require(tx, actor_id, chapter_id, "manage")
        if await tx.session.get(Account, account_id) is None:
            raise NotFound()
        row = await tx.session.scalar(
            select(ChapterOrganiser).where(
                ChapterOrganiser.chapter_id == chapter_id, ChapterOrganiser.account_id == account_id
            )
        )
        if role is None or (row is not None and row.role == "lead" and role != "lead"):
            leads = list(
                await tx.session.scalars(
                    select(ChapterOrganiser.account_id).where(
                        ChapterOrganiser.chapter_id == chapter_id, ChapterOrganiser.role == "lead"
                    )
                )
            )
            if leads == [account_id]:
                raise ValidationFailed("Validation failed: A chapter needs at least one lead")
        if role is None:
            if row is not None:
                await tx.session.delete(row)
        elif row is None:
            row = ChapterOrganiser(chapter_id=chapter_id, account_id=account_id, role=role)
            await _insert(
                tx, row, "Validation failed: This person was given a role at the same moment; try again"
            )
        else:
            row.role = role
