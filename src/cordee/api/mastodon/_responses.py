"""Answers shared by several resources: one status as the viewer sees it (404 when they may not),
and the viewer's relationship with one account."""

from __future__ import annotations

from starlette.responses import Response

from cordee.api.mastodon.base import Ctx, json_response
from cordee.api.mastodon.errors import ApiError
from cordee.api.mastodon.serializers.accounts import render_relationships
from cordee.queries.pages import visible_one
from cordee.rendering.statuses import render_live


async def status_response(ctx: Ctx, status_id: int) -> Response:
    """One note as the viewer sees it, read from the primary (it may have just been written)."""
    page = await visible_one(ctx.db.hot, ctx.viewer_id, status_id)
    if page is None:
        raise ApiError(404, "Record not found")
    [body] = await render_live(ctx.db, ctx.settings, ctx.viewer_id, page.lives, page.originals)
    return json_response(body)


async def relationship_response(ctx: Ctx, account_id: int) -> Response:
    [rel] = await render_relationships(ctx.db.hot, ctx.account_id, [account_id])
    return json_response(rel)
