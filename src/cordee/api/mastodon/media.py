"""``/api/v1/media`` and ``/api/v2/media``: upload images, video and audio (with alt text, a focal
point and optionally a custom thumbnail, the preview), then describe, re-thumbnail or delete them
until a note uses them (``media_ids[]`` on ``POST /api/v1/statuses``).

As Mastodon: video and audio sent to v2 are processed later (202 with ``url: null``; ``GET
/api/v1/media/:id`` answers 206 until done, 422 if processing failed); v1 waits for them (200)."""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.responses import Response
from starlette.routing import Route

from cordee.actions import media as media_actions
from cordee.actions import media_video
from cordee.api.mastodon.base import Ctx, endpoint, json_response
from cordee.api.mastodon.errors import ApiError
from cordee.api.mastodon.params import Params, id_or_none
from cordee.api.mastodon.serializers.media import render_one
from cordee.media.av_workers import shared_workers
from cordee.media.images import _megabytes
from cordee.media.sniff import sniff
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


async def _render(ctx: Ctx, media_id: int, *, created: bool = False) -> Response:
    """The attachment: 200 when processed; while processing 202 (just uploaded) or 206; 422 when
    processing failed (Mastodon's ``processing_error``, with the reason)."""
    async with ctx.db.read() as session:
        media = await media_queries.own_unattached(session, ctx.account_id, media_id)
    if media is None:
        raise ApiError(404, "Record not found")
    if media.processing == "failed":
        raise ApiError(422, f"{media_video.PROCESSING_ERROR}: {media.processing_error}")
    status = 200 if media.processing == "complete" else 202 if created else 206
    return json_response(render_one(ctx.settings, media), status=status)


async def _read_uploads(ctx: Ctx, *, file_required: bool) -> tuple[bytes | None, bytes | None]:
    """The uploaded file's and custom thumbnail's bytes (one more than the limit is enough to tell
    one is too large); every uploaded part is closed here, so no temporary file outlives the request."""
    limit = max(ctx.settings.image_size_limit, ctx.settings.video_size_limit) + 1
    try:
        upload = ctx.params.raw("file")
        if file_required and not isinstance(upload, UploadFile):
            raise ApiError(422, 'Validation failed: File is missing (send it as the multipart field "file")')
        thumbnail = ctx.params.raw("thumbnail")
        if thumbnail == "":  # as absent (a form's empty file field)
            thumbnail = None
        if thumbnail is not None and not isinstance(thumbnail, UploadFile):
            raise ApiError(
                422, "Validation failed: thumbnail must be a file (send it as multipart form data)"
            )
        return (
            await upload.read(limit) if isinstance(upload, UploadFile) else None,
            await thumbnail.read(limit) if thumbnail is not None else None,
        )
    finally:
        await _close_uploads(ctx)


async def _close_uploads(ctx: Ctx) -> None:
    for name in ("file", "thumbnail"):
        if isinstance(part := ctx.params.raw(name), UploadFile):
            await part.close()


@endpoint(scope="write:media", auth="required", limit="media")
async def create(ctx: Ctx) -> Response:
    p = ctx.params
    upload = ctx.params.raw("file")
    declared = upload.content_type if isinstance(upload, UploadFile) else None
    data, thumbnail = await _read_uploads(ctx, file_required=True)
    assert data is not None
    container = sniff(data[:16])
    if container is not None and container != "image":
        workers = shared_workers(ctx.settings)
        media_id = await media_video.upload_av(
            ctx.db,
            ctx.settings,
            ctx.account_id,
            data,
            container,
            workers=workers,
            images=ctx.request.app.state.images,
            declared=declared,
            description=p.str("description", max_length=_TEXT_LIMIT),
            focus=p.str("focus") or None,
            thumbnail=thumbnail,
        )
        if ctx.request.url.path.startswith("/api/v1/"):  # v1 answers once the file is processed
            await media_video.process_pending(ctx.db, ctx.settings, workers, media_id=media_id)
        return await _render(ctx, media_id, created=True)
    if len(data) > ctx.settings.image_size_limit:
        limit = _megabytes(ctx.settings.image_size_limit)
        raise ApiError(422, f"Validation failed: File is too large: the limit is {limit}")
    media_id = await media_actions.upload_media(
        ctx.db,
        ctx.settings,
        ctx.account_id,
        data,
        images=ctx.request.app.state.images,
        description=p.str("description", max_length=_TEXT_LIMIT),
        focus=p.str("focus") or None,
        thumbnail=thumbnail,
    )
    return await _render(ctx, media_id)


@endpoint(scope="write:media", auth="required")
async def show(ctx: Ctx) -> Response:
    return await _render(ctx, ctx.path_id())


@endpoint(scope="write:media", auth="required")
async def update(ctx: Ctx) -> Response:
    p = ctx.params
    _, thumbnail = await _read_uploads(ctx, file_required=False)  # a new file is not taken (Mastodon)
    media_id = await media_actions.update_media(
        ctx.db,
        ctx.account_id,
        ctx.path_id(),
        description=p.str("description", max_length=_TEXT_LIMIT),
        focus=p.str("focus") or None,
        thumbnail=thumbnail,
        settings=ctx.settings,
        images=ctx.request.app.state.images,
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
