"""The organisers' forms on a chapter's page: an announcement to the attendees, ticket tiers, a
ledger entry and its correction, the raffle (commit, draw) and the chapter's roles. The same
actions as the API (docs/campaigns.md); each form is CSRF-checked, and a refusal shows the page
again with the reason and nothing stored.

Amounts are typed as people write them ("12.50", "12,50") and turned into the currency's minor
unit with ``Decimal`` and the currency's precision (Babel): no float, and more decimals than the
currency has are refused rather than rounded.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.numbers import get_currency_precision
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from cordee.actions import campaign_messages as message_actions
from cordee.actions import campaigns as campaign_actions
from cordee.actions import ledger as ledger_actions
from cordee.actions import raffle as raffle_actions
from cordee.actions import tickets as ticket_actions
from cordee.actions import wall as wall_actions
from cordee.actions.errors import ActionError
from cordee.api.mastodon.params import id_or_none
from cordee.db.tables_campaigns import Chapter, LedgerEntry, Raffle
from cordee.mail import sender_of
from cordee.queries import campaigns as queries
from cordee.queries.accounts import account_by_acct
from cordee.rendering.ledger_csv import ledger_csv
from cordee.rendering.money import money
from cordee.web.app_common import me_or_sign_in, signed_in_form
from cordee.web.campaign_refusals import refusal
from cordee.web.i18n import LANGUAGES, N_, translations
from cordee.web.public_pages import not_found
from cordee.web.render import PAGE_HEADERS, SignedIn, db_of, field, gettext, redirect, settings_of

BAD_AMOUNT = N_("Write the amount as a number, such as 12.50, with no more decimals than the currency has.")
BAD_NUMBER = N_("Write a whole number.")
NO_ACCOUNT = N_("No account here has this name.")
_AMOUNT = re.compile(r"^-?\d{1,13}([.,]\d{1,4})?$")


def parse_amount(text: str, currency: str, *, signed: bool = False) -> int | None:
    """``"12.50"`` EUR → 1250; None when it is not an amount of that currency."""
    text = text.strip().replace("\u202f", "").replace(" ", "")
    if not _AMOUNT.match(text) or (text.startswith("-") and not signed):
        return None
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        return None
    scaled = value.scaleb(get_currency_precision(currency))
    if scaled != scaled.to_integral_value():
        return None
    return int(scaled)


def _whole(text: str) -> int | None:
    text = text.strip()
    return int(text) if re.fullmatch(r"\d{1,9}", text) else None


async def organiser_view(
    session: AsyncSession, me: SignedIn | None, chapter: Chapter
) -> dict[str, Any] | None:
    """What the organisers' section of the chapter page shows; None for everyone else."""
    if me is None:
        return None
    may = {c: await queries.allowed(session, me.account.id, chapter, c) for c in ("manage", "ledger")}
    if not any(may.values()):
        return None
    entries = (
        list(
            await session.scalars(
                queries.entries_query(chapter_id=chapter.id).order_by(LedgerEntry.id.desc()).limit(20)
            )
        )
        if may["ledger"]
        else []
    )
    raffle = await session.scalar(select(Raffle).where(Raffle.chapter_id == chapter.id))
    people = await queries.attendees(session, chapter.id)
    return {
        "attendees": people,
        "confirmed": sum(1 for a in people if a.ticket.status == "confirmed"),
        "waiting": sum(1 for a in people if a.ticket.status == "waiting"),
        "manage": may["manage"],
        "ledger": may["ledger"],
        "entries": [
            {"entry": e, "amount": money(e.amount_cents, e.currency, chapter.locale)} for e in entries
        ],
        "raffle": raffle,
        "organisers": (await queries.chapter_organisers(session, [chapter.id]))[chapter.id],
    }


Handler = Callable[[Request, SignedIn, Chapter, Any], Awaitable[str | Response]]


async def _organiser_form(request: Request, handle: Handler) -> Response:
    """Check the form and the chapter, run ``handle``; its string is a refusal to show."""
    from cordee.web.campaign_pages import chapter_page  # the page imports this module

    posted = await signed_in_form(request)
    if isinstance(posted, Response):
        return posted
    me, form = posted
    chapter_id = id_or_none(str(request.path_params["id"]))
    async with db_of(request).read() as session:
        chapter = await queries.chapter_by_id(session, chapter_id) if chapter_id is not None else None
    if chapter is None:
        return await not_found(request, me)
    try:
        done = await handle(request, me, chapter, form)
    except ActionError as e:
        if e.status == 404:
            return await not_found(request, me)
        return await chapter_page(request, refusal(request, e), e.status)
    if isinstance(done, str):
        return await chapter_page(request, gettext(request, done), 422)
    return done


def _back(chapter: Chapter, anchor: str = "organisers") -> Response:
    return redirect(f"/chapters/{chapter.id}#{anchor}")


async def _announce(request: Request, me: SignedIn, chapter: Chapter, form: Any) -> str | Response:
    def gettext_for(lang: str) -> Callable[[str], str]:
        return translations(lang if lang in LANGUAGES else "en").gettext

    await message_actions.announce(
        db_of(request),
        settings_of(request),
        sender_of(request.app),
        me.account.id,
        chapter.id,
        field(form, "text", 5000),
        gettext_for,
        include_waiting=field(form, "include_waiting") == "1",
    )
    return _back(chapter)


async def _tier(request: Request, me: SignedIn, chapter: Chapter, form: Any) -> str | Response:
    price = parse_amount(field(form, "price", 20) or "0", chapter.currency)
    raw_capacity = field(form, "capacity", 20).strip()
    capacity = _whole(raw_capacity) if raw_capacity else None
    if price is None:
        return BAD_AMOUNT
    if raw_capacity and capacity is None:
        return BAD_NUMBER
    new = ticket_actions.NewTier(name=field(form, "name", 200), price_cents=price, capacity=capacity)
    await ticket_actions.create_tier(db_of(request), me.account.id, chapter.id, new)
    return _back(chapter)


async def _entry(request: Request, me: SignedIn, chapter: Chapter, form: Any) -> str | Response:
    amount = parse_amount(field(form, "amount", 20), chapter.currency)
    if amount is None:
        return BAD_AMOUNT
    new = ledger_actions.NewEntry(
        kind=field(form, "kind", 20),
        amount_cents=amount,
        currency=chapter.currency,
        note=field(form, "note", 500),
    )
    await ledger_actions.record_entry(db_of(request), me.account.id, chapter.id, new)
    return _back(chapter, "ledger")


async def _correction(request: Request, me: SignedIn, chapter: Chapter, form: Any) -> str | Response:
    amount = parse_amount(field(form, "amount", 20), chapter.currency, signed=True)
    entry_id = id_or_none(field(form, "entry_id", 20))
    if amount is None:
        return BAD_AMOUNT
    async with db_of(request).read() as session:
        entry = await session.get(LedgerEntry, entry_id) if entry_id is not None else None
    if entry is None or entry.chapter_id != chapter.id:
        return await not_found(request, me)
    await ledger_actions.correct_entry(
        db_of(request), me.account.id, entry.id, amount, field(form, "note", 500)
    )
    return _back(chapter, "ledger")


async def _raffle(request: Request, me: SignedIn, chapter: Chapter, form: Any) -> str | Response:
    price = parse_amount(field(form, "price", 20), chapter.currency)
    prizes = _whole(field(form, "prizes", 20))
    if price is None:
        return BAD_AMOUNT
    if prizes is None:
        return BAD_NUMBER
    await raffle_actions.create_raffle(
        db_of(request), me.account.id, chapter.id, price, prizes, field(form, "commitment", 200)
    )
    return _back(chapter, "raffle")


async def _draw(request: Request, me: SignedIn, chapter: Chapter, form: Any) -> str | Response:
    async with db_of(request).read() as session:
        raffle_id = await session.scalar(select(Raffle.id).where(Raffle.chapter_id == chapter.id))
    if raffle_id is None:
        return await not_found(request, me)
    lang = chapter.locale[:2]
    chapter_gettext = translations(lang if lang in LANGUAGES else "en").gettext
    await raffle_actions.draw(
        db_of(request),
        settings_of(request),
        me.account.id,
        raffle_id,
        field(form, "seed", 200),
        chapter_gettext,
    )
    return _back(chapter, "raffle")


async def _role(request: Request, me: SignedIn, chapter: Chapter, form: Any) -> str | Response:
    async with db_of(request).read() as session:
        account = await account_by_acct(session, settings_of(request), field(form, "username", 200).strip())
    if account is None:
        return NO_ACCOUNT
    role = field(form, "role", 20)
    await campaign_actions.set_chapter_organiser(
        db_of(request), me.account.id, chapter.id, account.id, None if role == "none" else role
    )
    return _back(chapter)


async def _moderation(request: Request, me: SignedIn, chapter: Chapter, form: Any) -> str | Response:
    await wall_actions.set_moderation(
        db_of(request), me.account.id, chapter.id, field(form, "moderation", 20)
    )
    return _back(chapter, "wall-moderation")


async def moderation_submit(request: Request) -> Response:
    return await _organiser_form(request, _moderation)


async def _cancel(request: Request, me: SignedIn, chapter: Chapter, form: Any) -> str | Response:
    """A lead gives someone's place up (a paid one too: the refund is a ledger correction)."""
    ticket_id = id_or_none(field(form, "ticket_id", 20))
    async with db_of(request).read() as session:
        ticket = await queries.ticket_by_id(session, ticket_id) if ticket_id is not None else None
    if ticket is None or ticket.chapter_id != chapter.id:
        return await not_found(request, me)
    await ticket_actions.cancel_ticket(db_of(request), me.account.id, ticket.id)
    return _back(chapter, "attendees")


async def cancel_place_submit(request: Request) -> Response:
    return await _organiser_form(request, _cancel)


async def announce_submit(request: Request) -> Response:
    return await _organiser_form(request, _announce)


async def tier_submit(request: Request) -> Response:
    return await _organiser_form(request, _tier)


async def entry_submit(request: Request) -> Response:
    return await _organiser_form(request, _entry)


async def correction_submit(request: Request) -> Response:
    return await _organiser_form(request, _correction)


async def raffle_submit(request: Request) -> Response:
    return await _organiser_form(request, _raffle)


async def draw_submit(request: Request) -> Response:
    return await _organiser_form(request, _draw)


async def role_submit(request: Request) -> Response:
    return await _organiser_form(request, _role)


# --- the ledger as CSV (rendering/ledger_csv.py), for whoever may read it -------------------------


def _csv(text: str, filename: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={**PAGE_HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def chapter_ledger_csv(request: Request) -> Response:
    """The chapter's entries, for its treasurers and leads and the campaign's organisers (the same
    "not found" for anyone else, as the door page)."""
    me = await me_or_sign_in(request)
    if not isinstance(me, SignedIn):
        return me
    chapter_id = id_or_none(str(request.path_params["id"]))
    async with db_of(request).read() as session:
        chapter = await queries.chapter_by_id(session, chapter_id) if chapter_id is not None else None
        if chapter is None or not await queries.allowed(session, me.account.id, chapter, "ledger"):
            return await not_found(request, me)
        text = await ledger_csv(session, LedgerEntry.chapter_id == chapter.id)
    return _csv(text, f"ledger-{chapter.hashtag}.csv")


async def campaign_ledger_csv(request: Request) -> Response:
    """Every chapter's entries, for the campaign's organisers."""
    me = await me_or_sign_in(request)
    if not isinstance(me, SignedIn):
        return me
    campaign_id = id_or_none(str(request.path_params["id"]))
    async with db_of(request).read() as session:
        campaign = await queries.campaign_by_id(session, campaign_id) if campaign_id is not None else None
        if campaign is None or not await queries.is_campaign_organiser(session, campaign.id, me.account.id):
            return await not_found(request, me)
        text = await ledger_csv(session, LedgerEntry.campaign_id == campaign.id)
    return _csv(text, f"ledger-{campaign.hashtag}.csv")
