"""``/columns``: the reader's tracked searches side by side, live (TweetDeck-style columns).

The columns are the reader's tracked searches (their own, in the order they chose, then those
shared with them): they live on the server, so every device shows the same ones. Each column is
``queries.tracking.matches_query`` — the notes its search matched that the reader may see
(``visible_to``), as ``GET /api/v1/cordee/tracked_searches/:id/statuses`` reads them.

Live: ``/web/columns/stream`` is the hub's ``cordee:tracked`` channels of every column as
server-sent events, authenticated by the session cookie (closed by sign-out and password changes
like ``/web/stream``). Its ``update`` events give the page a note; ``columns.js`` fetches its HTML
from ``/web/columns/notes/{id}``, whose ``X-Cordee-Columns`` header names the reader's columns that
matched it, and puts it at the top of each.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from cordee.api.mastodon.params import id_or_none
from cordee.db.tables import Status
from cordee.db.tables_tracking import TrackedMatch, TrackedSearch
from cordee.queries import tracking as queries
from cordee.queries.statuses import visible_status
from cordee.rendering.statuses import render_status, render_statuses
from cordee.streaming.channels import channel_for
from cordee.streaming.endpoints import _EventStream, _hub
from cordee.streaming.hub import HubClosed
from cordee.web.app_common import me_or_sign_in, note_fragment
from cordee.web.render import PAGE_HEADERS, SignedIn, current_user, db_of, render, settings_of

COLUMN_SIZE = 20


async def columns_page(request: Request) -> Response:
    me = await me_or_sign_in(request)
    if not isinstance(me, SignedIn):
        return me
    columns: list[dict[str, Any]] = []
    async with db_of(request).read() as session:
        searches = await queries.searches_of(session, me.account.id)
        for search in searches:
            rows = list(
                await session.scalars(
                    queries.matches_query(me.account.id, [search.id])
                    .order_by(Status.id.desc())
                    .limit(COLUMN_SIZE)
                )
            )
            notes = await render_statuses(session, settings_of(request), me.account.id, rows)
            columns.append({"search": search, "notes": notes, "owned": search.account_id == me.account.id})
    return await render(request, "columns.html", me=me, columns=columns)


async def column_since(request: Request) -> Response:
    """``/web/columns/{id}/notes?since_id=``: what a live column missed (after a dropped stream),
    as fragments, newest first."""
    me = await me_or_sign_in(request)
    if not isinstance(me, SignedIn):
        return me
    search_id = id_or_none(str(request.path_params["id"]))
    since_id = id_or_none(request.query_params.get("since_id") or "")
    if search_id is None or since_id is None:
        return Response(status_code=400, headers=PAGE_HEADERS)
    async with db_of(request).read() as session:
        if await queries.readable(session, me.account.id, search_id) is None:
            return Response(status_code=404, headers=PAGE_HEADERS)
        rows = list(
            await session.scalars(
                queries.matches_query(me.account.id, [search_id])
                .where(Status.id > since_id)
                .order_by(Status.id.desc())
                .limit(COLUMN_SIZE)
            )
        )
        notes = await render_statuses(session, settings_of(request), me.account.id, rows)
    return await render(request, "_notes_fragment.html", me=me, statuses=notes)


async def stream(request: Request) -> Response:
    me = await current_user(request)
    if me is None:
        return Response(status_code=401, headers=PAGE_HEADERS)
    async with db_of(request).read() as session:
        searches = await queries.searches_of(session, me.account.id)
    try:
        hub = _hub(request.app)
        connection = await hub.connect(me.account.id, "sse", user_id=me.user.id, web_session_id=me.session_id)
    except HubClosed:
        return Response(status_code=503, headers={**PAGE_HEADERS, "Retry-After": "2"})
    for search in searches:
        hub.subscribe(connection, channel_for("cordee:tracked", {"id": str(search.id)}, me.account.id))
    return _EventStream(hub, connection)  # type: ignore[return-value]


async def note(request: Request) -> Response:
    """A note's fragment for the columns, with the ids of the reader's columns that matched it."""
    me = await me_or_sign_in(request)
    if not isinstance(me, SignedIn):
        return me
    status_id = id_or_none(str(request.path_params["id"]))
    if status_id is None:
        return Response(status_code=404, headers=PAGE_HEADERS)
    async with db_of(request).read() as session:
        status = await visible_status(session, me.account.id, status_id)
        if status is None:
            return Response(status_code=404, headers=PAGE_HEADERS)
        entity = await render_status(session, settings_of(request), me.account.id, status)
        readable = queries.readable_by(me.account.id).with_only_columns(TrackedSearch.id)
        column_ids = list(
            await session.scalars(
                select(TrackedMatch.tracked_search_id).where(
                    TrackedMatch.status_id == status_id, TrackedMatch.tracked_search_id.in_(readable)
                )
            )
        )
    response = await note_fragment(request, me, entity)
    response.headers["X-Cordee-Columns"] = ",".join(str(i) for i in sorted(column_ids))
    return response


def routes() -> list[BaseRoute]:
    """The pages of tracked searches: columns, their management and analytics."""
    from cordee.web import columns_analytics as analytics
    from cordee.web import columns_manage as manage

    return [
        Route("/columns", columns_page, methods=["GET"]),
        Route("/web/columns/stream", stream, methods=["GET"]),
        Route("/web/columns/notes/{id}", note, methods=["GET"]),
        Route("/web/columns/{id}/notes", column_since, methods=["GET"]),
        Route("/tracked", manage.manage_page, methods=["GET"]),
        Route("/tracked", manage.create_submit, methods=["POST"]),
        Route("/tracked/{id}", manage.edit_page, methods=["GET"]),
        Route("/tracked/{id}", manage.edit_submit, methods=["POST"]),
        Route("/tracked/{id}/delete", manage.delete_submit, methods=["POST"]),
        Route("/tracked/{id}/move/{direction}", manage.move_submit, methods=["POST"]),
        Route("/tracked/{id}/analytics", analytics.search_analytics, methods=["GET"]),
        Route("/tracked/{id}/export.csv", analytics.export_csv, methods=["GET"]),
        Route("/tracked/{id}/sentiment/{status_id}", analytics.correct_submit, methods=["POST"]),
        Route("/analytics/tags/{name}", analytics.tag_analytics, methods=["GET"]),
    ]
