"""``/api/v1/campaigns``, ``/api/v1/chapters``, ``/api/v1/ledger_entries``: campaigns, their
chapters, the donation ledger and its totals (a Cordée extension, docs/campaigns.md).

Amounts are whole numbers of the currency's minor unit (``*_cents``) and are parsed strictly: a
Mastodon-style ``to_i`` would read "12.50" as 12, which for money is a silent loss.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response
from starlette.routing import Route

from cordee.actions import campaigns as actions
from cordee.actions import ledger
from cordee.actions import wall as wall_actions
from cordee.api.mastodon.base import Ctx, endpoint, json_response
from cordee.api.mastodon.errors import ApiError
from cordee.api.mastodon.pagination import Page, paged_headers
from cordee.api.mastodon.serializers.accounts import render_account
from cordee.api.mastodon.serializers.common import iso
from cordee.config import Settings
from cordee.db.tables import Account
from cordee.db.tables_campaigns import Campaign, Chapter, LedgerEntry
from cordee.queries import campaigns as queries
from cordee.rendering.ledger_csv import decimal_amount, ledger_csv

_CENTS = re.compile(r"^-?\d{1,15}$")


def cents_param(ctx: Ctx, name: str, *, required: bool = True) -> int | None:
    """A whole number of cents: a JSON integer or a text of digits; anything else is a 422."""
    value = ctx.params.raw(name)
    if value is None or value == "":
        if required:
            raise ApiError(422, f"Validation failed: {name} is missing")
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _CENTS.match(value.strip()):
        return int(value.strip())
    raise ApiError(422, f"Validation failed: {name} must be a whole number of cents")


def moment_param(ctx: Ctx, name: str, *, required: bool = True) -> datetime | None:
    text = ctx.params.str(name, max_length=40)
    if not text:
        if required:
            raise ApiError(422, f"Validation failed: {name} is missing")
        return None
    return parse_moment(text, name)


def parse_moment(text: str, name: str) -> datetime:
    """An ISO 8601 instant; one without its UTC offset is ambiguous and refused."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ApiError(422, f"Validation failed: {name} must be an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise ApiError(422, f"Validation failed: {name} must carry its UTC offset (or Z)")
    return moment


def render_totals(totals: queries.Totals, currency: str) -> dict[str, Any]:
    return {
        "currency": currency,
        "raised_cents": totals.in_currency(currency),
        "by_currency": totals.by_currency,
        "entries": totals.entries,
    }


def render_campaign(
    settings: Settings, row: Campaign, totals: queries.Totals, organisers: list[Account]
) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "title": row.title,
        "hashtag": row.hashtag,
        "cause": row.cause,
        "goal_cents": row.goal_cents,
        "currency": row.currency,
        "totals": render_totals(totals, row.currency),
        "organisers": [render_account(settings, a) for a in organisers],
        "url": f"{settings.base_url}/campaigns/{row.id}",
        "created_at": iso(row.created_at),
    }


def render_chapter(
    settings: Settings, row: Chapter, totals: queries.Totals, organisers: list[tuple[Account, str]]
) -> dict[str, Any]:
    zone = ZoneInfo(row.time_zone)
    return {
        "id": str(row.id),
        "campaign_id": str(row.campaign_id),
        "city": row.city,
        "venue": row.venue,
        "starts_at": iso(row.starts_at),
        "ends_at": iso(row.ends_at),
        "time_zone": row.time_zone,
        "local_starts_at": row.starts_at.astimezone(zone).isoformat(),
        "capacity": row.capacity,
        "hashtag": row.hashtag,
        "currency": row.currency,
        "locale": row.locale,
        "status": row.status,
        "wall_moderation": row.wall_moderation,
        "organisers": [{"role": role, "account": render_account(settings, a)} for a, role in organisers],
        "totals": render_totals(totals, row.currency),
        "url": f"{settings.base_url}/chapters/{row.id}",
        "created_at": iso(row.created_at),
    }


def render_entry(row: LedgerEntry) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "campaign_id": str(row.campaign_id),
        "chapter_id": str(row.chapter_id),
        "kind": row.kind,
        "amount_cents": row.amount_cents,
        "amount": decimal_amount(row.amount_cents, row.currency),
        "currency": row.currency,
        "corrects_id": str(row.corrects_id) if row.corrects_id is not None else None,
        "ticket_id": str(row.ticket_id) if row.ticket_id is not None else None,
        "provider": row.provider,
        "note": row.note,
        "recorded_by": str(row.recorded_by) if row.recorded_by is not None else None,
        "recorded_at": iso(row.recorded_at),
    }


async def _campaign_body(ctx: Ctx, session: AsyncSession, campaign_id: int) -> dict[str, Any]:
    row = await queries.campaign_by_id(session, campaign_id)
    if row is None:
        raise ApiError(404, "Record not found")
    totals = await queries.campaign_totals(session, row.id)
    organisers = list(await queries.campaign_organisers(session, row.id))
    return render_campaign(ctx.settings, row, totals, organisers)


async def _chapters_body(ctx: Ctx, session: AsyncSession, rows: list[Chapter]) -> list[dict[str, Any]]:
    if not rows:
        return []
    organisers = await queries.chapter_organisers(session, [r.id for r in rows])
    if len(rows) == 1:
        per = {rows[0].id: await queries.chapter_totals(session, rows[0].id)}
    else:  # one grouped statement for the whole list
        per = await queries.totals_per_chapter(session, rows[0].campaign_id)
    empty = queries.Totals({}, 0)
    return [render_chapter(ctx.settings, r, per.get(r.id, empty), organisers[r.id]) for r in rows]


async def _chapter(session: AsyncSession, chapter_id: int) -> Chapter:
    row = await queries.chapter_by_id(session, chapter_id)
    if row is None:
        raise ApiError(404, "Record not found")
    return row


# --- campaigns ----------------------------------------------------------------------------------


@endpoint(scope="write", auth="required")
async def create(ctx: Ctx) -> Response:
    p = ctx.params
    new = actions.NewCampaign(
        title=p.required_str("title"),
        hashtag=p.required_str("hashtag"),
        cause=p.str("cause", "", max_length=5000) or "",
        goal_cents=cents_param(ctx, "goal_cents") or 0,
        currency=p.required_str("currency"),
    )
    campaign_id = await actions.create_campaign(ctx.db, ctx.account_id, new)
    async with ctx.db.read() as session:
        return json_response(await _campaign_body(ctx, session, campaign_id))


@endpoint(scope="read", auth="optional")
async def show(ctx: Ctx) -> Response:
    async with ctx.db.read() as session:
        return json_response(await _campaign_body(ctx, session, ctx.path_id()))


@endpoint(scope="write", auth="required")
async def add_organiser(ctx: Ctx) -> Response:
    account_id = ctx.params.id("account_id")
    if account_id is None:
        raise ApiError(422, "Validation failed: account_id is missing")
    await actions.add_campaign_organiser(ctx.db, ctx.account_id, ctx.path_id(), account_id)
    async with ctx.db.read() as session:
        return json_response(await _campaign_body(ctx, session, ctx.path_id()))


@endpoint(scope="read", auth="optional")
async def chapters(ctx: Ctx) -> Response:
    """Approved chapters by city; ``?status=proposed`` lists those waiting for approval."""
    status = ctx.params.str("status", "approved")
    if status not in ("approved", "proposed"):
        raise ApiError(422, "Validation failed: status must be approved or proposed")
    async with ctx.db.read() as session:
        if await queries.campaign_by_id(session, ctx.path_id()) is None:
            raise ApiError(404, "Record not found")
        rows = [
            r
            for r in await queries.chapters_of(session, ctx.path_id(), approved_only=False)
            if r.status == status
        ]
        return json_response(await _chapters_body(ctx, session, rows))


@endpoint(scope="write", auth="required")
async def propose(ctx: Ctx) -> Response:
    p = ctx.params
    starts_at = moment_param(ctx, "starts_at")
    assert starts_at is not None
    new = actions.NewChapter(
        city=p.required_str("city"),
        venue=p.required_str("venue"),
        starts_at=starts_at,
        ends_at=moment_param(ctx, "ends_at", required=False),
        time_zone=p.required_str("time_zone"),
        hashtag=p.required_str("hashtag"),
        currency=p.required_str("currency"),
        locale=p.str("locale", "en") or "en",
        capacity=p.int("capacity"),
    )
    chapter_id = await actions.propose_chapter(ctx.db, ctx.account_id, ctx.path_id(), new)
    async with ctx.db.read() as session:
        return json_response((await _chapters_body(ctx, session, [await _chapter(session, chapter_id)]))[0])


@endpoint(scope="read", auth="optional")
async def campaign_totals(ctx: Ctx) -> Response:
    async with ctx.db.read() as session:
        row = await queries.campaign_by_id(session, ctx.path_id())
        if row is None:
            raise ApiError(404, "Record not found")
        totals = await queries.campaign_totals(session, row.id)
    return json_response({**render_totals(totals, row.currency), "goal_cents": row.goal_cents})


# --- chapters -----------------------------------------------------------------------------------


@endpoint(scope="read", auth="optional")
async def chapter(ctx: Ctx) -> Response:
    async with ctx.db.read() as session:
        return json_response(
            (await _chapters_body(ctx, session, [await _chapter(session, ctx.path_id())]))[0]
        )


@endpoint(scope="write", auth="required")
async def approve(ctx: Ctx) -> Response:
    await actions.approve_chapter(ctx.db, ctx.account_id, ctx.path_id())
    async with ctx.db.read() as session:
        return json_response(
            (await _chapters_body(ctx, session, [await _chapter(session, ctx.path_id())]))[0]
        )


@endpoint(scope="write", auth="required")
async def set_organiser(ctx: Ctx) -> Response:
    account_id = ctx.params.id("account_id")
    if account_id is None:
        raise ApiError(422, "Validation failed: account_id is missing")
    role = ctx.params.required_str("role")
    await actions.set_chapter_organiser(ctx.db, ctx.account_id, ctx.path_id(), account_id, role)
    async with ctx.db.read() as session:
        return json_response(
            (await _chapters_body(ctx, session, [await _chapter(session, ctx.path_id())]))[0]
        )


@endpoint(scope="write", auth="required")
async def remove_organiser(ctx: Ctx) -> Response:
    chapter_id = ctx.path_id()
    await actions.set_chapter_organiser(ctx.db, ctx.account_id, chapter_id, ctx.path_id("account_id"), None)
    async with ctx.db.read() as session:
        return json_response((await _chapters_body(ctx, session, [await _chapter(session, chapter_id)]))[0])


@endpoint(scope="read", auth="optional")
async def chapter_totals(ctx: Ctx) -> Response:
    async with ctx.db.read() as session:
        row = await _chapter(session, ctx.path_id())
        totals = await queries.chapter_totals(session, row.id)
    return json_response(render_totals(totals, row.currency))


# --- the ledger ---------------------------------------------------------------------------------


async def _may_read_ledger(ctx: Ctx, session: AsyncSession, row: Chapter) -> None:
    """Totals are public; the entries (who recorded what, notes) are for the chapter's treasurers
    and leads and the campaign's organisers."""
    if not await queries.allowed(session, ctx.viewer_id, row, "ledger"):
        raise ApiError(403, "The ledger's entries are for the chapter's organisers")


@endpoint(scope="read", auth="required")
async def entries(ctx: Ctx) -> Response:
    page = Page.from_params(ctx.params, default=40, maximum=200)
    async with ctx.db.read() as session:
        row = await _chapter(session, ctx.path_id())
        await _may_read_ledger(ctx, session, row)
        rows = page.arrange(
            list(await session.scalars(page.apply(queries.entries_query(chapter_id=row.id), LedgerEntry.id)))
        )
    return json_response(
        [render_entry(r) for r in rows],
        headers=paged_headers(ctx.request, [r.id for r in rows], page, ctx.settings.base_url),
    )


@endpoint(scope="write", auth="required")
async def record(ctx: Ctx) -> Response:
    new = ledger.NewEntry(
        kind=ctx.params.required_str("kind"),
        amount_cents=cents_param(ctx, "amount_cents") or 0,
        currency=ctx.params.required_str("currency"),
        note=ctx.params.str("note", "", max_length=500) or "",
    )
    entry_id = await ledger.record_entry(ctx.db, ctx.account_id, ctx.path_id(), new)
    return await _entry_answer(ctx, entry_id)


@endpoint(scope="write", auth="required")
async def correct(ctx: Ctx) -> Response:
    amount = cents_param(ctx, "amount_cents")
    assert amount is not None
    entry_id = await ledger.correct_entry(
        ctx.db, ctx.account_id, ctx.path_id(), amount, ctx.params.str("note", "", max_length=500) or ""
    )
    return await _entry_answer(ctx, entry_id)


async def _entry_answer(ctx: Ctx, entry_id: int) -> Response:
    async with ctx.db.read() as session:
        row = await queries.entry_by_id(session, entry_id)
    assert row is not None
    return json_response(render_entry(row))


async def _decide(ctx: Ctx, decision: str) -> Response:
    status_id = ctx.params.id("status_id")
    if status_id is None:
        raise ApiError(422, "Validation failed: status_id is missing")
    await wall_actions.decide(ctx.db, ctx.account_id, ctx.path_id(), status_id, decision)
    return json_response({})


@endpoint(scope="write", auth="required")
async def hide_from_wall(ctx: Ctx) -> Response:
    """Take ``status_id`` off the chapter's live wall (any of the chapter's organisers)."""
    return await _decide(ctx, "hidden")


@endpoint(scope="write", auth="required")
async def approve_for_wall(ctx: Ctx) -> Response:
    """Let ``status_id`` onto a wall moderated before notes show."""
    return await _decide(ctx, "approved")


@endpoint(scope="write", auth="required")
async def wall_moderation(ctx: Ctx) -> Response:
    """``moderation``: ``after`` (notes show at once) or ``before`` (they wait for approval)."""
    await wall_actions.set_moderation(
        ctx.db, ctx.account_id, ctx.path_id(), ctx.params.required_str("moderation")
    )
    async with ctx.db.read() as session:
        return json_response(
            (await _chapters_body(ctx, session, [await _chapter(session, ctx.path_id())]))[0]
        )


# --- CSV exports (rendering/ledger_csv.py) --------------------------------------------------------


def _csv(text: str, filename: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@endpoint(scope="read", auth="required")
async def chapter_csv(ctx: Ctx) -> Response:
    async with ctx.db.read() as session:
        row = await _chapter(session, ctx.path_id())
        await _may_read_ledger(ctx, session, row)
        text = await ledger_csv(session, LedgerEntry.chapter_id == row.id)
    return _csv(text, f"ledger-{row.hashtag}.csv")


@endpoint(scope="read", auth="required")
async def campaign_csv(ctx: Ctx) -> Response:
    async with ctx.db.read() as session:
        row = await queries.campaign_by_id(session, ctx.path_id())
        if row is None:
            raise ApiError(404, "Record not found")
        if not await queries.is_campaign_organiser(session, row.id, ctx.account_id):
            raise ApiError(403, "The campaign's ledger is for its organisers")
        text = await ledger_csv(session, LedgerEntry.campaign_id == row.id)
    return _csv(text, f"ledger-{row.hashtag}.csv")


routes = [
    Route("/api/v1/campaigns", create, methods=["POST"]),
    Route("/api/v1/campaigns/{id}", show, methods=["GET"]),
    Route("/api/v1/campaigns/{id}/organisers", add_organiser, methods=["POST"]),
    Route("/api/v1/campaigns/{id}/chapters", chapters, methods=["GET"]),
    Route("/api/v1/campaigns/{id}/chapters", propose, methods=["POST"]),
    Route("/api/v1/campaigns/{id}/totals", campaign_totals, methods=["GET"]),
    Route("/api/v1/campaigns/{id}/ledger.csv", campaign_csv, methods=["GET"]),
    Route("/api/v1/chapters/{id}", chapter, methods=["GET"]),
    Route("/api/v1/chapters/{id}/approve", approve, methods=["POST"]),
    Route("/api/v1/chapters/{id}/organisers", set_organiser, methods=["POST"]),
    Route("/api/v1/chapters/{id}/organisers/{account_id}", remove_organiser, methods=["DELETE"]),
    Route("/api/v1/chapters/{id}/totals", chapter_totals, methods=["GET"]),
    Route("/api/v1/chapters/{id}/ledger", entries, methods=["GET"]),
    Route("/api/v1/chapters/{id}/ledger", record, methods=["POST"]),
    Route("/api/v1/chapters/{id}/ledger.csv", chapter_csv, methods=["GET"]),
    Route("/api/v1/ledger_entries/{id}/corrections", correct, methods=["POST"]),
    Route("/api/v1/chapters/{id}/wall/hidden", hide_from_wall, methods=["POST"]),
    Route("/api/v1/chapters/{id}/wall/approved", approve_for_wall, methods=["POST"]),
    Route("/api/v1/chapters/{id}/wall_moderation", wall_moderation, methods=["POST"]),
]
