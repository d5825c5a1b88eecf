"""``/chapters/{id}/door``: the door page for a chapter's door organisers.

The page holds the chapter's Ed25519 *public* key; ``door.js`` checks each ticket code in the
browser (WebCrypto), so the door keeps working when the venue's network does not. Scans are
queued in the browser's storage and sent to ``/chapters/{id}/door/sync`` when the network is
back; the server checks every code again and records the scans (``actions.tickets.check_in``:
idempotent per scan, a second scan of a ticket flagged).
"""

from __future__ import annotations

from datetime import datetime

import orjson
from starlette.requests import Request
from starlette.responses import Response

from cordee.actions import tickets as ticket_actions
from cordee.actions.errors import ActionError
from cordee.api.mastodon.params import id_or_none
from cordee.domain import ticket_codes
from cordee.queries import campaigns as queries
from cordee.web.app_common import me_or_sign_in, signed_in_form
from cordee.web.public_pages import not_found
from cordee.web.render import PAGE_HEADERS, SignedIn, db_of, field, render, settings_of

#: The sync form carries at most this many scans as JSON (the action's own limit is the same).
MAX_SYNC_TEXT = ticket_actions.MAX_SCANS_PER_SYNC * 400


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


async def door_page(request: Request) -> Response:
    me = await me_or_sign_in(request)
    if not isinstance(me, SignedIn):
        return me
    chapter_id = await _door_chapter(request, me)
    if chapter_id is None:
        return await not_found(request, me)
    async with db_of(request).read() as session:
        chapter = await queries.chapter_by_id(session, chapter_id)
    return await render(
        request,
        "door.html",
        me=me,
        chapter=chapter,
        public_key=ticket_codes.public_key(settings_of(request).secret_key, chapter_id),
    )


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
