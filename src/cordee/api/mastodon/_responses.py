"""Answers shared by several resources: one status as the viewer sees it (404 when they may not),
and the viewer's relationship with one account."""

from __future__ import annotations

from starlette.responses import Response

from cordee.api.mastodon.base import Ctx, json_response
from cordee.api.mastodon.errors import ApiError
from cordee.api.mastodon.serializers.accounts import render_relationships
from cordee.queries.pages import visible_one
from cordee.rendering.statuses import render_live


async def status_response(ctx: Ctx, status_id: int, *, boost_answer: bool = False) -> Response:
    """One note as the viewer sees it, read from the primary (it may have just been written).

    ``boost_answer``: the answer to ``POST …/reblog``, where Mastodon's wrapper carries the viewer's
    marks on the boosted note (its serializer, without a relationships presenter there, asks
    ``reblogged?(status)``, which looks at ``status.proper``); timelines keep the wrapper's own."""
    page = await visible_one(ctx.db.hot, ctx.viewer_id, status_id)
    if page is None:
        raise ApiError(404, "Record not found")
    [body] = await render_live(ctx.db, ctx.settings, ctx.viewer_id, page.lives, page.originals)
    inner = body.get("reblog")
    if boost_answer and inner is not None:
        for mark in ("favourited", "reblogged", "bookmarked"):
            if mark in inner:
                body[mark] = inner[mark]
    return json_response(body)


async def relationship_response(ctx: Ctx, account_id: int) -> Response:
    [rel] = await render_relationships(ctx.db.hot, ctx.account_id, [account_id])
    return json_response(rel)
