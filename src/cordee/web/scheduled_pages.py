"""The reader's scheduled notes: ``/scheduled`` lists them (the query of
``GET /api/v1/scheduled_statuses``, rendered by its serializer) with their time in the reader's zone,
and ``POST /scheduled/{id}/cancel`` drops one through ``actions.scheduled_statuses.cancel``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from cordee.actions import scheduled_statuses as scheduled_actions
from cordee.actions.errors import ActionError, NotFound
from cordee.api.mastodon.params import id_or_none
from cordee.api.mastodon.serializers.scheduled_statuses import render_scheduled_statuses
from cordee.db.tables_personal import ScheduledStatus
from cordee.web.app_common import me_or_sign_in, signed_in_form
from cordee.web.compose import remembered_zone
from cordee.web.compose_extras import zone_or_utc
from cordee.web.i18n import N_
from cordee.web.render import SignedIn, db_of, gettext, redirect, render, settings_of

FLASHES = {
    "scheduled": N_("Your note is scheduled."),
    "cancelled": N_("The scheduled note is cancelled."),
}
GONE = N_("This scheduled note no longer exists: it was published or cancelled.")
#: Mastodon's limit per account: every scheduled note fits on one page.
LIMIT = scheduled_actions.TOTAL_LIMIT


async def scheduled_page(request: Request) -> Response:
    me = await me_or_sign_in(request)
    if not isinstance(me, SignedIn):
        return me
    zone = zone_or_utc(remembered_zone(request) or "UTC")
    query = (
        select(ScheduledStatus)
        .where(ScheduledStatus.account_id == me.account.id)
        .order_by(ScheduledStatus.scheduled_at, ScheduledStatus.id)
        .limit(LIMIT)
    )
    async with db_of(request).read() as session:
        rows = list(await session.scalars(query))
        items = await render_scheduled_statuses(session, settings_of(request), rows)
    for item in items:
        moment = datetime.fromisoformat(item["scheduled_at"].replace("Z", "+00:00")).astimezone(zone)
        item["local_time"] = moment.strftime("%Y-%m-%d %H:%M")
    flash = request.session.pop("flash", None)
    message = gettext(request, FLASHES[flash]) if isinstance(flash, str) and flash in FLASHES else None
    return await render(request, "scheduled.html", me=me, items=items, zone=zone.key, flash=message)


async def cancel_submit(request: Request) -> Response:
    checked = await signed_in_form(request)
    if not isinstance(checked, tuple):
        return checked
    me, _ = checked
    scheduled_id = id_or_none(str(request.path_params["id"]))
    try:
        if scheduled_id is None:
            raise NotFound()
        await scheduled_actions.cancel(db_of(request), me.account.id, scheduled_id)
    except ActionError:
        return await render(request, "error.html", 404, me=me, title=None, message=gettext(request, GONE))
    request.session["flash"] = "cancelled"
    return redirect("/scheduled")
