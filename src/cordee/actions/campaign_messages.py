"""Messages to a chapter's attendees: an organiser's announcement, the automatic reminders
(24 h and 2 h before the start) and the thank-you after the event (docs/campaigns.md).

How a message reaches hundreds of people without a direct note mentioning each (noisy, and a
mention list that long breaks clients): it is **one unlisted note** from the organiser (for the
automatic ones, the chapter's first lead), in the chapter's language and with its hashtag, plus
**one notification per attendee** of the Cordée type ``cordee.campaign_announcement`` pointing at
that note (clients skip types they do not know, Mastodon's rule), plus **an e-mail** in each
attendee's own language (``users.locale``) to a confirmed address.

Sent once: the ``campaign_messages`` row is claimed first (unique per chapter and slot), the note
is posted with an idempotency key naming the row, and the notifications are made in the
transaction that marks the row delivered (``UPDATE ... WHERE delivered_at IS NULL``: one process
wins). A send cut short (a crash between those steps) is finished by the periodic job, which
posts nothing twice thanks to the idempotency key. E-mails go after that commit, at most once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from cordee.actions._notify import notify
from cordee.actions.campaigns import require
from cordee.actions.errors import NotFound, ValidationFailed
from cordee.actions.statuses import NewStatus, check_text, counted_length, post_status
from cordee.config import Settings
from cordee.db.engine import Database, Tx
from cordee.db.tables import User
from cordee.db.tables_campaigns import CampaignMessage, Chapter, ChapterOrganiser, Ticket
from cordee.db.types import utcnow
from cordee.domain.text import extract_entities
from cordee.ids import new_id
from cordee.mail import Sender, message, send_later

log = logging.getLogger(__name__)

NOTIFICATION_TYPE = "cordee.campaign_announcement"
KINDS = ("announcement", "reminder_24h", "reminder_2h", "thanks")
#: When an automatic message is due, relative to the start (reminders) or the end (thanks), and
#: until when it is still worth sending (a server down for a day sends no stale reminder).
REMINDERS = {"reminder_24h": timedelta(hours=24), "reminder_2h": timedelta(hours=2)}
THANKS_WITHIN = timedelta(days=3)
#: An event without an end time is taken to last this long (the thank-you goes after it).
DEFAULT_LENGTH = timedelta(hours=6)
#: A claimed message older than this and still undelivered was cut short: the job finishes it.
STALE_AFTER = timedelta(minutes=2)
#: ...and given up after this long (a message that keeps failing is logged, not retried forever).
GIVE_UP_AFTER = timedelta(days=1)

#: ``gettext_for(lang)``: the catalogue of a language ("en", "fr"), given by the adapter.
GettextFor = Callable[[str], Callable[[str], str]]


@dataclass(frozen=True)
class Sent:
    message_id: int
    status_id: int | None
    recipients: int


def _lang(locale: str) -> str:
    return "fr" if locale.lower().startswith("fr") else "en"


def event_end(chapter: Chapter) -> datetime:
    return chapter.ends_at or chapter.starts_at + DEFAULT_LENGTH


def local_start(chapter: Chapter, locale: str, pattern: str = "EEE d MMM, HH:mm") -> str:
    """The start in the chapter's time zone, written for ``locale``."""
    return format_datetime(chapter.starts_at, pattern, tzinfo=ZoneInfo(chapter.time_zone), locale=locale)


def automatic_text(
    gettext: Callable[[str], str],
    kind: str,
    chapter: Chapter,
    locale: str,
    url: str,
    fits: Callable[[str], bool] = lambda text: True,
) -> str:
    """The text of a reminder or thank-you; ``fits`` says whether a text fits a note, and the
    venue gives way first (as the raffle's numbers do), then everything but the hashtag and link."""
    if kind == "reminder_24h":
        template = gettext("Reminder: #{hashtag} is on {when}, at {venue}. See you there! {url}")
    elif kind == "reminder_2h":
        template = gettext("#{hashtag} starts soon ({when}) at {venue}. Bring your ticket! {url}")
    else:
        template = gettext("Thank you for coming to #{hashtag}! See what we achieved together: {url}")
    when = local_start(chapter, locale)
    venue = chapter.venue
    while True:
        text = template.format(hashtag=chapter.hashtag, when=when, venue=venue, url=url)
        if fits(text):
            return text
        if not venue:
            return f"#{chapter.hashtag} {url}"
        venue = venue[: len(venue) - 4].rstrip() + "…" if len(venue) > 4 else ""


def _chapter_url(settings: Settings, chapter: Chapter, kind: str = "announcement") -> str:
    """The chapter's page; for the thank-you, the campaign's impact report."""
    if kind == "thanks":
        return f"{settings.base_url}/campaigns/{chapter.campaign_id}/report"
    return f"{settings.base_url}/chapters/{chapter.id}"


async def _recipients(tx: Tx, chapter_id: int, include_waiting: bool) -> list[int]:
    statuses = ("confirmed", "waiting") if include_waiting else ("confirmed",)
    rows = await tx.session.scalars(
        select(Ticket.account_id)
        .where(Ticket.chapter_id == chapter_id, Ticket.status.in_(statuses))
        .distinct()
        .order_by(Ticket.account_id)
    )
    return list(rows)


async def _claim(db: Database, row: CampaignMessage) -> bool:
    """Insert the row; False when another process already took the slot."""
    try:
        async with db.write() as tx:
            tx.session.add(row)
    except IntegrityError:
        return False
    return True


async def _deliver(
    db: Database, settings: Settings, sender: Sender | None, message_id: int, gettext_for: GettextFor
) -> Sent | None:
    """Post the note (idempotently), notify, mark delivered, then mail. None: already done."""
    async with db.read() as session:
        row = await session.get(CampaignMessage, message_id)
        chapter = await session.get(Chapter, row.chapter_id) if row is not None else None
    if row is None or chapter is None or row.delivered_at is not None:
        return None
    key = f"cordee-campaign-message-{row.id}"
    posted = await post_status(
        db,
        settings,
        row.sent_by,
        NewStatus(text=row.text, visibility="unlisted", language=_lang(chapter.locale)),
        idempotency_key=key,
    )
    status_id = posted.id
    async with db.write() as tx:
        won = await tx.session.execute(
            update(CampaignMessage)
            .where(CampaignMessage.id == row.id, CampaignMessage.delivered_at.is_(None))
            .values(delivered_at=utcnow(), status_id=status_id)
        )
        if won.rowcount != 1:  # type: ignore[attr-defined]
            return None
        people = await _recipients(tx, chapter.id, row.include_waiting)
        for account_id in people:
            await notify(tx, account_id, row.sent_by, NOTIFICATION_TYPE, status_id)
        await tx.session.execute(
            update(CampaignMessage).where(CampaignMessage.id == row.id).values(recipients=len(people))
        )
        mails = (
            (
                await tx.session.execute(
                    select(User.email, User.locale).where(
                        User.account_id.in_(people), User.email_confirmed_at.is_not(None)
                    )
                )
            ).all()
            if people and sender is not None
            else []
        )
    if sender is not None:
        for email, locale in mails:
            _mail(settings, sender, gettext_for, chapter, row, email, locale)
    return Sent(row.id, status_id, len(people))


def _mail(
    settings: Settings,
    sender: Sender,
    gettext_for: GettextFor,
    chapter: Chapter,
    row: CampaignMessage,
    email: str,
    locale: str,
) -> None:
    lang = _lang(locale)
    gettext = gettext_for(lang)
    url = _chapter_url(settings, chapter, row.kind)
    body = (
        automatic_text(gettext, row.kind, chapter, "fr_FR" if lang == "fr" else "en_GB", url)
        if row.kind != "announcement"
        else row.text + "\n\n" + url
    )
    subject = gettext("News from #{hashtag}").format(hashtag=chapter.hashtag)
    footer = gettext("You receive this because you have a place at this event.")
    send_later(sender, message(settings, email, subject, f"{body}\n\n-- \n{footer}\n"))


async def announce(
    db: Database,
    settings: Settings,
    sender: Sender | None,
    actor_id: int,
    chapter_id: int,
    text: str,
    gettext_for: GettextFor,
    *,
    include_waiting: bool = False,
) -> Sent:
    """An organiser's announcement to the chapter's attendees (and its waiting list if asked)."""
    text = text.strip()
    if not text:
        raise ValidationFailed("Validation failed: Text can't be blank")
    async with db.write() as tx:
        chapter = await require(tx, actor_id, chapter_id, "manage")
        if chapter.status != "approved":
            raise ValidationFailed("Validation failed: The chapter is not approved yet")
        tag = f"#{chapter.hashtag}"
        if tag.lower() not in text.lower():
            text = f"{text}\n\n{tag}"
    check_text(settings, text, "", None)  # before the row is claimed: a refusal leaves nothing
    row = CampaignMessage(
        chapter_id=chapter_id,
        kind="announcement",
        sent_by=actor_id,
        text=text,
        include_waiting=include_waiting,
        recipients=0,
    )
    row.id = new_id()
    row.slot = str(row.id)
    await _claim(db, row)
    sent = await _deliver(db, settings, sender, row.id, gettext_for)
    if sent is None:  # the job finished it meanwhile (cannot happen within STALE_AFTER)
        raise NotFound()
    return sent


async def _sender_of(db: Database, chapter: Chapter) -> int:
    async with db.read() as session:
        lead = await session.scalar(
            select(ChapterOrganiser.account_id)
            .where(ChapterOrganiser.chapter_id == chapter.id, ChapterOrganiser.role == "lead")
            .order_by(ChapterOrganiser.id)
            .limit(1)
        )
    return lead if lead is not None else chapter.proposed_by


def due_kinds(chapter: Chapter, now: datetime) -> list[str]:
    """The automatic messages due now for ``chapter`` (whether sent or not)."""
    due = []
    start = chapter.starts_at
    if start - REMINDERS["reminder_24h"] <= now < start - REMINDERS["reminder_2h"]:
        due.append("reminder_24h")
    if start - REMINDERS["reminder_2h"] <= now < start:
        due.append("reminder_2h")
    end = event_end(chapter)
    if end <= now < end + THANKS_WITHIN:
        due.append("thanks")
    return due


async def send_due(
    db: Database,
    settings: Settings,
    sender: Sender | None,
    gettext_for: GettextFor,
    now: datetime | None = None,
) -> int:
    """The periodic job: send the reminders and thank-you notes now due, once each, and finish any
    send cut short. Returns how many messages it delivered."""
    now = now or utcnow()
    window_start = now - THANKS_WITHIN - DEFAULT_LENGTH - timedelta(days=30)
    async with db.read() as session:
        chapters = list(
            await session.scalars(
                select(Chapter).where(
                    Chapter.status == "approved",
                    Chapter.starts_at <= now + REMINDERS["reminder_24h"],
                    Chapter.starts_at >= window_start,
                )
            )
        )
        taken = {
            (c, s)
            for c, s in (
                await session.execute(
                    select(CampaignMessage.chapter_id, CampaignMessage.slot).where(
                        CampaignMessage.chapter_id.in_([c.id for c in chapters])
                    )
                )
            ).all()
        }
        stale = list(
            await session.scalars(
                select(CampaignMessage.id).where(
                    CampaignMessage.delivered_at.is_(None),
                    CampaignMessage.created_at < now - STALE_AFTER,
                    CampaignMessage.created_at > now - GIVE_UP_AFTER,
                )
            )
        )

    def fits(text: str) -> bool:
        return counted_length(settings, text, "", extract_entities(text)) <= settings.max_characters

    done = 0
    for chapter in chapters:
        for kind in due_kinds(chapter, now):
            if (chapter.id, kind) in taken:
                continue
            gettext = gettext_for(_lang(chapter.locale))
            url = _chapter_url(settings, chapter, kind)
            text = automatic_text(gettext, kind, chapter, chapter.locale, url, fits)
            row = CampaignMessage(
                id=new_id(),
                chapter_id=chapter.id,
                kind=kind,
                slot=kind,
                sent_by=await _sender_of(db, chapter),
                text=text,
                include_waiting=False,
                recipients=0,
            )
            async with db.read() as session:
                attendees = await session.scalar(
                    select(Ticket.id)
                    .where(Ticket.chapter_id == chapter.id, Ticket.status == "confirmed")
                    .limit(1)
                )
            if attendees is None:  # nobody to tell: the slot is taken, no note is posted
                row.delivered_at = now
                await _claim(db, row)
                continue
            try:
                if await _claim(db, row) and await _deliver(db, settings, sender, row.id, gettext_for):
                    done += 1
            except Exception:  # one chapter's failure must not hold back the others; retried when stale
                log.exception("campaign message %s of chapter %s failed", kind, chapter.id)
    for message_id in stale:
        try:
            if await _deliver(db, settings, sender, message_id, gettext_for):
                done += 1
        except Exception:
            log.exception("campaign message %s failed again", message_id)
    return done
