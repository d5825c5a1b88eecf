"""Editing one's own note from the web: ``/notes/{id}/edit`` (a form with its text and content
warning) and its ``POST``, through ``actions.status_edits.edit_status`` as ``PUT /api/v1/statuses/:id``.
The note keeps its images and its poll as they are (the API can change those; this form changes the
words); the note then shows "(edited)", as in every client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from cordee.actions.errors import ActionError
from cordee.actions.polls import MAX_EXPIRATION, MIN_EXPIRATION, NewPoll
from cordee.actions.status_edits import StatusChanges, edit_status
from cordee.actions.statuses import counted_length
from cordee.api.mastodon.params import id_or_none
from cordee.db.types import utcnow
from cordee.queries.polls import polls_of
from cordee.queries.statuses import visible_status
from cordee.rendering.statuses import render_status
from cordee.web.app_common import me_or_sign_in
from cordee.web.compose import MAX_FIELD, readable
from cordee.web.i18n import N_
from cordee.web.pages import EXPIRED
from cordee.web.render import SignedIn, csrf_ok, db_of, field, gettext, redirect, render, settings_of

NOT_YOURS = N_("Only its author can edit a note.")
GONE = N_("This note is no longer available.")


@dataclass
class EditForm:
    note: dict[str, Any]
    text: str
    spoiler_text: str
    count: int = 0
    error: str | None = None


async def _own_note(request: Request, me: SignedIn) -> tuple[dict[str, Any], NewPoll | None] | Response:
    """The viewer's own note (its entity) and its poll as it stands; else a readable refusal."""
    status_id = id_or_none(str(request.path_params["id"]))
    async with db_of(request).read() as session:
        status = await visible_status(session, me.account.id, status_id) if status_id else None
        if status is None or status.reblog_of_id is not None:
            return await _refusal(request, me, 404, GONE)
        if status.account_id != me.account.id:
            return await _refusal(request, me, 403, NOT_YOURS)
        entity = await render_status(session, settings_of(request), me.account.id, status)
        entity["source_text"] = status.text
        polls = await polls_of(session, [status.id])
    poll = None
    if polls:
        # Kept unchanged: the action compares options and flags only (an unchanged poll keeps its
        # votes and its end), but its rules want a duration, so give one inside the allowed range.
        left = int((polls[0].expires_at - utcnow()).total_seconds())
        poll = NewPoll(
            options=tuple(polls[0].options),
            expires_in=min(max(left, MIN_EXPIRATION), MAX_EXPIRATION),
            multiple=polls[0].multiple,
            hide_totals=polls[0].hide_totals,
        )
    return entity, poll


async def _refusal(request: Request, me: SignedIn, status: int, message: str) -> Response:
    return await render(request, "error.html", status, me=me, title=None, message=gettext(request, message))


async def edit_page(request: Request) -> Response:
    me = await me_or_sign_in(request)
    if not isinstance(me, SignedIn):
        return me
    found = await _own_note(request, me)
    if isinstance(found, Response):
        return found
    note, _ = found
    form = EditForm(note=note, text=note["source_text"], spoiler_text=note["spoiler_text"])
    form.count = counted_length(settings_of(request), form.text, form.spoiler_text)
    return await render(request, "edit_note.html", me=me, form=form)


async def edit_submit(request: Request) -> Response:
    me = await me_or_sign_in(request)
    if not isinstance(me, SignedIn):
        return me
    form_data = await request.form()
    found = await _own_note(request, me)
    if isinstance(found, Response):
        return found
    note, poll = found
    settings = settings_of(request)
    form = EditForm(
        note=note,
        text=field(form_data, "status", MAX_FIELD),
        spoiler_text=field(form_data, "spoiler_text", MAX_FIELD),
    )
    form.count = counted_length(settings, form.text, form.spoiler_text.strip())
    if not csrf_ok(request, form_data):  # keep the text: only the token was stale
        form.error = gettext(request, EXPIRED)
        return await render(request, "edit_note.html", 403, me=me, form=form)
    changes = StatusChanges(
        text=form.text,
        spoiler_text=form.spoiler_text,
        # A content warning makes a note sensitive; without one it stays as its author marked it.
        sensitive=bool(note["sensitive"]) and not note["spoiler_text"],
        media_ids=tuple(int(m["id"]) for m in note["media_attachments"]),
        poll=poll,
    )
    try:
        status_id = await edit_status(db_of(request), settings, me.account.id, int(note["id"]), changes)
    except ActionError as e:
        form.error = readable(request, e, form.count, settings.max_characters)
        return await render(request, "edit_note.html", 422, me=me, form=form)
    return redirect(f"/@{me.account.username}/{status_id}")
