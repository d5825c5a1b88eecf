"""Voting in a poll from a page: ``POST /web/polls/{id}/votes`` with ``choices`` (the options'
indexes), through ``actions.polls.vote`` as ``POST /api/v1/polls/:id/votes``. A plain form comes back
to its page; the page's script (``X-Cordee-Fetch``) gets the note's new fragment with the results."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from cordee.actions import polls as poll_actions
from cordee.actions.errors import ActionError
from cordee.api.mastodon.params import id_or_none
from cordee.web.app_common import from_script, signed_in_form
from cordee.web.i18n import N_

# The note buttons' own answers: the same fragment, the same readable refusal.
from cordee.web.note_actions import _fragment, _refused
from cordee.web.render import PAGE_HEADERS, db_of, field, gettext, redirect, safe_next

NO_CHOICE = N_("Choose an answer before voting.")
ALREADY = N_("You have already voted in this poll.")
ENDED = N_("This poll is closed.")
OWN = N_("You cannot vote in your own poll.")
GONE = N_("This poll is no longer available.")


def _readable(request: Request, error: ActionError) -> str:
    message = error.message
    if "at least one option" in message or "does not exist" in message:
        return gettext(request, NO_CHOICE)
    if "already voted" in message:
        return gettext(request, ALREADY)
    if "already ended" in message:
        return gettext(request, ENDED)
    if "your own polls" in message:
        return gettext(request, OWN)
    return gettext(request, GONE)


async def vote(request: Request) -> Response:
    checked = await signed_in_form(request)
    if not isinstance(checked, tuple):
        return checked
    me, form = checked
    poll_id = id_or_none(str(request.path_params["id"]))
    if poll_id is None:
        return Response(status_code=404, headers=PAGE_HEADERS)
    raw = [c for c in form.getlist("choices") if isinstance(c, str)]
    choices = [int(c) for c in raw if c.isascii() and c.isdigit() and len(c) < 4]
    if len(choices) != len(raw):  # not an option's index: the same answer as an option out of range
        choices.append(-1)
    try:
        await poll_actions.vote(db_of(request), me.account.id, poll_id, choices)
    except ActionError as e:
        return await _refused(request, me, e.status, _readable(request, e))
    shown_as = id_or_none(field(form, "shown_as", 30))
    if from_script(request) and shown_as is not None:
        return await _fragment(request, me, shown_as)
    target = safe_next(field(form, "next", 500), "/home")
    return redirect(target + (f"#note-{shown_as}" if shown_as is not None else ""))
