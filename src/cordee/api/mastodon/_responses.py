"""Answers shared by several resources: one status as the viewer sees it (404 when they may not),
a page of notes read on a hot path, and the viewer's relationship with one account."""

from __future__ import annotations

from starlette.responses import Response

from cordee.api.mastodon.base import Ctx, json_response
from cordee.api.mastodon.errors import ApiError
from cordee.api.mastodon.pagination import Page, paged_headers
from cordee.api.mastodon.serializers.accounts import render_relationships
from cordee.queries.pages import LivePage, visible_one
from cordee.rendering.statuses import render_filtered, render_live, render_page


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


async def page_response(ctx: Ctx, page: Page, found: LivePage, context: str) -> Response:
    """A page of notes read on a hot path, with its ``Link`` header: rendered from the kept bodies
    with the reader's marks, or for a reader with filters through them (``context``: the filters'
    context, "public" or "account")."""
    ids = [x.id for x in found.lives]
    headers = paged_headers(ctx.request, ids, page, ctx.settings.base_url)
    if ctx.viewer_id is not None and ctx.has_filters:
        body = await render_filtered(ctx.db, ctx.settings, ctx.viewer_id, ids, context)
    else:
        body = await render_page(ctx.db, ctx.settings, ctx.viewer_id, found.lives, found.originals)
    return json_response(body, headers=headers)
