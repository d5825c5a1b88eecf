"""Bookmarks (``/api/v1/statuses/:id/bookmark``, ``/api/v1/bookmarks``) and the list of one's
favourites (``/api/v1/favourites``): private lists, newest bookmark or favourite first."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from cordee.actions import bookmarks
from cordee.api.mastodon._responses import status_response
from cordee.api.mastodon.base import Ctx, endpoint, json_response
from cordee.api.mastodon.pagination import Page, paged_headers
from cordee.queries import personal
from cordee.queries.pages import with_originals
from cordee.rendering.statuses import render_page


@endpoint(scope="write:bookmarks", auth="required")
async def bookmark(ctx: Ctx) -> Response:
    return await status_response(ctx, await bookmarks.bookmark(ctx.db, ctx.account_id, ctx.path_id()))


@endpoint(scope="write:bookmarks", auth="required")
async def unbookmark(ctx: Ctx) -> Response:
    return await status_response(ctx, await bookmarks.unbookmark(ctx.db, ctx.account_id, ctx.path_id()))


async def _listed(ctx: Ctx, name: str) -> Response:
    """A page of notes keyed by the id of the row that listed them (bookmark, favourite), on the
    hot path (``queries.personal.LISTED_PAGES``), rendered from the kept bodies."""
    page = Page.from_params(ctx.params)
    rows = await personal.listed_page(
        ctx.db.hot_replica,
        ctx.account_id,
        name,
        page.max_id,
        page.above,
        page.limit,
        oldest_first=page.min_id is not None,
    )
    keys = [row[-1] for row in rows]
    hot = await with_originals(ctx.db.hot_replica, [row[:-1] for row in rows], viewer=ctx.account_id)
    body = await render_page(ctx.db, ctx.settings, ctx.account_id, hot.lives, hot.originals)
    return json_response(body, headers=paged_headers(ctx.request, keys, page, ctx.settings.base_url))


@endpoint(scope="read:bookmarks", auth="required")
async def index(ctx: Ctx) -> Response:
    return await _listed(ctx, "bookmarks")


@endpoint(scope="read:favourites", auth="required")
async def favourites(ctx: Ctx) -> Response:
    return await _listed(ctx, "favourites")


routes = [
    Route("/api/v1/statuses/{id}/bookmark", bookmark, methods=["POST"]),
    Route("/api/v1/statuses/{id}/unbookmark", unbookmark, methods=["POST"]),
    Route("/api/v1/bookmarks", index, methods=["GET"]),
    Route("/api/v1/favourites", favourites, methods=["GET"]),
]
