"""``PUT /api/v1/statuses/:id`` (edit), and a note's ``history`` and ``source``."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from cordee.actions.status_edits import StatusChanges, edit_status
from cordee.api.mastodon._responses import status_response
from cordee.api.mastodon.base import Ctx, endpoint, json_response
from cordee.api.mastodon.errors import ApiError
from cordee.api.mastodon.media import media_ids_from_params
from cordee.api.mastodon.polls import poll_from_params
from cordee.api.mastodon.serializers.status_edits import render_status_edits, render_status_source
from cordee.db.tables import Status
from cordee.queries import personal
from cordee.queries.accounts import account_by_id
from cordee.queries.statuses import visible_status


async def _original(ctx: Ctx) -> Status:
    """The note named in the path, if the viewer may see it; boosts have no text of their own."""
    async with ctx.db.read() as session:
        status = await visible_status(session, ctx.viewer_id, ctx.path_id())
    if status is None or status.reblog_of_id is not None:
        raise ApiError(404, "Record not found")
    return status


@endpoint(scope="write:statuses", auth="required")
async def update(ctx: Ctx) -> Response:
    p = ctx.params
    changes = StatusChanges(
        text=p.str("status", "", max_length=100_000) or "",
        spoiler_text=p.str("spoiler_text", "", max_length=100_000) or "",
        sensitive=bool(p.bool("sensitive", False)),
        language=p.str("language") or None,
        media_ids=media_ids_from_params(p),
        poll=poll_from_params(p),
    )
    status_id = await edit_status(ctx.db, ctx.settings, ctx.account_id, ctx.path_id(), changes)
    return await status_response(ctx, status_id)


@endpoint(scope="read:statuses", auth="optional")
async def history(ctx: Ctx) -> Response:
    status = await _original(ctx)
    async with ctx.db.read() as session:
        author = await account_by_id(session, status.account_id)
        assert author is not None
        edits = await personal.edits_of(session, status.id)
        return json_response(await render_status_edits(session, ctx.settings, author, status, edits))


@endpoint(scope="read:statuses", auth="required")
async def source(ctx: Ctx) -> Response:
    status = await _original(ctx)
    if status.account_id != ctx.account_id:  # only the author edits, so only they need the source
        raise ApiError(403, "This action is not allowed")
    return json_response(render_status_source(status))


routes = [
    Route("/api/v1/statuses/{id}", update, methods=["PUT"]),
    Route("/api/v1/statuses/{id}/history", history, methods=["GET"]),
    Route("/api/v1/statuses/{id}/source", source, methods=["GET"]),
]
