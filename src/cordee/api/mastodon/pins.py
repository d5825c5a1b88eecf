"""Pinning one's notes to one's profile: ``/api/v1/statuses/:id/pin`` and ``/unpin``. The pinned
notes are listed by ``/api/v1/accounts/:id/statuses?pinned=true``."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from cordee.actions import pins
from cordee.api.mastodon._responses import status_response
from cordee.api.mastodon.base import Ctx, endpoint


@endpoint(scope="write:accounts", auth="required")
async def pin(ctx: Ctx) -> Response:
    return await status_response(ctx, await pins.pin(ctx.db, ctx.account_id, ctx.path_id()))


@endpoint(scope="write:accounts", auth="required")
async def unpin(ctx: Ctx) -> Response:
    return await status_response(ctx, await pins.unpin(ctx.db, ctx.account_id, ctx.path_id()))


routes = [
    Route("/api/v1/statuses/{id}/pin", pin, methods=["POST"]),
    Route("/api/v1/statuses/{id}/unpin", unpin, methods=["POST"]),
]
