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
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from cordee.actions import media as media_actions
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
IMAGE_TOO_LARGE = N_("The image is too large: at most %(max)d MB.")
IMAGE_REFUSED = N_("The image could not be used (%(reason)s). Choose it again, or another one.")
#: The longest text the box accepts at all (the action then applies the real limit).
MAX_FIELD = 100_000


@dataclass
class ComposeForm:
    text: str = ""
    spoiler_text: str = ""
    visibility: str = "public"
    in_reply_to: dict[str, Any] | None = None
    error: str | None = None
    media_description: str = ""
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
    form.count = status_actions.counted_length(settings, form.text, form.spoiler_text.strip())
    form.media_description = form_field(form_data, "media_description", MAX_FIELD)
    try:
        if not csrf_ok(request, form_data):  # keep the text: only the token was stale
            form.error = gettext(request, EXPIRED)
            return await render(request, "compose.html", status=403, me=me, form=form)
        return await _publish(request, me, form, form_data, reply_to)
    finally:
        for value in form_data.values():
            if isinstance(value, UploadFile):
                await value.close()


async def _image(request: Request, me: SignedIn, form: ComposeForm, form_data: FormData) -> tuple[int, ...]:
    """The attached image, stored through the media action with its alt text (none: ``()``).
    Raises ``_Refused`` with a readable message."""
    upload = form_data.get("media")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return ()
    settings = settings_of(request)
    data = await upload.read(settings.image_size_limit + 1)
    if not data:
        return ()
    if len(data) > settings.image_size_limit:
        raise _Refused(gettext(request, IMAGE_TOO_LARGE) % {"max": settings.image_size_limit // 1_000_000})
    try:
        media_id = await media_actions.upload_media(
            db_of(request),
            settings,
            me.account.id,
            data,
            images=request.app.state.images,
            description=form.media_description.strip() or None,
        )
    except ActionError as e:
        raise _Refused(gettext(request, IMAGE_REFUSED) % {"reason": e.message}) from e
    return (media_id,)


class _Refused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


async def _publish(
    request: Request, me: SignedIn, form: ComposeForm, form_data: FormData, reply_to: int | None
) -> Response:
    settings = settings_of(request)
    has_image = isinstance(form_data.get("media"), UploadFile) and bool(
        getattr(form_data.get("media"), "filename", "")
    )
    try:
        # The text's rules first: an image is stored only for a note that can be published.
        status_actions.check_text(
            settings, form.text.strip(), form.spoiler_text.strip(), None, blank_ok=has_image
        )
        media_ids = await _image(request, me, form, form_data)
    except ActionError as e:
        form.error = _readable(request, e, form.count, settings.max_characters)
        return await render(request, "compose.html", status=422, me=me, form=form)
    except _Refused as e:
        form.error = e.message
        return await render(request, "compose.html", status=422, me=me, form=form)
    new = status_actions.NewStatus(
        text=form.text,
        visibility=form.visibility if form.visibility in VISIBILITIES else "public",
        in_reply_to_id=reply_to,
        spoiler_text=form.spoiler_text.strip(),
        sensitive=bool(form.spoiler_text.strip()),
        media_ids=media_ids,
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
        settings,
        form_field(form_data, "status", MAX_FIELD),
        form_field(form_data, "spoiler_text", MAX_FIELD).strip(),  # the page strips it when posting
    )
    body = orjson.dumps({"count": used, "limit": settings.max_characters})
    return Response(body, media_type="application/json", headers=PAGE_HEADERS)
