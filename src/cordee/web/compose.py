"""The compose box: on ``/home`` and on ``/compose`` (``?in_reply_to=`` for a reply). It posts through
``actions.statuses.post_status``, the action behind ``POST /api/v1/statuses``; on bad input the page
comes back with the text still in the box and a readable message.

``POST /web/count`` answers the box's counter with ``actions.statuses.counted_length``, the number
the server checks: the page never re-implements the counting rules, it only estimates between two
answers (static/compose.js)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from cordee.actions import statuses as status_actions
from cordee.actions.errors import ActionError
from cordee.api.mastodon.params import id_or_none
from cordee.queries.personal import posting_defaults
from cordee.queries.statuses import visible_status
from cordee.queries.visibility import VISIBILITIES
from cordee.rendering.statuses import render_status
from cordee.web.app_common import me_or_sign_in
from cordee.web.i18n import N_
from cordee.web.pages import EXPIRED
from cordee.web.render import (
    PAGE_HEADERS,
    SignedIn,
    csrf_ok,
    db_of,
    gettext,
    redirect,
    render,
    safe_next,
    settings_of,
)
from cordee.web.render import (
    field as form_field,
)

FLASHES = {"posted": N_("Your note is published.")}
VISIBILITY_LABELS = {
    "public": N_("Public"),
    "unlisted": N_("Unlisted (public, kept out of public timelines)"),
    "private": N_("Followers only"),
    "direct": N_("Mentioned people only"),
}
TOO_LONG = N_(
    "Your note is too long: %(count)d characters for a limit of %(limit)d. Shorten it and try again."
)
BLANK = N_("Your note is empty: write something first.")
GONE = N_("The note you are replying to is no longer available.")
OTHER = N_("Your note could not be published: %(reason)s")
#: The longest text the box accepts at all (the action then applies the real limit).
MAX_FIELD = 100_000


@dataclass
class ComposeForm:
    text: str = ""
    spoiler_text: str = ""
    visibility: str = "public"
    in_reply_to: dict[str, Any] | None = None
    error: str | None = None
    count: int = 0
    choices: list[tuple[str, str]] = field(default_factory=list)


def _choices(request: Request) -> list[tuple[str, str]]:
    return [(v, gettext(request, VISIBILITY_LABELS[v])) for v in VISIBILITIES if v in VISIBILITY_LABELS]


async def blank_form(request: Request, me: SignedIn, reply_to_id: int | None = None) -> ComposeForm:
    """An empty box with the author's default visibility (or, for a reply, the note's, at most)."""
    db = db_of(request)
    visibility, _, _ = await posting_defaults(db.hot, me.account.id)
    form = ComposeForm(visibility=visibility, choices=_choices(request))
    if reply_to_id is not None:
        form.in_reply_to = await _reply_target(request, me, reply_to_id)
        if form.in_reply_to is not None:
            target = form.in_reply_to
            order = list(VISIBILITIES)
            if order.index(target["visibility"]) > order.index(form.visibility):
                form.visibility = target["visibility"]
            mentions = [target["account"]["acct"]] + [m["acct"] for m in target["mentions"]]
            mine = me.account.username
            form.text = "".join(f"@{a} " for a in dict.fromkeys(mentions) if a != mine)
    form.count = status_actions.counted_length(settings_of(request), form.text, form.spoiler_text)
    return form


async def _reply_target(request: Request, me: SignedIn, status_id: int) -> dict[str, Any] | None:
    async with db_of(request).read() as session:
        status = await visible_status(session, me.account.id, status_id)
        if status is None:
            return None
        return await render_status(session, settings_of(request), me.account.id, status)


async def compose_page(request: Request) -> Response:
    me = await me_or_sign_in(request)
    if not isinstance(me, SignedIn):
        return me
    reply_to = id_or_none(request.query_params.get("in_reply_to") or "")
    form = await blank_form(request, me, reply_to)
    if reply_to is not None and form.in_reply_to is None:
        form.error = gettext(request, GONE)
    return await render(request, "compose.html", me=me, form=form)


def _readable(request: Request, error: ActionError, count: int, limit: int) -> str:
    """The action's message, in the reader's language for the usual cases."""
    if "character limit" in error.message:
        return gettext(request, TOO_LONG) % {"count": count, "limit": limit}
    if "can't be blank" in error.message:
        return gettext(request, BLANK)
    if error.status == 404:
        return gettext(request, GONE)
    return gettext(request, OTHER) % {"reason": error.message}


async def compose_submit(request: Request) -> Response:
    me = await me_or_sign_in(request)
    if not isinstance(me, SignedIn):
        return me
    form_data = await request.form()
    settings = settings_of(request)
    form = ComposeForm(
        text=form_field(form_data, "status", MAX_FIELD),
        spoiler_text=form_field(form_data, "spoiler_text", MAX_FIELD),
        visibility=form_field(form_data, "visibility", 20),
        choices=_choices(request),
    )
    reply_to = id_or_none(form_field(form_data, "in_reply_to_id", 30))
    if reply_to is not None:
        form.in_reply_to = await _reply_target(request, me, reply_to)
    form.count = status_actions.counted_length(settings, form.text, form.spoiler_text)
    if not csrf_ok(request, form_data):  # keep the text: only the token was stale
        form.error = gettext(request, EXPIRED)
        return await render(request, "compose.html", status=403, me=me, form=form)
    new = status_actions.NewStatus(
        text=form.text,
        visibility=form.visibility if form.visibility in VISIBILITIES else "public",
        in_reply_to_id=reply_to,
        spoiler_text=form.spoiler_text.strip(),
        sensitive=bool(form.spoiler_text.strip()),
    )
    try:
        status_id = await status_actions.post_status(db_of(request), settings, me.account.id, new)
    except ActionError as e:
        form.error = _readable(request, e, form.count, settings.max_characters)
        return await render(request, "compose.html", status=422, me=me, form=form)
    request.session["flash"] = "posted"
    target = safe_next(form_field(form_data, "next", 500), "/home")
    return redirect(f"{target}#note-{status_id}" if target.startswith("/home") else target)


async def count(request: Request) -> Response:
    """``{"count": n, "limit": max}`` for a draft: the server's own count, for the page's counter."""
    me = await me_or_sign_in(request)
    if not isinstance(me, SignedIn):
        return me
    form_data = await request.form()
    if not csrf_ok(request, form_data):
        return Response(status_code=403, headers=PAGE_HEADERS)
    settings = settings_of(request)
    used = status_actions.counted_length(
        settings, form_field(form_data, "status", MAX_FIELD), form_field(form_data, "spoiler_text", MAX_FIELD)
    )
    body = orjson.dumps({"count": used, "limit": settings.max_characters})
    return Response(body, media_type="application/json", headers=PAGE_HEADERS)
