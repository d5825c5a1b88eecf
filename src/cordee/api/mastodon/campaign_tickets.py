"""``/api/v1/chapters/:id/tiers``, ``/api/v1/tickets``, the door's key and check-in sync: RSVPs,
tickets and the waiting list of a chapter (a Cordée extension, docs/campaigns.md).

A ticket's code is shown only to its holder and the chapter's door organisers; someone else's
ticket answers 404, like a missing one.
"""

from __future__ import annotations

import io
from typing import Any

import segno
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response
from starlette.routing import Route

from cordee.actions import tickets as actions
from cordee.api.mastodon.base import Ctx, endpoint, json_response
from cordee.api.mastodon.campaigns import cents_param, parse_moment
from cordee.api.mastodon.errors import ApiError
from cordee.api.mastodon.serializers.common import iso
from cordee.config import Settings
from cordee.db.tables_campaigns import Chapter, Ticket, TicketTier
from cordee.domain import ticket_codes
from cordee.queries import campaigns as queries


def render_tier(state: queries.TierState, currency: str) -> dict[str, Any]:
    return {
        "id": str(state.tier.id),
        "name": state.tier.name,
        "price_cents": state.tier.price_cents,
        "currency": currency,
        "free": state.tier.price_cents == 0,
        "capacity": state.tier.capacity,
        "confirmed": state.confirmed,
        "waiting": state.waiting,
        "remaining": state.remaining,
    }


async def render_ticket(
    session: AsyncSession, settings: Settings, ticket: Ticket, tier: TicketTier, chapter: Chapter
) -> dict[str, Any]:
    paid = await queries.ticket_paid(session, ticket.id)
    checkins = await queries.check_ins_of(session, ticket.id)
    payment = None
    if tier.price_cents > 0 and not paid and ticket.status == "confirmed":
        provider = actions.PROVIDERS["offline"]
        start = provider.start(
            actions.PaymentRequest(
                ticket.id, tier.price_cents, chapter.currency, f"{chapter.city}: {tier.name}"
            )
        )
        payment = {
            "provider": provider.name,
            "checkout_url": start.checkout_url,
            "instructions": start.instructions,
        }
    live = ticket.status == "confirmed"
    return {
        "id": str(ticket.id),
        "chapter_id": str(ticket.chapter_id),
        "account_id": str(ticket.account_id),
        "tier": {
            "id": str(tier.id),
            "name": tier.name,
            "price_cents": tier.price_cents,
            "currency": chapter.currency,
        },
        "status": ticket.status,
        "waiting_position": await queries.waiting_position(session, ticket),
        "paid": paid,
        "payment": payment,
        # A code (and its QR) only for a place: a waiting ticket opens no door.
        "code": ticket_codes.make_code(settings.secret_key, ticket.chapter_id, ticket.id) if live else None,
        "qr_url": f"{settings.base_url}/api/v1/tickets/{ticket.id}/qr.svg" if live else None,
        "checked_in_at": iso(checkins[0].scanned_at) if checkins else None,
        "created_at": iso(ticket.created_at),
    }


async def _ticket_for(ctx: Ctx, session: AsyncSession, ticket_id: int) -> tuple[Ticket, TicketTier, Chapter]:
    """The ticket, for its holder or the chapter's door organisers; 404 for anyone else."""
    ticket = await queries.ticket_by_id(session, ticket_id)
    if ticket is None:
        raise ApiError(404, "Record not found")
    chapter = await queries.chapter_by_id(session, ticket.chapter_id)
    tier = await session.get(TicketTier, ticket.tier_id)
    assert chapter is not None and tier is not None
    if ticket.account_id != ctx.account_id and not await queries.allowed(
        session, ctx.account_id, chapter, "door"
    ):
        raise ApiError(404, "Record not found")
    return ticket, tier, chapter


async def _ticket_answer(ctx: Ctx, ticket_id: int) -> Response:
    async with ctx.db.read() as session:
        ticket, tier, chapter = await _ticket_for(ctx, session, ticket_id)
        return json_response(await render_ticket(session, ctx.settings, ticket, tier, chapter))


async def _chapter(session: AsyncSession, chapter_id: int) -> Chapter:
    row = await queries.chapter_by_id(session, chapter_id)
    if row is None:
        raise ApiError(404, "Record not found")
    return row


@endpoint(scope="read", auth="optional")
async def tiers(ctx: Ctx) -> Response:
    async with ctx.db.read() as session:
        chapter = await _chapter(session, ctx.path_id())
        states = await queries.tiers_of(session, chapter.id)
    return json_response([render_tier(s, chapter.currency) for s in states])


@endpoint(scope="write", auth="required")
async def create_tier(ctx: Ctx) -> Response:
    new = actions.NewTier(
        name=ctx.params.required_str("name"),
        price_cents=cents_param(ctx, "price_cents") or 0,
        capacity=ctx.params.int("capacity"),
    )
    tier_id = await actions.create_tier(ctx.db, ctx.account_id, ctx.path_id(), new)
    async with ctx.db.read() as session:
        chapter = await _chapter(session, ctx.path_id())
        state = next(s for s in await queries.tiers_of(session, chapter.id) if s.tier.id == tier_id)
    return json_response(render_tier(state, chapter.currency))


@endpoint(scope="write", auth="required")
async def take(ctx: Ctx) -> Response:
    """RSVP or take a ticket: ``tier_id``. Answers the ticket (``waiting`` when full)."""
    tier_id = ctx.params.id("tier_id")
    if tier_id is None:
        raise ApiError(422, "Validation failed: tier_id is missing")
    async with ctx.db.read() as session:
        tier = await session.get(TicketTier, tier_id)
    if tier is None or tier.chapter_id != ctx.path_id():
        raise ApiError(404, "Record not found")
    ticket_id = await actions.take_ticket(ctx.db, ctx.account_id, tier_id)
    return await _ticket_answer(ctx, ticket_id)


@endpoint(scope="read", auth="required")
async def mine(ctx: Ctx) -> Response:
    """The caller's live ticket for the chapter (404 when none)."""
    async with ctx.db.read() as session:
        ticket = await queries.live_ticket_of(session, ctx.path_id(), ctx.account_id)
    if ticket is None:
        raise ApiError(404, "Record not found")
    return await _ticket_answer(ctx, ticket.id)


@endpoint(scope="read", auth="required")
async def show(ctx: Ctx) -> Response:
    return await _ticket_answer(ctx, ctx.path_id())


@endpoint(scope="read", auth="required")
async def qr(ctx: Ctx) -> Response:
    async with ctx.db.read() as session:
        ticket, _, _ = await _ticket_for(ctx, session, ctx.path_id())
    if ticket.status != "confirmed":
        raise ApiError(404, "Record not found")
    buffer = io.BytesIO()
    code = ticket_codes.make_code(ctx.settings.secret_key, ticket.chapter_id, ticket.id)
    segno.make(code, error="m").save(buffer, kind="svg", scale=4, border=2, xmldecl=False)
    return Response(
        buffer.getvalue(), media_type="image/svg+xml", headers={"Cache-Control": "private, no-store"}
    )


@endpoint(scope="write", auth="required")
async def cancel(ctx: Ctx) -> Response:
    async with ctx.db.read() as session:
        await _ticket_for(ctx, session, ctx.path_id())
    await actions.cancel_ticket(ctx.db, ctx.account_id, ctx.path_id())
    return await _ticket_answer(ctx, ctx.path_id())


@endpoint(scope="write", auth="required")
async def pay(ctx: Ctx) -> Response:
    """A door organiser records that the ticket was paid (``provider``: ``offline``)."""
    async with ctx.db.read() as session:
        await _ticket_for(ctx, session, ctx.path_id())
    await actions.record_payment(
        ctx.db, ctx.account_id, ctx.path_id(), ctx.params.str("provider", "offline") or ""
    )
    return await _ticket_answer(ctx, ctx.path_id())


@endpoint(scope="read", auth="optional")
async def door_key(ctx: Ctx) -> Response:
    """The chapter's public key: all a door phone needs to check codes without a network."""
    async with ctx.db.read() as session:
        chapter = await _chapter(session, ctx.path_id())
    return json_response(
        {
            "chapter_id": str(chapter.id),
            "algorithm": "Ed25519",
            "public_key": ticket_codes.public_key(ctx.settings.secret_key, chapter.id),
            "code_prefix": ticket_codes.PREFIX,
        }
    )


@endpoint(scope="write", auth="required")
async def sync_checkins(ctx: Ctx) -> Response:
    """The door's scans: ``scans[]`` of ``{code, scan_key, scanned_at}``; one result per scan."""
    scans = []
    for raw in ctx.params.records("scans"):
        code, key, at = raw.get("code"), raw.get("scan_key"), raw.get("scanned_at")
        if not (isinstance(code, str) and isinstance(key, str) and isinstance(at, str)):
            raise ApiError(422, "Validation failed: each scan needs code, scan_key and scanned_at")
        scans.append(actions.Scan(code[:300], key, parse_moment(at, "scanned_at")))
    if not scans:
        raise ApiError(422, "Validation failed: scans is missing")
    results = await actions.check_in(ctx.db, ctx.settings, ctx.account_id, ctx.path_id(), scans)
    return json_response(
        [
            {
                "scan_key": r.scan_key,
                "result": r.result,
                "ticket_id": str(r.ticket_id) if r.ticket_id is not None else None,
                "unpaid": r.unpaid,
                "replayed": r.replayed,
            }
            for r in results
        ]
    )


routes = [
    Route("/api/v1/chapters/{id}/tiers", tiers, methods=["GET"]),
    Route("/api/v1/chapters/{id}/tiers", create_tier, methods=["POST"]),
    Route("/api/v1/chapters/{id}/tickets", take, methods=["POST"]),
    Route("/api/v1/chapters/{id}/tickets/mine", mine, methods=["GET"]),
    Route("/api/v1/chapters/{id}/door_key", door_key, methods=["GET"]),
    Route("/api/v1/chapters/{id}/checkins", sync_checkins, methods=["POST"]),
    Route("/api/v1/tickets/{id}", show, methods=["GET"]),
    Route("/api/v1/tickets/{id}/qr.svg", qr, methods=["GET"]),
    Route("/api/v1/tickets/{id}/cancel", cancel, methods=["POST"]),
    Route("/api/v1/tickets/{id}/payment", pay, methods=["POST"]),
]
