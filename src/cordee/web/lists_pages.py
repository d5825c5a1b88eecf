"""``/lists`` and ``/lists/{id}``: a reader's lists, each list's timeline and members.

The timeline is ``queries.lists.list_timeline_query`` (what ``/api/v1/timelines/list/:id`` reads,
built on ``visible_to``); every form calls an ``actions/lists.py`` function. Someone else's list
and a missing one answer the same 404.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from cordee.actions import lists as list_actions
from cordee.actions.errors import NotFound, ValidationFailed
from cordee.api.mastodon.params import id_or_none
from cordee.api.mastodon.serializers.accounts import render_account
from cordee.db.tables import Account
from cordee.db.tables_curation import TimelineList
from cordee.queries import accounts as account_queries
from cordee.queries import lists as list_queries
from cordee.web.app_common import me_or_sign_in, signed_in_form
from cordee.web.i18n import N_
from cordee.web.public_pages import not_found, notes_page
from cordee.web.render import SignedIn, db_of, field, gettext, redirect, render, settings_of

NO_TITLE = N_("Give the list a title.")
TITLE_TOO_LONG = N_("The title is too long: at most %(max)d characters.")
TOO_MANY = N_("You cannot have more than %(max)d lists.")
NOT_FOLLOWED = N_("Only people you follow can be added to a list: follow @%(acct)s first.")
ALREADY_IN = N_("@%(acct)s is already in this list.")
NO_SUCH_ACCOUNT = N_("No account @%(acct)s here.")


async def lists_page(request: Request, error: str | None = None, status: int = 200) -> Response:
    me = await me_or_sign_in(request)
    if not isinstance(me, SignedIn):
        return me
    async with db_of(request).read() as session:
        rows = await list_queries.lists_of(session, me.account.id)
    return await render(request, "lists.html", status, me=me, lists=rows, error=error)


async def create_submit(request: Request) -> Response:
    posted = await signed_in_form(request)
    if isinstance(posted, Response):
        return posted
    me, form = posted
    title = field(form, "title", 1000).strip()
    if not title:
        return await lists_page(request, gettext(request, NO_TITLE), 422)
    if len(title) > list_actions.MAX_TITLE:
        return await lists_page(
            request, gettext(request, TITLE_TOO_LONG) % {"max": list_actions.MAX_TITLE}, 422
        )
    try:
        list_id = await list_actions.create_list(
            db_of(request), me.account.id, list_actions.ListChanges(title)
        )
    except ValidationFailed:  # the one check left to the action: how many lists one may have
        return await lists_page(request, gettext(request, TOO_MANY) % {"max": list_actions.MAX_LISTS}, 422)
    return redirect(f"/lists/{list_id}")


async def _owned(request: Request, me: SignedIn) -> TimelineList | None:
    list_id = id_or_none(str(request.path_params["id"]))
    if list_id is None:
        return None
    async with db_of(request).read() as session:
        return await list_queries.owned_list(session, me.account.id, list_id)


async def list_page(request: Request, error: str | None = None, status: int = 200) -> Response:
    me = await me_or_sign_in(request)
    if not isinstance(me, SignedIn):
        return me
    row = await _owned(request, me)
    if row is None:
        return await not_found(request, me)
    notes, older = await notes_page(request, me, list_queries.list_timeline_query(row), "home")
    async with db_of(request).read() as session:
        ids = await list_queries.list_member_ids(session, row.id)
        accounts = list(
            await session.scalars(select(Account).where(Account.id.in_(ids)).order_by(Account.username))
        )
    members: list[dict[str, Any]] = [render_account(settings_of(request), a) for a in accounts]
    return await render(
        request,
        "list.html",
        status,
        me=me,
        list=row,
        notes=notes,
        older=older,
        members=members,
        error=error,
    )


async def members_submit(request: Request) -> Response:
    """Add (``acct`` field) or remove (``account_id`` field) a member."""
    posted = await signed_in_form(request)
    if isinstance(posted, Response):
        return posted
    me, form = posted
    row = await _owned(request, me)
    if row is None:
        return await not_found(request, me)
    db = db_of(request)
    if str(request.path_params["change"]) == "remove":
        member = id_or_none(field(form, "account_id", 20))
        if member is not None:
            await list_actions.remove_members(db, me.account.id, row.id, [member])
        return redirect(f"/lists/{row.id}")
    acct = field(form, "acct", 300).strip().lstrip("@")
    async with db.read() as session:
        account = await account_queries.account_by_acct(session, settings_of(request), acct) if acct else None
    if account is None:
        return await list_page(request, gettext(request, NO_SUCH_ACCOUNT) % {"acct": acct}, 422)
    try:
        await list_actions.add_members(db, me.account.id, row.id, [account.id])
    except ValidationFailed as e:
        message = ALREADY_IN if "taken" in str(e) else NOT_FOLLOWED
        return await list_page(request, gettext(request, message) % {"acct": acct}, 422)
    return redirect(f"/lists/{row.id}")


async def delete_submit(request: Request) -> Response:
    posted = await signed_in_form(request)
    if isinstance(posted, Response):
        return posted
    me, form = posted
    list_id = id_or_none(str(request.path_params["id"]))
    try:
        if list_id is None:
            raise NotFound()
        await list_actions.delete_list(db_of(request), me.account.id, list_id)
    except NotFound:
        return await not_found(request, me)
    return redirect("/lists")
