"""Bookmarks (``/api/v1/statuses/:id/bookmark``, ``/api/v1/bookmarks``) and the list of one's
favourites (``/api/v1/favourites``): private lists, newest bookmark or favourite first."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select
from starlette.responses import Response
from starlette.routing import Route

from cordee.actions import bookmarks
from cordee.api.mastodon._responses import status_response
from cordee.api.mastodon.base import Ctx, endpoint, json_response
from cordee.api.mastodon.pagination import Page, paged_headers
from cordee.db.tables import Favourite, Status
from cordee.db.tables_personal import Bookmark
from cordee.queries import personal
from cordee.rendering.statuses import render_statuses


@endpoint(scope="write:bookmarks", auth="required")
async def bookmark(ctx: Ctx) -> Response:
    return await status_response(ctx, await bookmarks.bookmark(ctx.db, ctx.account_id, ctx.path_id()))


@endpoint(scope="write:bookmarks", auth="required")
async def unbookmark(ctx: Ctx) -> Response:
    return await status_response(ctx, await bookmarks.unbookmark(ctx.db, ctx.account_id, ctx.path_id()))


async def _listed(ctx: Ctx, query: Select[Status, int], key: Any) -> Response:
    """A page of notes keyed by the id of the row that listed them (bookmark, favourite)."""
    page = Page.from_params(ctx.params)
    async with ctx.db.read() as session:
        rows = page.arrange(list((await session.execute(page.apply(query, key))).all()))
        body = await render_statuses(session, ctx.settings, ctx.viewer_id, [s for s, _ in rows])
    keys = [k for _, k in rows]
    return json_response(body, headers=paged_headers(ctx.request, keys, page, ctx.settings.base_url))


@endpoint(scope="read:bookmarks", auth="required")
async def index(ctx: Ctx) -> Response:
    return await _listed(ctx, personal.bookmarks_query(ctx.account_id), Bookmark.id)


@endpoint(scope="read:favourites", auth="required")
async def favourites(ctx: Ctx) -> Response:
    return await _listed(ctx, personal.favourites_query(ctx.account_id), Favourite.id)


routes = [
    Route("/api/v1/statuses/{id}/bookmark", bookmark, methods=["POST"]),
    Route("/api/v1/statuses/{id}/unbookmark", unbookmark, methods=["POST"]),
    Route("/api/v1/bookmarks", index, methods=["GET"]),
    Route("/api/v1/favourites", favourites, methods=["GET"]),
]
