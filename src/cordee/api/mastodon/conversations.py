"""``/api/v1/conversations``: direct conversations, marked read or removed from one's list."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from cordee.actions import conversations as actions
from cordee.api.mastodon.base import Ctx, endpoint, json_response
from cordee.api.mastodon.errors import ApiError
from cordee.api.mastodon.pagination import Page, paged_headers
from cordee.api.mastodon.serializers.conversations import render_conversations
from cordee.db.tables_curation import AccountConversation
from cordee.queries.conversations import conversations_query


@endpoint(scope="read:statuses", auth="required")
async def index(ctx: Ctx) -> Response:
    page = Page.from_params(ctx.params, default=20, maximum=40)
    query, last = conversations_query(ctx.account_id)
    async with ctx.db.read() as session:
        rows = page.arrange(list((await session.execute(page.apply(query, last))).all()))
        body = await render_conversations(session, ctx.settings, ctx.account_id, rows)
    return json_response(
        body, headers=paged_headers(ctx.request, [k for _, k in rows], page, ctx.settings.base_url)
    )


@endpoint(scope="write:conversations", auth="required")
async def read(ctx: Ctx) -> Response:
    conversation_id = ctx.path_id()
    await actions.mark_read(ctx.db, ctx.account_id, conversation_id)
    query, _ = conversations_query(ctx.account_id)
    async with ctx.db.read() as session:
        rows = list((await session.execute(query.where(AccountConversation.id == conversation_id))).all())
        if not rows:
            raise ApiError(404, "Record not found")
        [body] = await render_conversations(session, ctx.settings, ctx.account_id, rows)
    return json_response(body)


@endpoint(scope="write:conversations", auth="required")
async def remove(ctx: Ctx) -> Response:
    await actions.remove(ctx.db, ctx.account_id, ctx.path_id())
    return json_response({})


routes = [
    Route("/api/v1/conversations", index, methods=["GET"]),
    Route("/api/v1/conversations/{id}", remove, methods=["DELETE"]),
    Route("/api/v1/conversations/{id}/read", read, methods=["POST"]),
]
