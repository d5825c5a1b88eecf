"""``/campaigns/{id}`` and ``/chapters/{id}``: a campaign's page (its chapters by city and the
thermometer), a chapter's page (RSVP, the reader's ticket with its QR), and the chapter's
calendar file. The same actions and queries as the API (``actions/tickets.py``,
``queries/campaigns.py``).

Amounts are formatted by Babel in the chapter's currency and locale (a Lyon chapter shows
« 1 500,00 € », a London one "£1,500.00"), from integer cents through ``Decimal``: no float.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import segno
from babel.dates import format_datetime
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from cordee.actions import campaigns as campaign_actions
from cordee.actions import tickets as ticket_actions
from cordee.actions.errors import ActionError
from cordee.api.mastodon.params import id_or_none
from cordee.db.tables_campaigns import Campaign, Chapter, TicketTier
from cordee.domain import ticket_codes
from cordee.queries import campaigns as queries
from cordee.rendering.money import money, percent
from cordee.web.app_common import signed_in_form
from cordee.web.campaign_organiser import organiser_view
from cordee.web.campaign_refusals import refusal
from cordee.web.i18n import N_, choose_language
from cordee.web.public_pages import not_found
from cordee.web.render import PAGE_HEADERS, current_user, db_of, field, gettext, redirect, render, settings_of

CHOOSE_TICKET = N_("Choose a ticket.")
BAD_PROPOSAL = N_("Check the date and time, the time zone (such as Europe/Paris) and the capacity.")


def _path_id(request: Request) -> int | None:
    return id_or_none(str(request.path_params["id"]))


async def campaign_page(
    request: Request,
    error: str | None = None,
    status: int = 200,
    values: dict[str, str] | None = None,
    organiser_error: str | None = None,
) -> Response:
    campaign_id = _path_id(request)
    lang = choose_language(request)
    me = await current_user(request)
    async with db_of(request).read() as session:
        campaign = await queries.campaign_by_id(session, campaign_id) if campaign_id is not None else None
        if campaign is None:
            return await not_found(request, me)
        every = list(await queries.chapters_of(session, campaign.id, approved_only=False))
        per = await queries.totals_per_chapter(session, campaign.id)
        totals = await queries.campaign_totals(session, campaign.id)
        organiser = me is not None and await queries.is_campaign_organiser(
            session, campaign.id, me.account.id
        )
        organisers = await queries.campaign_organisers(session, campaign.id)
    chapters = [c for c in every if c.status == "approved"]
    empty = queries.Totals({}, 0)
    rows = [
        {
            "chapter": c,
            "raised": money(per.get(c.id, empty).in_currency(c.currency), c.currency, c.locale),
            "when": format_datetime(c.starts_at, "medium", tzinfo=ZoneInfo(c.time_zone), locale=lang),
        }
        for c in chapters
    ]
    raised = totals.in_currency(campaign.currency)
    return await render(
        request,
        "campaign.html",
        status,
        me=me,
        campaign=campaign,
        chapters=rows,
        organiser=organiser,
        organisers=organisers,
        organiser_error=organiser_error,
        proposed=[c for c in every if c.status == "proposed"] if organiser else [],
        cities=len({c.city for c in chapters}),
        raised=money(raised, campaign.currency, lang),
        goal=money(campaign.goal_cents, campaign.currency, lang),
        percent=percent(raised, campaign.goal_cents),
        raised_cents=raised,
        error=error,
        values=values or {"time_zone": "Europe/Paris", "currency": campaign.currency, "locale": lang},
    )


async def report_page(request: Request) -> Response:
    """The impact report: what each city raised (in its currency), its places and its door, and
    the campaign's total, from the ledger and the tickets as they are now."""
    campaign_id = _path_id(request)
    lang = choose_language(request)
    async with db_of(request).read() as session:
        campaign = await queries.campaign_by_id(session, campaign_id) if campaign_id is not None else None
        if campaign is None:
            return await not_found(request)
        chapters = list(await queries.chapters_of(session, campaign.id, approved_only=True))
        per = await queries.totals_per_chapter(session, campaign.id)
        totals = await queries.campaign_totals(session, campaign.id)
        people = await queries.attendance(session, campaign.id)
    empty = queries.Totals({}, 0)
    rows = [
        {
            "chapter": c,
            "raised": money(per.get(c.id, empty).in_currency(c.currency), c.currency, c.locale),
            "places": people.get(c.id, (0, 0))[0],
            "came": people.get(c.id, (0, 0))[1],
            "entries": per.get(c.id, empty).entries,
        }
        for c in chapters
    ]
    by_currency = [money(cents, currency, lang) for currency, cents in sorted(totals.by_currency.items())]
    return await render(
        request,
        "campaign_report.html",
        campaign=campaign,
        rows=rows,
        by_currency=by_currency,
        reporting=sum(1 for c in chapters if per.get(c.id, empty).entries),
        places=sum(r["places"] for r in rows),
        came=sum(r["came"] for r in rows),
    )


PROPOSAL_FIELDS = (
    "city",
    "venue",
    "starts_at",
    "ends_at",
    "time_zone",
    "hashtag",
    "currency",
    "locale",
    "capacity",
)


async def propose_submit(request: Request) -> Response:
    """Anyone signed in proposes a chapter; the start is a local date and time in its time zone."""
    posted = await signed_in_form(request)
    if isinstance(posted, Response):
        return posted
    me, form = posted
    campaign_id = _path_id(request)
    # Read longer than any field may be, so that the action's "too long" is what a person sees,
    # never a silently shortened venue.
    values = {name: field(form, name, 1000).strip() for name in PROPOSAL_FIELDS}
    try:
        zone = ZoneInfo(values["time_zone"])
        starts_at = datetime.fromisoformat(values["starts_at"]).replace(tzinfo=zone)
        ends_at = (
            datetime.fromisoformat(values["ends_at"]).replace(tzinfo=zone) if values["ends_at"] else None
        )
        capacity = int(values["capacity"]) if values["capacity"] else None
    except (ValueError, KeyError, ZoneInfoNotFoundError):
        return await campaign_page(request, gettext(request, BAD_PROPOSAL), 422, values)
    new = campaign_actions.NewChapter(
        city=values["city"],
        venue=values["venue"],
        starts_at=starts_at,
        time_zone=values["time_zone"],
        hashtag=values["hashtag"],
        currency=values["currency"],
        locale=values["locale"],
        capacity=capacity,
        ends_at=ends_at,
    )
    if campaign_id is None:
        return await not_found(request, me)
    try:
        chapter_id = await campaign_actions.propose_chapter(db_of(request), me.account.id, campaign_id, new)
    except ActionError as e:
        if e.status == 404:
            return await not_found(request, me)
        return await campaign_page(request, refusal(request, e), e.status, values)
    return redirect(f"/chapters/{chapter_id}")


async def approve_submit(request: Request) -> Response:
    posted = await signed_in_form(request)
    if isinstance(posted, Response):
        return posted
    me, _ = posted
    chapter_id = _path_id(request)
    async with db_of(request).read() as session:
        chapter = await queries.chapter_by_id(session, chapter_id) if chapter_id is not None else None
    if chapter is None:
        return await not_found(request, me)
    try:
        await campaign_actions.approve_chapter(db_of(request), me.account.id, chapter.id)
    except ActionError as e:
        return await render(request, "error.html", e.status, me=me, title=None, message=refusal(request, e))
    return redirect(f"/campaigns/{chapter.campaign_id}")


def _qr(code: str) -> Markup:
    # segno's SVG is generated from our own code text (base64url): nothing to escape.
    return Markup(segno.make(code, error="m").svg_inline(scale=5, border=2, title=code))  # noqa: S704


async def chapter_page(request: Request, error: str | None = None, status: int = 200) -> Response:
    chapter_id = _path_id(request)
    lang = choose_language(request)
    me = await current_user(request)
    async with db_of(request).read() as session:
        chapter = await queries.chapter_by_id(session, chapter_id) if chapter_id is not None else None
        if chapter is None:
            return await not_found(request, me)
        campaign = await queries.campaign_by_id(session, chapter.campaign_id)
        assert campaign is not None
        tiers = await queries.tiers_of(session, chapter.id)
        totals = await queries.chapter_totals(session, chapter.id)
        confirmed = await queries.confirmed_in_chapter(session, chapter.id)
        ticket = await queries.live_ticket_of(session, chapter.id, me.account.id) if me else None
        door = bool(me) and await queries.allowed(session, me.account.id if me else None, chapter, "door")
        organiser = await organiser_view(session, me, chapter)
        news = await queries.chapter_news(session, chapter.id)
        raffle = await queries.chapter_raffle(session, chapter.id)
        team = (await queries.chapter_organisers(session, [chapter.id]))[chapter.id]
        mine: dict[str, Any] | None = None
        if ticket is not None:
            tier = next(s.tier for s in tiers if s.tier.id == ticket.tier_id)
            paid = await queries.ticket_paid(session, ticket.id)
            code = (
                ticket_codes.make_code(settings_of(request).secret_key, chapter.id, ticket.id)
                if ticket.status == "confirmed"
                else None
            )
            mine = {
                "ticket": ticket,
                "tier": tier,
                "price": money(tier.price_cents, chapter.currency, chapter.locale),
                "owes": tier.price_cents > 0 and not paid,
                "position": await queries.waiting_position(session, ticket),
                "code": code,
                "qr": _qr(code) if code else None,
            }
    zone = ZoneInfo(chapter.time_zone)
    return await render(
        request,
        "chapter.html",
        status,
        me=me,
        campaign=campaign,
        chapter=chapter,
        when=format_datetime(chapter.starts_at, "full", tzinfo=zone, locale=lang),
        ends=format_datetime(chapter.ends_at, "short", tzinfo=zone, locale=lang) if chapter.ends_at else None,
        tiers=[
            {"state": s, "price": money(s.tier.price_cents, chapter.currency, chapter.locale)} for s in tiers
        ],
        full=chapter.capacity is not None and confirmed >= chapter.capacity,
        confirmed=confirmed,
        team=team,
        raised=money(totals.in_currency(chapter.currency), chapter.currency, chapter.locale),
        mine=mine,
        door=door,
        organiser=organiser,
        raffle=raffle,
        raffle_price=money(raffle.raffle.price_cents, chapter.currency, chapter.locale) if raffle else None,
        news=[
            {"message": m, "when": format_datetime(m.created_at, "short", tzinfo=zone, locale=lang)}
            for m in news
        ],
        error=error,
    )


async def take_submit(request: Request) -> Response:
    posted = await signed_in_form(request)
    if isinstance(posted, Response):
        return posted
    me, form = posted
    chapter_id = _path_id(request)
    tier_id = id_or_none(field(form, "tier_id", 20))
    if chapter_id is not None and tier_id is None:  # no ticket chosen (or a mangled form)
        return await chapter_page(request, gettext(request, CHOOSE_TICKET), 422)
    async with db_of(request).read() as session:
        tier = await session.get(TicketTier, tier_id) if tier_id is not None else None
    if chapter_id is None or tier is None or tier.chapter_id != chapter_id:
        return await not_found(request, me)
    try:
        await ticket_actions.take_ticket(db_of(request), me.account.id, tier.id)
    except ActionError as e:
        return await chapter_page(request, refusal(request, e), e.status)
    return redirect(f"/chapters/{chapter_id}#ticket")


async def cancel_submit(request: Request) -> Response:
    posted = await signed_in_form(request)
    if isinstance(posted, Response):
        return posted
    me, _ = posted
    chapter_id = _path_id(request)
    async with db_of(request).read() as session:
        ticket = (
            await queries.live_ticket_of(session, chapter_id, me.account.id)
            if chapter_id is not None
            else None
        )
    if ticket is None:
        return await not_found(request, me)
    try:
        await ticket_actions.cancel_ticket(db_of(request), me.account.id, ticket.id)
    except ActionError as e:
        return await chapter_page(request, refusal(request, e), e.status)
    return redirect(f"/chapters/{chapter_id}")


def chapter_calendar(settings_base: str, campaign: Campaign, chapter: Chapter) -> bytes:
    from icalendar import Calendar, Event  # here, not at start-up: ~9 MiB the server rarely needs

    calendar = Calendar()
    calendar.add("prodid", "-//Cordée//campaigns//EN")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"chapter-{chapter.id}@{settings_base.split('://', 1)[-1]}")
    event.add("summary", f"{campaign.title} — {chapter.city}")
    zone = ZoneInfo(chapter.time_zone)
    event.add("dtstart", chapter.starts_at.astimezone(zone))
    event.add("dtend", (chapter.ends_at or chapter.starts_at + timedelta(hours=4)).astimezone(zone))
    event.add("dtstamp", chapter.created_at)
    event.add("location", f"{chapter.venue}, {chapter.city}")
    event.add("description", f"#{campaign.hashtag} #{chapter.hashtag}\n{campaign.cause}".strip())
    event.add("url", f"{settings_base}/chapters/{chapter.id}")
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())


async def calendar_file(request: Request) -> Response:
    chapter_id = _path_id(request)
    async with db_of(request).read() as session:
        chapter = await queries.chapter_by_id(session, chapter_id) if chapter_id is not None else None
        campaign = await queries.campaign_by_id(session, chapter.campaign_id) if chapter else None
    if chapter is None or campaign is None:
        return await not_found(request)
    return Response(
        chapter_calendar(settings_of(request).base_url, campaign, chapter),
        media_type="text/calendar; charset=utf-8",
        headers={**PAGE_HEADERS, "Content-Disposition": f'attachment; filename="{chapter.hashtag}.ics"'},
    )
