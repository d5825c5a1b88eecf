"""Pages of a signed-in reader: notifications, search, follow requests (accept, reject) and bookmarks.

Each reads through the query its API endpoint uses (``notification_shown`` and the notification
renderer, ``search_accounts`` / ``search_tags`` / ``search_statuses``, ``bookmarks_query``) and
each form calls the API's action: the web shows what ``/api/v1/...`` answers, nothing more.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from sqlalchemy import Select, select
from starlette.requests import Request
from starlette.responses import Response

from cordee.actions import follows
from cordee.actions.errors import NotFound
from cordee.api.mastodon.params import id_or_none
from cordee.api.mastodon.serializers.accounts import render_account
from cordee.api.mastodon.serializers.notifications import render_notifications
from cordee.api.mastodon.serializers.tags import render_tags
from cordee.db.tables import Account, FollowRequest, Notification
from cordee.db.tables_personal import Bookmark
from cordee.queries import accounts as account_queries
from cordee.queries import search as search_queries
from cordee.queries.personal import bookmarks_query
from cordee.queries.visibility import notification_shown
from cordee.rendering.statuses import render_statuses
from cordee.search.query import QueryError
from cordee.web.app_common import me_or_sign_in, signed_in_form
from cordee.web.public_pages import PAGE_SIZE, not_found, older_link, older_than
from cordee.web.render import (
    PAGE_HEADERS,
    SignedIn,
    current_user,
    db_of,
    gettext,
    redirect,
    render,
    settings_of,
)

#: Results of each kind on the search page.
SEARCH_LIMIT = 20
MAX_QUERY = 500


def _notifications_of(me: SignedIn) -> Select[Any]:
    """The query of ``GET /api/v1/notifications``: the reader's, minus those ``notification_shown`` hides."""
    return select(Notification).where(
        Notification.account_id == me.account.id,
        notification_shown(me.account.id, Notification.from_account_id),
    )


async def _rendered(request: Request, me: SignedIn, query: Select[Any]) -> tuple[list[Any], list[int]]:
    async with db_of(request).read() as session:
        rows = list(await session.scalars(query.order_by(Notification.id.desc()).limit(PAGE_SIZE)))
        items = await render_notifications(
            session, settings_of(request), me.account.id, rows, "notifications"
        )
    return items, [n.id for n in rows]


async def notifications_page(request: Request) -> Response:
    me = await me_or_sign_in(request)
    if not isinstance(me, SignedIn):
        return me
    query = _notifications_of(me)
    below = older_than(request)
    if below is not None:
        query = query.where(Notification.id < below)
    items, keys = await _rendered(request, me, query)
    return await render(
        request,
        "notifications.html",
        me=me,
        items=items,
        older=older_link(request, keys),
        live=below is None,  # the first page gets new notifications as they come (static/live.js)
    )


async def notification_fragments(request: Request) -> Response:
    """For the live page (``static/live.js``, the home page's mechanism): ``/web/notifications/{id}``
    one notification, ``/web/notifications/since?since_id=`` those a dropped connection missed."""
    me = await current_user(request)
    if me is None:
        return Response(status_code=401, headers=PAGE_HEADERS)
    query = _notifications_of(me)
    wanted = str(request.path_params["which"])
    if wanted == "since":
        since_id = id_or_none(request.query_params.get("since_id", ""))
        if since_id is None:
            return Response(status_code=400, headers=PAGE_HEADERS)
        query = query.where(Notification.id > since_id)
    else:
        one = id_or_none(wanted)
        if one is None:
            return Response(status_code=404, headers=PAGE_HEADERS)
        query = query.where(Notification.id == one)
    items, _ = await _rendered(request, me, query)
    return await render(request, "_notifications_fragment.html", me=me, items=items)


async def search_page(request: Request) -> Response:
    me = await current_user(request)
    viewer = me.account.id if me else None
    q = request.query_params.get("q", "").strip()[:MAX_QUERY]
    accounts: list[dict[str, Any]] = []
    tags: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    query_error = ""
    if q:
        settings = settings_of(request)
        async with db_of(request).read() as session:
            found = await account_queries.search_accounts(session, settings, viewer, q, limit=SEARCH_LIMIT)
            accounts = [render_account(settings, a) for a in found]
            tags = list(
                await render_tags(
                    session,
                    settings,
                    viewer,
                    await search_queries.search_tags(session, q, limit=SEARCH_LIMIT),
                )
            )
            try:
                statuses = await search_queries.search_statuses(
                    session, viewer, q, limit=SEARCH_LIMIT, local_domain=settings.domain
                )
            except QueryError as error:  # the reason, in the reader's language
                query_error = gettext(request, error.template).format(**error.params)
            else:
                notes = await render_statuses(session, settings, viewer, statuses)
    return await render(
        request, "search.html", me=me, q=q, accounts=accounts, tags=tags, notes=notes, query_error=query_error
    )


async def follow_requests_page(request: Request) -> Response:
    me = await me_or_sign_in(request)
    if not isinstance(me, SignedIn):
        return me
    query = (
        select(Account, FollowRequest.id)
        .join(FollowRequest, FollowRequest.account_id == Account.id)
        .where(FollowRequest.target_account_id == me.account.id)
    )
    if (below := older_than(request)) is not None:
        query = query.where(FollowRequest.id < below)
    async with db_of(request).read() as session:
        rows = list((await session.execute(query.order_by(FollowRequest.id.desc()).limit(PAGE_SIZE))).all())
    people = [render_account(settings_of(request), a) for a, _ in rows]
    return await render(
        request,
        "follow_requests.html",
        me=me,
        people=people,
        older=older_link(request, [key for _, key in rows]),
    )


async def follow_request_submit(request: Request) -> Response:
    posted = await signed_in_form(request)
    if isinstance(posted, Response):
        return posted
    me, form = posted
    requester = id_or_none(str(request.path_params["id"]))
    decision = str(request.path_params["decision"])
    if requester is None or decision not in ("authorize", "reject"):
        return await not_found(request, me)
    act = follows.authorize_follow_request if decision == "authorize" else follows.reject_follow_request
    with suppress(NotFound):  # already answered (another tab): the list shows what is left
        await act(db_of(request), me.account.id, requester)
    return redirect("/follow_requests")


async def bookmarks_page(request: Request) -> Response:
    me = await me_or_sign_in(request)
    if not isinstance(me, SignedIn):
        return me
    query = bookmarks_query(me.account.id)
    if (below := older_than(request)) is not None:
        query = query.where(Bookmark.id < below)
    async with db_of(request).read() as session:
        rows = list((await session.execute(query.order_by(Bookmark.id.desc()).limit(PAGE_SIZE))).all())
        notes = await render_statuses(session, settings_of(request), me.account.id, [s for s, _ in rows])
    return await render(
        request,
        "bookmarks.html",
        me=me,
        notes=notes,
        older=older_link(request, [key for _, key in rows]),
    )
