"""``/api/v1/media`` and ``/api/v2/media``: upload images (with alt text and a focal point), then
describe or delete them until a note uses them (``media_ids[]`` on ``POST /api/v1/statuses``)."""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.responses import Response
from starlette.routing import Route

from cordee.actions import media as media_actions
from cordee.api.mastodon.base import Ctx, endpoint, json_response
from cordee.api.mastodon.errors import ApiError
from cordee.api.mastodon.params import Params, id_or_none
from cordee.api.mastodon.serializers.media import render_one
from cordee.queries import media as media_queries

#: Longer than any valid description: the action gives the precise message.
_TEXT_LIMIT = 100_000


def media_ids_from_params(p: Params) -> tuple[int, ...]:
    """``media_ids[]`` of a note; an id that cannot exist is reported like a missing one."""
    ids: list[int] = []
    for raw in p.list("media_ids"):
        number = id_or_none(raw)
        if number is None:
            raise ApiError(
                422, f"Validation failed: Media {raw} not found or already attached to another note"
            )
        ids.append(number)
    return tuple(ids)


async def _render(ctx: Ctx, media_id: int) -> Response:
    async with ctx.db.read() as session:
        media = await media_queries.own_unattached(session, ctx.account_id, media_id)
    if media is None:
        raise ApiError(404, "Record not found")
    return json_response(render_one(ctx.settings, media))


async def _read_upload(ctx: Ctx) -> bytes:
    """The uploaded file's bytes (one more than the limit is enough to tell it is too large);
    every uploaded part is closed here, so no temporary file outlives the request."""
    try:
        upload = ctx.params.raw("file")
        if not isinstance(upload, UploadFile):
            raise ApiError(422, 'Validation failed: File is missing (send it as the multipart field "file")')
        return await upload.read(ctx.settings.image_size_limit + 1)
    finally:
        await _close_uploads(ctx)


async def _close_uploads(ctx: Ctx) -> None:
    for name in ("file", "thumbnail"):
        if isinstance(part := ctx.params.raw(name), UploadFile):
            await part.close()


@endpoint(scope="write:media", auth="required", limit="media")
async def create(ctx: Ctx) -> Response:
    p = ctx.params
    data = await _read_upload(ctx)
    media_id = await media_actions.upload_media(
        ctx.db,
        ctx.settings,
        ctx.account_id,
        data,
        images=ctx.request.app.state.images,
        description=p.str("description", max_length=_TEXT_LIMIT),
        focus=p.str("focus") or None,
    )
    return await _render(ctx, media_id)


@endpoint(scope="write:media", auth="required")
async def show(ctx: Ctx) -> Response:
    return await _render(ctx, ctx.path_id())


@endpoint(scope="write:media", auth="required")
async def update(ctx: Ctx) -> Response:
    p = ctx.params
    await _close_uploads(ctx)  # a custom thumbnail is not supported (images make their own)
    media_id = await media_actions.update_media(
        ctx.db,
        ctx.account_id,
        ctx.path_id(),
        description=p.str("description", max_length=_TEXT_LIMIT),
        focus=p.str("focus") or None,
    )
    return await _render(ctx, media_id)


@endpoint(scope="write:media", auth="required")
async def delete(ctx: Ctx) -> Response:
    await media_actions.delete_media(ctx.db, ctx.settings, ctx.account_id, ctx.path_id())
    return json_response({})


routes = [
    Route("/api/v2/media", create, methods=["POST"]),
    Route("/api/v1/media", create, methods=["POST"]),
    Route("/api/v1/media/{id}", show, methods=["GET"]),
    Route("/api/v1/media/{id}", update, methods=["PUT"]),
    Route("/api/v1/media/{id}", delete, methods=["DELETE"]),
]
