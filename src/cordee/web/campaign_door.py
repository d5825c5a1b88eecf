"""``/chapters/{id}/door``: the door page for a chapter's door organisers.

The page holds the chapter's Ed25519 *public* key; ``door.js`` checks each ticket code in the
browser (WebCrypto), so the door keeps working when the venue's network does not. Scans are
queued in the browser's storage and sent to ``/chapters/{id}/door/sync`` when the network is
back; the server checks every code again and records the scans (``actions.tickets.check_in``:
idempotent per scan, a second scan of a ticket flagged).

Two forms on the page need the network: a payment at the door (the ticket's code, then
``actions.tickets.record_payment`` with the built-in ``offline`` provider) and raffle sales
(``actions.raffle.sell``, which answers the numbers to write on the stubs).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from cordee.actions import raffle as raffle_actions
from cordee.actions import tickets as ticket_actions
from cordee.actions.errors import ActionError
from cordee.api.mastodon.params import id_or_none
from cordee.db.tables_campaigns import Raffle
from cordee.domain import ticket_codes
from cordee.queries import campaigns as queries
from cordee.rendering.money import money
from cordee.web.app_common import me_or_sign_in, signed_in_form
from cordee.web.campaign_organiser import BAD_NUMBER
from cordee.web.campaign_refusals import refusal
from cordee.web.i18n import N_
from cordee.web.public_pages import not_found
from cordee.web.render import PAGE_HEADERS, SignedIn, db_of, field, gettext, redirect, render, settings_of

#: The sync form carries at most this many scans as JSON (the action's own limit is the same).
MAX_SYNC_TEXT = ticket_actions.MAX_SCANS_PER_SYNC * 400
NOT_A_TICKET = N_("Not a valid ticket for this event.")
PAID = N_("Payment recorded in the ledger.")
NOTICE = "door_notice"
SOLD = N_("Sold: tickets %(numbers)s. Write these numbers on the stubs.")


async def _door_chapter(request: Request, me: SignedIn) -> int | None:
    """The chapter's id if ``me`` may work its door; None otherwise (the same 404 for both)."""
    chapter_id = id_or_none(str(request.path_params["id"]))
    if chapter_id is None:
        return None
    async with db_of(request).read() as session:
        chapter = await queries.chapter_by_id(session, chapter_id)
        if chapter is None or not await queries.allowed(session, me.account.id, chapter, "door"):
            return None
    return chapter.id


async def door_page(
    request: Request, notice: str | None = None, error: str | None = None, status: int = 200
) -> Response:
    me = await me_or_sign_in(request)
    if not isinstance(me, SignedIn):
        return me
    chapter_id = await _door_chapter(request, me)
    if chapter_id is None:
        return await not_found(request, me)
    async with db_of(request).read() as session:
        chapter = await queries.chapter_by_id(session, chapter_id)
        raffle = await session.scalar(select(Raffle).where(Raffle.chapter_id == chapter_id))
    assert chapter is not None
    return await render(
        request,
        "door.html",
        status,
        me=me,
        chapter=chapter,
        public_key=ticket_codes.public_key(settings_of(request).secret_key, chapter_id),
        raffle=raffle,
        raffle_price=money(raffle.price_cents, chapter.currency, chapter.locale) if raffle else None,
        notice=notice or request.session.pop(NOTICE, None),
        error=error,
    )


async def _door_form(request: Request) -> tuple[SignedIn, int, Any] | Response:
    posted = await signed_in_form(request)
    if isinstance(posted, Response):
        return posted
    me, form = posted
    chapter_id = await _door_chapter(request, me)
    if chapter_id is None:
        return await not_found(request, me)
    return me, chapter_id, form


def _done(request: Request, chapter_id: int, notice: str, anchor: str) -> Response:
    """Back to the door page, which shows ``notice`` once: a reload must not sell again."""
    request.session[NOTICE] = notice
    return redirect(f"/chapters/{chapter_id}/door#{anchor}")


async def payment_submit(request: Request) -> Response:
    """A paid tier's price received at the door: the ticket is named by its code (scanned or
    typed), checked with the chapter's key like at the door."""
    posted = await _door_form(request)
    if isinstance(posted, Response):
        return posted
    me, chapter_id, form = posted
    key = ticket_codes.public_key(settings_of(request).secret_key, chapter_id)
    ref = ticket_codes.read_code(key, field(form, "code", 300))
    if ref is None or ref.chapter_id != chapter_id:
        return await door_page(request, error=gettext(request, NOT_A_TICKET), status=422)
    try:
        await ticket_actions.record_payment(db_of(request), me.account.id, ref.ticket_id, "offline")
    except ActionError as e:
        if e.status == 404:  # a code signed for a ticket that no longer exists
            return await door_page(request, error=gettext(request, NOT_A_TICKET), status=422)
        return await door_page(request, error=refusal(request, e), status=e.status)
    return _done(request, chapter_id, gettext(request, PAID), "payment")


async def raffle_sale_submit(request: Request) -> Response:
    posted = await _door_form(request)
    if isinstance(posted, Response):
        return posted
    me, chapter_id, form = posted
    async with db_of(request).read() as session:
        raffle_id = await session.scalar(select(Raffle.id).where(Raffle.chapter_id == chapter_id))
    count = field(form, "count", 10).strip()
    if raffle_id is None:
        return await not_found(request, me)
    if not re.fullmatch(r"\d{1,4}", count):
        return await door_page(request, error=gettext(request, BAD_NUMBER), status=422)
    try:
        numbers = await raffle_actions.sell(
            db_of(request), me.account.id, raffle_id, field(form, "holder", 200), int(count)
        )
    except ActionError as e:
        return await door_page(request, error=refusal(request, e), status=e.status)
    sold = gettext(request, SOLD) % {"numbers": ", ".join(str(n) for n in numbers)}
    return _done(request, chapter_id, sold, "raffle")


def _json(data: object, status: int = 200) -> Response:
    return Response(
        orjson.dumps(data), status_code=status, media_type="application/json", headers=PAGE_HEADERS
    )


async def door_sync(request: Request) -> Response:
    """The queued scans (form field ``scans``: a JSON list of ``{code, scan_key, scanned_at}``)."""
    posted = await signed_in_form(request)
    if isinstance(posted, Response):
        return posted
    me, form = posted
    chapter_id = await _door_chapter(request, me)
    if chapter_id is None:
        return _json({"error": "Record not found"}, 404)
    try:
        raw = orjson.loads(field(form, "scans", MAX_SYNC_TEXT) or "[]")
        scans = [
            ticket_actions.Scan(
                str(s["code"])[:300], str(s["scan_key"]), datetime.fromisoformat(s["scanned_at"])
            )
            for s in raw
        ]
    except (orjson.JSONDecodeError, TypeError, KeyError, ValueError):
        return _json({"error": "scans must be a list of {code, scan_key, scanned_at}"}, 422)
    try:
        results = await ticket_actions.check_in(
            db_of(request), settings_of(request), me.account.id, chapter_id, scans
        )
    except ActionError as e:
        return _json({"error": e.message}, e.status)
    return _json(
        [
            {"scan_key": r.scan_key, "result": r.result, "unpaid": r.unpaid, "replayed": r.replayed}
            for r in results
        ]
    )
