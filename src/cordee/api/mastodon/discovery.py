"""Discovery: ``/api/v1/trends/*`` (tags, statuses, links) and follow suggestions
(``/api/v2/suggestions``, ``/api/v1/suggestions``), all computed from real activity.

Trends page with ``offset`` (as Mastodon), and say so in a ``Link: …; rel="next"`` header.
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlencode

from starlette.responses import Response
from starlette.routing import Route

from cordee.actions import suggestions as suggestion_actions
from cordee.api.mastodon.base import Ctx, endpoint, json_response
from cordee.api.mastodon.serializers.accounts import render_account
from cordee.api.mastodon.serializers.tags import for_viewer, tag_bodies
from cordee.api.mastodon.serializers.trends import render_trending_link
from cordee.queries import trends
from cordee.queries.suggestions import suggestions
from cordee.rendering.statuses import render_statuses

# Mastodon's v2 entity still carries the deprecated single ``source``.
LEGACY_SOURCE = {"friends_of_friends": "past_interactions", "most_followed": "global"}


def _window(ctx: Ctx, default: int, maximum: int) -> tuple[int, int]:
    limit = max(1, min(ctx.params.int("limit", default) or default, maximum))
    return limit, max(0, ctx.params.int("offset", 0) or 0)


def _offset_headers(ctx: Ctx, count: int, limit: int, offset: int) -> dict[str, str]:
    if count < limit:
        return {}
    query = {k: v for k, v in ctx.request.query_params.items() if k != "offset"}
    url = f"{ctx.settings.base_url}{ctx.request.url.path}?{urlencode({**query, 'offset': offset + limit})}"
    return {"Link": f'<{url}>; rel="next"'}


@endpoint(auth="optional")
async def trending_tags(ctx: Ctx) -> Response:
    limit, offset = _window(ctx, 10, 20)

    async def compute() -> list[dict[str, Any]]:
        async with ctx.db.read() as session:
            return await tag_bodies(session, ctx.settings, await trends.trending_tags(session, limit, offset))

    bodies = await _kept(ctx).get(("tags", limit, offset), compute)
    async with ctx.db.read() as session:
        body = await for_viewer(session, ctx.viewer_id, bodies)
    return json_response(body, headers=_offset_headers(ctx, len(body), limit, offset))


def _kept(ctx: Ctx) -> trends.Kept:
    """The app's trends computed lately (``build_app``: one per app, as each has its database)."""
    return cast(trends.Kept, ctx.request.app.state.trends)


@endpoint(auth="optional")
async def trending_statuses(ctx: Ctx) -> Response:
    limit, offset = _window(ctx, 20, 40)
    async with ctx.db.read() as session:
        rows = list(
            await session.scalars(trends.trending_statuses_query(ctx.viewer_id).offset(offset).limit(limit))
        )
        body = await render_statuses(session, ctx.settings, ctx.viewer_id, rows, filter_context="public")
    return json_response(body, headers=_offset_headers(ctx, len(rows), limit, offset))


@endpoint(auth="optional")
async def trending_links(ctx: Ctx) -> Response:
    limit, offset = _window(ctx, 10, 20)

    async def compute() -> list[dict[str, Any]]:
        async with ctx.db.read() as session:
            return [
                render_trending_link(link) for link in await trends.trending_links(session, limit, offset)
            ]

    body = await _kept(ctx).get(("links", limit, offset), compute)
    return json_response(body, headers=_offset_headers(ctx, len(body), limit, offset))


async def _suggested(ctx: Ctx) -> list[tuple[dict[str, object], str]]:
    limit = max(1, min(ctx.params.int("limit", 40) or 40, 80))
    async with ctx.db.read() as session:
        found = await suggestions(session, ctx.account_id, limit)
    return [(render_account(ctx.settings, s.account), s.source) for s in found]


@endpoint(scope="read:accounts", auth="required")
async def suggestions_v2(ctx: Ctx) -> Response:
    return json_response(
        [
            {"source": LEGACY_SOURCE[source], "sources": [source], "account": account}
            for account, source in await _suggested(ctx)
        ]
    )


@endpoint(scope="read:accounts", auth="required")
async def suggestions_v1(ctx: Ctx) -> Response:
    return json_response([account for account, _ in await _suggested(ctx)])


@endpoint(scope="write:accounts", auth="required")
async def dismiss_suggestion(ctx: Ctx) -> Response:
    await suggestion_actions.dismiss(ctx.db, ctx.account_id, ctx.path_id("account_id"))
    return json_response({})


routes = [
    Route("/api/v1/trends", trending_tags, methods=["GET"]),
    Route("/api/v1/trends/tags", trending_tags, methods=["GET"]),
    Route("/api/v1/trends/statuses", trending_statuses, methods=["GET"]),
    Route("/api/v1/trends/links", trending_links, methods=["GET"]),
    Route("/api/v2/suggestions", suggestions_v2, methods=["GET"]),
    Route("/api/v1/suggestions", suggestions_v1, methods=["GET"]),
    Route("/api/v1/suggestions/{account_id}", dismiss_suggestion, methods=["DELETE"]),
]
