"""``/tracked``: managing tracked searches (create, change, share, order, alerts, delete) — every
form calls an ``actions/tracked_searches.py`` function, as the API does. A search someone else owns
answers 404 to its forms, like a missing one; members of a shared search see it listed, read-only."""

from __future__ import annotations

import contextlib
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from cordee.actions import tracked_searches as actions
from cordee.actions.errors import NotFound, ValidationFailed
from cordee.api.mastodon.params import id_or_none
from cordee.api.mastodon.serializers.accounts import acct
from cordee.db.tables_tracking import TrackedSearch
from cordee.queries import tracking as queries
from cordee.queries.accounts import account_by_acct, load_many
from cordee.web.app_common import me_or_sign_in, signed_in_form
from cordee.web.i18n import N_
from cordee.web.public_pages import not_found
from cordee.web.render import SignedIn, db_of, field, gettext, redirect, render, settings_of

NO_NAME = N_("Give the search a name.")
NAME_TOO_LONG = N_("The name is too long: at most %(max)d characters.")
NO_QUERY = N_('Write the query: words, "phrases", #hashtags, @accounts, from:, lang:, since:…')
BAD_QUERY = N_("The query cannot be used: %(reason)s")
TOO_MANY = N_("You cannot have more than %(max)d tracked searches.")
NO_SUCH_ACCOUNT = N_("No account @%(acct)s here.")
BAD_VALUE = N_("A value is out of range: %(reason)s")
NOT_FOLLOWERS = N_("Only people who follow you can share your tracked searches.")


async def _members_text(request: Request, search_ids: list[int]) -> dict[int, str]:
    async with db_of(request).read() as session:
        members = await queries.members_of(session, search_ids)
        accounts = await load_many(session, [a for ids in members.values() for a in ids])
    settings = settings_of(request)
    return {
        s: ", ".join(acct(settings, accounts[a]) for a in ids if a in accounts) for s, ids in members.items()
    }


async def manage_page(
    request: Request, error: str | None = None, status: int = 200, values: dict[str, Any] | None = None
) -> Response:
    me = await me_or_sign_in(request)
    if not isinstance(me, SignedIn):
        return me
    async with db_of(request).read() as session:
        rows = await queries.searches_of(session, me.account.id)
    members = await _members_text(request, [r.id for r in rows])
    return await render(
        request,
        "tracked_searches.html",
        status,
        me=me,
        searches=rows,
        members=members,
        error=error,
        values=values or {},
        windows=actions.SPIKE_WINDOWS,
    )


async def _changes(request: Request, form: FormData) -> actions.Changes | str:
    """The form's changes, or a readable reason to refuse them."""
    names = [n.strip().lstrip("@") for n in field(form, "members", 2000).replace(";", ",").split(",")]
    member_ids: list[int] = []
    async with db_of(request).read() as session:
        for name in filter(None, names):
            account = await account_by_acct(session, settings_of(request), name)
            if account is None:
                return gettext(request, NO_SUCH_ACCOUNT) % {"acct": name}
            member_ids.append(account.id)
    try:
        factor = float(field(form, "spike_factor", 20) or 3)
        window = int(field(form, "spike_window_minutes", 20) or 60)
        digest = int(field(form, "digest_minutes", 20) or 0)
    except ValueError:
        return gettext(request, BAD_VALUE) % {"reason": "not a number"}
    return actions.Changes(
        name=field(form, "name", 1000),
        query=field(form, "query", 2000),
        notify=form.get("notify") == "on",
        email_digest=form.get("email_digest") == "on",
        digest_minutes=digest,
        spike_alert=form.get("spike_alert") == "on",
        spike_factor=factor,
        spike_window_minutes=window,
        member_ids=member_ids,
    )


def _reason(request: Request, e: ValidationFailed) -> str:
    message = e.message.removeprefix("Validation failed: ")
    if message.startswith("Query is invalid: "):
        return gettext(request, BAD_QUERY) % {"reason": message.removeprefix("Query is invalid: ")}
    if message.startswith("Query can't be blank"):
        return gettext(request, NO_QUERY)
    if message.startswith("Name can't be blank"):
        return gettext(request, NO_NAME)
    if message.startswith("Name is too long"):
        return gettext(request, NAME_TOO_LONG) % {"max": actions.MAX_NAME}
    if message.startswith("members must be people who follow you"):
        return gettext(request, NOT_FOLLOWERS)
    if message.startswith("You cannot have more"):
        return gettext(request, TOO_MANY) % {"max": actions.MAX_SEARCHES}
    return gettext(request, BAD_VALUE) % {"reason": message}


async def create_submit(request: Request) -> Response:
    posted = await signed_in_form(request)
    if isinstance(posted, Response):
        return posted
    me, form = posted
    values = {k: field(form, k, 2000) for k in ("name", "query", "members")}
    changes = await _changes(request, form)
    if isinstance(changes, str):
        return await manage_page(request, changes, 422, values)
    try:
        await actions.create(db_of(request), settings_of(request), me.account.id, changes)
    except ValidationFailed as e:
        return await manage_page(request, _reason(request, e), 422, values)
    return redirect("/columns")


async def _owned(request: Request, me: SignedIn) -> TrackedSearch | None:
    search_id = id_or_none(str(request.path_params["id"]))
    if search_id is None:
        return None
    async with db_of(request).read() as session:
        return await queries.owned(session, me.account.id, search_id)


async def edit_page(request: Request, error: str | None = None, status: int = 200) -> Response:
    me = await me_or_sign_in(request)
    if not isinstance(me, SignedIn):
        return me
    row = await _owned(request, me)
    if row is None:
        return await not_found(request, me)
    members = await _members_text(request, [row.id])
    return await render(
        request,
        "tracked_search.html",
        status,
        me=me,
        search=row,
        members=members[row.id],
        error=error,
        windows=actions.SPIKE_WINDOWS,
    )


async def edit_submit(request: Request) -> Response:
    posted = await signed_in_form(request)
    if isinstance(posted, Response):
        return posted
    me, form = posted
    row = await _owned(request, me)
    if row is None:
        return await not_found(request, me)
    changes = await _changes(request, form)
    if isinstance(changes, str):
        return await edit_page(request, changes, 422)
    try:
        await actions.update(db_of(request), settings_of(request), me.account.id, row.id, changes)
    except ValidationFailed as e:
        return await edit_page(request, _reason(request, e), 422)
    return redirect("/tracked")


async def delete_submit(request: Request) -> Response:
    """The owner deletes the search; a member leaves it."""
    posted = await signed_in_form(request)
    if isinstance(posted, Response):
        return posted
    me, _form = posted
    search_id = id_or_none(str(request.path_params["id"]))
    try:
        if search_id is None:
            raise NotFound()
        await actions.delete_search(db_of(request), me.account.id, search_id)
    except NotFound:
        return await not_found(request, me)
    return redirect("/tracked")


async def move_submit(request: Request) -> Response:
    """Move a column one place earlier (``up``) or later (``down``)."""
    posted = await signed_in_form(request)
    if isinstance(posted, Response):
        return posted
    me, _form = posted
    row = await _owned(request, me)
    direction = str(request.path_params["direction"])
    if row is None or direction not in ("up", "down"):
        return await not_found(request, me)
    async with db_of(request).read() as session:
        ids = [
            r.id for r in await queries.searches_of(session, me.account.id) if r.account_id == me.account.id
        ]
    at = ids.index(row.id)
    other = at - 1 if direction == "up" else at + 1
    if 0 <= other < len(ids):
        ids[at], ids[other] = ids[other], ids[at]
        with contextlib.suppress(NotFound):  # deleted meanwhile from another device
            await actions.reorder(db_of(request), me.account.id, ids)
    return redirect("/tracked")
