"""MediaAttachment entities."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.config import Settings
from cordee.db.tables_media import MediaAttachment
from cordee.media.storage import MediaStorage, storage_for


def _dimensions(width: int | None, height: int | None) -> dict[str, Any] | None:
    if not width or not height:
        return None
    return {"width": width, "height": height, "size": f"{width}x{height}", "aspect": width / height}


def _meta(media: MediaAttachment) -> dict[str, Any]:
    """Mastodon's ``meta``: an image's dimensions; for video and audio what the transcoded file is
    (duration, frame rate, bit rate, audio…, stored by the job); the preview's size; the focus."""
    meta: dict[str, Any] = {}
    if media.type == "image":
        meta["original"] = _dimensions(media.width, media.height)
    elif media.meta:
        meta.update(media.meta)
    small = _dimensions(media.small_width, media.small_height)
    if small is not None:
        meta["small"] = small
    if media.focus_x is not None and media.focus_y is not None:
        meta["focus"] = {"x": media.focus_x, "y": media.focus_y}
    return meta


def render_media(storage: MediaStorage, media: MediaAttachment) -> dict[str, Any]:
    """A MediaAttachment; while a video or audio file is processed, ``url`` is null (Mastodon)."""
    return {
        "id": str(media.id),
        "type": media.type,
        "url": storage.url(media.file_key) if media.file_key else None,
        "preview_url": storage.url(media.small_key) if media.small_key else None,
        "remote_url": None,
        "preview_remote_url": None,
        "text_url": None,
        "meta": _meta(media),
        "description": media.description,
        "blurhash": media.blurhash,
    }


def render_one(settings: Settings, media: MediaAttachment) -> dict[str, Any]:
    return render_media(storage_for(settings), media)


async def media_by_status(
    session: AsyncSession, settings: Settings, status_ids: Sequence[int]
) -> dict[int, list[dict[str, Any]]]:
    """The attachments of each note, in the order the author gave, in one query."""
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if not status_ids:
        return found
    storage = storage_for(settings)
    rows = await session.scalars(
        select(MediaAttachment)
        .where(MediaAttachment.status_id.in_(status_ids))
        .order_by(MediaAttachment.status_id, MediaAttachment.position, MediaAttachment.id)
    )
    for media in rows:
        assert media.status_id is not None
        found[media.status_id].append(render_media(storage, media))
    return found
