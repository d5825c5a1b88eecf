"""The compose box: on ``/home`` and on ``/compose`` (``?in_reply_to=`` for a reply). It posts through
``actions.statuses.post_status`` (or ``actions.scheduled_statuses.schedule_status`` for a note
published later), the actions behind ``POST /api/v1/statuses``; polls and up to four images with
their alt texts come from ``compose_extras``. On bad input the page comes back with what was typed
still in the box and a readable message, and nothing is stored.

``POST /web/count`` answers the box's counter with ``actions.statuses.counted_length``, the number
the server checks: the page never re-implements the counting rules, it only estimates between two
answers (static/compose.js)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from cordee.actions import scheduled_statuses as scheduled_actions
from cordee.actions import statuses as status_actions
from cordee.actions.errors import ActionError
from cordee.actions.media import check_media_ids
from cordee.actions.polls import MAX_CHARACTERS_PER_OPTION, NewPoll, check_poll
from cordee.api.mastodon.params import id_or_none
from cordee.queries.personal import posting_defaults
from cordee.queries.statuses import visible_status
from cordee.queries.visibility import VISIBILITIES
from cordee.rendering.statuses import render_status
from cordee.web.app_common import me_or_sign_in
from cordee.web.compose_extras import (
    POLL_DURATIONS,
    Extras,
    Refused,
    forget_images,
    poll_of,
    read_extras,
    scheduled_at_of,
    store_images,
    uploads,
)
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
POLL_OPTIONS = N_("A poll needs at least two different choices (four at most, %(max)d characters each).")
POLL_AND_IMAGES = N_("A note cannot have both images and a poll: remove one of them.")
TOO_SOON = N_("A note can be scheduled at least 5 minutes ahead: choose a later time.")
TOO_FAR = N_("That date is too far in the future: choose an earlier one.")
TOO_MANY_SCHEDULED = N_("You have too many scheduled notes (for that day, or in all): cancel some first.")
#: The longest text the box accepts at all (the action then applies the real limit).
MAX_FIELD = 100_000
#: Remembered in the signed cookie once the page's script sent it: scheduled times are shown in it.
ZONE_KEY = "tz"


@dataclass
class ComposeForm:
    text: str = ""
    spoiler_text: str = ""
    visibility: str = "public"
    in_reply_to: dict[str, Any] | None = None
    error: str | None = None
    count: int = 0
    choices: list[tuple[str, str]] = field(default_factory=list)
    extras: Extras = field(default_factory=Extras)
    durations: list[tuple[int, str]] = field(default_factory=list)


def _choices(request: Request) -> list[tuple[str, str]]:
    return [(v, gettext(request, VISIBILITY_LABELS[v])) for v in VISIBILITIES if v in VISIBILITY_LABELS]


def _durations(request: Request) -> list[tuple[int, str]]:
    return [(seconds, gettext(request, label)) for seconds, label in POLL_DURATIONS]


def remembered_zone(request: Request) -> str | None:
    zone = request.session.get(ZONE_KEY)
    return zone if isinstance(zone, str) else None


async def blank_form(request: Request, me: SignedIn, reply_to_id: int | None = None) -> ComposeForm:
    """An empty box with the author's default visibility (or, for a reply, the note's, at most)."""
    db = db_of(request)
    visibility, _, _ = await posting_defaults(db.hot, me.account.id)
    form = ComposeForm(visibility=visibility, choices=_choices(request), durations=_durations(request))
    form.extras.timezone = remembered_zone(request) or "UTC"
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


def readable(request: Request, error: ActionError, count: int, limit: int) -> str:
    """The action's message, in the reader's language for the usual cases."""
    message = error.message
    if "character limit" in message:
        return gettext(request, TOO_LONG) % {"count": count, "limit": limit}
    if "can't be blank" in message:
        return gettext(request, BLANK)
    if "Poll options" in message or "Poll expires_in" in message:
        return gettext(request, POLL_OPTIONS) % {"max": MAX_CHARACTERS_PER_OPTION}
    if "both media attachments and a poll" in message:
        return gettext(request, POLL_AND_IMAGES)
    if "Scheduled at must be" in message:
        return gettext(request, TOO_SOON)
    if "too far in the future" in message:
        return gettext(request, TOO_FAR)
    if "scheduled posts" in message:
        return gettext(request, TOO_MANY_SCHEDULED)
    if error.status == 404:
        return gettext(request, GONE)
    return gettext(request, OTHER) % {"reason": message}


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
        durations=_durations(request),
        extras=read_extras(form_data, remembered_zone(request)),
    )
    reply_to = id_or_none(form_field(form_data, "in_reply_to_id", 30))
    if reply_to is not None:
        form.in_reply_to = await _reply_target(request, me, reply_to)
    form.count = status_actions.counted_length(settings, form.text, form.spoiler_text.strip())
    try:
        if not csrf_ok(request, form_data):  # keep the text: only the token was stale
            form.error = gettext(request, EXPIRED)
            return await render(request, "compose.html", status=403, me=me, form=form)
        return await _publish(request, me, form, form_data, reply_to)
    finally:
        for value in form_data.values():
            if isinstance(value, UploadFile):
                await value.close()


def _checked(
    request: Request, form: ComposeForm, form_data: FormData
) -> tuple[NewPoll | None, datetime | None]:
    """Every rule that can be judged before an image is stored (raises ``ActionError`` or
    ``Refused``): the text, the poll, the number of images, the time to publish at."""
    settings = settings_of(request)
    images = len(uploads(form_data))
    poll = poll_of(request, form.extras)
    when = scheduled_at_of(request, form.extras)
    status_actions.check_text(
        settings, form.text.strip(), form.spoiler_text.strip(), None, blank_ok=images > 0
    )
    check_media_ids(range(images), with_poll=poll is not None)
    if poll is not None:
        poll = check_poll(poll)
    if when is not None:
        scheduled_actions.check_scheduled_at(when)
    return poll, when


async def _publish(
    request: Request, me: SignedIn, form: ComposeForm, form_data: FormData, reply_to: int | None
) -> Response:
    settings = settings_of(request)
    media_ids: tuple[int, ...] = ()
    try:
        poll, when = _checked(request, form, form_data)
        media_ids = await store_images(request, me, form.extras, uploads(form_data))
        new = status_actions.NewStatus(
            text=form.text,
            visibility=form.visibility if form.visibility in VISIBILITIES else "public",
            in_reply_to_id=reply_to,
            spoiler_text=form.spoiler_text.strip(),
            sensitive=bool(form.spoiler_text.strip()),
            media_ids=media_ids,
            poll=poll,
        )
        if when is not None:
            await scheduled_actions.schedule_status(db_of(request), settings, me.account.id, new, when)
        else:
            status_id = (await status_actions.post_status(db_of(request), settings, me.account.id, new)).id
    except (ActionError, Refused) as e:
        await forget_images(request, me, media_ids)
        if isinstance(e, Refused):
            form.error = e.message
        else:
            form.error = readable(request, e, form.count, settings.max_characters)
        return await render(request, "compose.html", status=422, me=me, form=form)
    if form_field(form_data, "timezone", 64):
        request.session[ZONE_KEY] = form.extras.timezone
    if when is not None:
        request.session["flash"] = "scheduled"
        return redirect("/scheduled")
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
        settings,
        form_field(form_data, "status", MAX_FIELD),
        form_field(form_data, "spoiler_text", MAX_FIELD).strip(),  # the page strips it when posting
    )
    body = orjson.dumps({"count": used, "limit": settings.max_characters})
    return Response(body, media_type="application/json", headers=PAGE_HEADERS)
