"""A note's buttons and its fragment: ``GET /web/notes/{id}`` (the note as ``_note.html`` renders it,
for the live timeline) and ``POST /web/notes/{id}/{action}`` — like, boost, bookmark (and undo) and
delete, through the same actions as the API. Without JavaScript a button is a form that comes back to
the page; with it (``X-Cordee-Fetch: 1``) the answer is the note's new fragment."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from cordee.actions import bookmarks, interactions
from cordee.actions import statuses as status_actions
from cordee.actions.errors import ActionError
from cordee.api.mastodon.params import id_or_none
from cordee.db.engine import Database
from cordee.queries.statuses import visible_status
from cordee.rendering.statuses import render_status
from cordee.web.app_common import from_script, me_or_sign_in, note_fragment
from cordee.web.i18n import N_
from cordee.web.pages import EXPIRED
from cordee.web.render import (
    PAGE_HEADERS,
    SignedIn,
    csrf_ok,
    db_of,
    field,
    gettext,
    redirect,
    render,
    safe_next,
    settings_of,
)

NOT_ALLOWED = N_("This note is no longer available, or this cannot be done with it.")

Action = Callable[[Database, int, int], Awaitable[object]]

ACTIONS: dict[str, Action] = {
    "favourite": interactions.favourite,
    "unfavourite": interactions.unfavourite,
    "reblog": status_actions.reblog,
    "unreblog": status_actions.unreblog,
    "bookmark": bookmarks.bookmark,
    "unbookmark": bookmarks.unbookmark,
    "delete": status_actions.delete_status,
}


async def _refused(request: Request, me: SignedIn, status: int, message: str) -> Response:
    """A refusal: a bare status for the page's script (it then sends the form itself, to show
    this), a readable page for a plain form."""
    if from_script(request):
        return Response(status_code=status, headers=PAGE_HEADERS)
    return await render(request, "error.html", status, me=me, title=None, message=message)


def _not_found() -> Response:
    return Response(status_code=404, headers=PAGE_HEADERS)


async def _fragment(request: Request, me: SignedIn, status_id: int) -> Response:
    """The note as this viewer may see it, or 404 (missing and hidden look the same)."""
    async with db_of(request).read() as session:
        status = await visible_status(session, me.account.id, status_id)
        if status is None:
            return _not_found()
        try:
            entity = await render_status(session, settings_of(request), me.account.id, status)
        except ActionError:
            return _not_found()
    return await note_fragment(request, me, entity)


async def note(request: Request) -> Response:
    me = await me_or_sign_in(request)
    if not isinstance(me, SignedIn):
        return me
    status_id = id_or_none(str(request.path_params["id"]))
    if status_id is None:
        return _not_found()
    return await _fragment(request, me, status_id)


async def act(request: Request) -> Response:
    me = await me_or_sign_in(request)
    if not isinstance(me, SignedIn):
        return me
    status_id = id_or_none(str(request.path_params["id"]))
    action = ACTIONS.get(str(request.path_params["action"]))
    form = await request.form()
    if status_id is None or action is None:
        return _not_found()
    if not csrf_ok(request, form):
        return await _refused(request, me, 403, gettext(request, EXPIRED))
    try:
        await action(db_of(request), me.account.id, status_id)
    except ActionError as e:
        return await _refused(request, me, e.status, gettext(request, NOT_ALLOWED))
    shown_as = id_or_none(field(form, "shown_as", 30)) or status_id
    if from_script(request):
        if action is status_actions.delete_status:
            return Response(status_code=204, headers=PAGE_HEADERS)
        answer = await _fragment(request, me, shown_as)
        if answer.status_code == 404 and shown_as != status_id:  # one's own boost, just undone
            answer = await _fragment(request, me, status_id)
        return answer
    target = safe_next(field(form, "next", 500), "/home")
    anchor = "" if action is status_actions.delete_status else f"#note-{shown_as}"
    return redirect(target + anchor)
