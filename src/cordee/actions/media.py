"""Uploading, describing and removing media, and attaching them to a note being posted."""

from __future__ import annotations

import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, select, update

from cordee.actions.errors import NotFound, ValidationFailed
from cordee.config import Settings
from cordee.db.engine import Database, Tx
from cordee.db.tables_media import MediaAttachment
from cordee.db.tables_personal import ScheduledMedia
from cordee.db.types import utcnow
from cordee.ids import new_id
from cordee.media import incoming
from cordee.media.images import MediaRejected, ProcessedImage, Rendition
from cordee.media.storage import MediaStorage, storage_for
from cordee.media.workers import ImageWorkers
from cordee.queries import media as media_queries

MAX_DESCRIPTION = 1500
MAX_ATTACHMENTS = 4
#: Media not attached to a note (never, or no longer) are removed after this long.
UNATTACHED_LIFETIME = timedelta(days=1)
#: Mastodon's words (``media_attachments.validations.not_ready``), which clients show.
NOT_READY = "Cannot attach files that have not finished processing. Try again in a moment!"


@dataclass(frozen=True)
class Focus:
    x: float
    y: float


def parse_focus(value: str) -> Focus:
    """Mastodon's focal point: ``"x,y"``, each from -1.0 to 1.0 (0,0 is the centre)."""
    parts = value.split(",")
    try:
        x, y = (float(part) for part in parts)
    except ValueError:
        raise ValidationFailed('Validation failed: focus must be two numbers, "x,y"') from None
    if not all(math.isfinite(c) and -1.0 <= c <= 1.0 for c in (x, y)):
        raise ValidationFailed("Validation failed: focus coordinates must be between -1.0 and 1.0")
    return Focus(x, y)


def _description(value: str | None) -> str | None:
    if value is None:
        return None
    if len(value) > MAX_DESCRIPTION:
        raise ValidationFailed(
            f"Validation failed: Description is too long (maximum is {MAX_DESCRIPTION} characters)"
        )
    return value


async def _processed(images: ImageWorkers, data: bytes, what: str = "") -> ProcessedImage:
    try:
        return await images.process(data)
    except MediaRejected as e:
        raise ValidationFailed(f"Validation failed: {what}{e}") from None


async def _store(storage: MediaStorage, media_id: int, image: ProcessedImage) -> tuple[str, str]:
    # A random part makes the URL of a file unguessable from its id.
    prefix = f"{media_id}-{secrets.token_urlsafe(9)}"
    file_key = f"{prefix}/original.{image.original.extension}"
    small_key = f"{prefix}/small.{image.small.extension}"
    await storage.put(file_key, image.original.data, image.original.content_type)
    try:
        await storage.put(small_key, image.small.data, image.small.content_type)
    except BaseException:
        await storage.delete(file_key)
        raise
    return file_key, small_key


async def upload_media(
    db: Database,
    settings: Settings,
    account_id: int,
    data: bytes,
    *,
    images: ImageWorkers,
    description: str | None = None,
    focus: str | None = None,
    storage: MediaStorage | None = None,
    thumbnail: bytes | None = None,
) -> int:
    """Check, clean and store an uploaded image; returns the new (unattached) attachment's id.

    Nothing is stored when the file is refused: the checks all run before the first write. The
    image is decoded in a capped child process (``images``, the server's), never in this one. A
    custom ``thumbnail`` (Mastodon's) is processed the same way and becomes the preview.
    """
    description = _description(description)
    point = parse_focus(focus) if focus else None
    image = await _processed(images, data)
    if thumbnail is not None:
        preview = await _processed(images, thumbnail, "Thumbnail: ")
        image = replace(image, small=preview.small, blurhash=preview.blurhash)
    storage = storage or storage_for(settings)
    media_id = new_id()
    file_key, small_key = await _store(storage, media_id, image)
    try:
        async with db.write() as tx:
            tx.session.add(
                MediaAttachment(
                    id=media_id,
                    account_id=account_id,
                    type="image",
                    content_type=image.original.content_type,
                    file_key=file_key,
                    file_size=len(image.original.data),
                    width=image.original.width,
                    height=image.original.height,
                    small_key=small_key,
                    small_width=image.small.width,
                    small_height=image.small.height,
                    description=description or None,
                    focus_x=point.x if point else None,
                    focus_y=point.y if point else None,
                    blurhash=image.blurhash,
                )
            )
    except BaseException:
        await storage.delete(file_key)
        await storage.delete(small_key)
        raise
    return media_id


async def _own_unattached(tx: Tx, account_id: int, media_id: int) -> MediaAttachment:
    media = await tx.session.scalar(
        select(MediaAttachment)
        .where(
            MediaAttachment.id == media_id,
            MediaAttachment.account_id == account_id,
            MediaAttachment.status_id.is_(None),
        )
        .with_for_update()  # against a note claiming it at the same moment
    )
    if media is None:
        raise NotFound()
    return media


async def update_media(
    db: Database,
    account_id: int,
    media_id: int,
    *,
    description: str | None = None,
    focus: str | None = None,
    thumbnail: bytes | None = None,
    settings: Settings | None = None,
    images: ImageWorkers | None = None,
) -> int:
    """Change the description (``""`` clears it), the focal point or the thumbnail (the preview;
    needs ``settings`` and ``images``) of one's unattached media."""
    description = _description(description)
    point = parse_focus(focus) if focus else None
    new_small: tuple[str, Rendition, str] | None = None
    if thumbnail is not None:
        assert settings is not None and images is not None
        async with db.read() as session:  # someone else's media: 404 before any work
            if await media_queries.own_unattached(session, account_id, media_id) is None:
                raise NotFound()
        preview = await _processed(images, thumbnail, "Thumbnail: ")
        key = f"{media_id}-{secrets.token_urlsafe(9)}/thumbnail.{preview.small.extension}"
        storage = storage_for(settings)
        await storage.put(key, preview.small.data, preview.small.content_type)
        new_small = (key, preview.small, preview.blurhash)
    try:
        async with db.write() as tx:
            media = await _own_unattached(tx, account_id, media_id)
            if description is not None:
                media.description = description or None
            if point is not None:
                media.focus_x, media.focus_y = point.x, point.y
            old_small = media.small_key
            if new_small is not None:
                media.small_key, small, media.blurhash = new_small
                media.small_width, media.small_height = small.width, small.height
    except BaseException:
        if new_small is not None:
            await storage.delete(new_small[0])
        raise
    if new_small is not None and old_small:
        await storage.delete(old_small)
    return media_id


async def delete_media(db: Database, settings: Settings, account_id: int, media_id: int) -> None:
    """Remove one's own media that no note uses; its files go once the row is gone."""
    async with db.write() as tx:
        media = await _own_unattached(tx, account_id, media_id)
        kept = select(ScheduledMedia.media_id).where(ScheduledMedia.media_id == media.id)
        if await tx.session.scalar(kept) is not None:
            raise ValidationFailed("Validation failed: This media is kept for a scheduled note")
        keys = (media.file_key, media.small_key)
        waiting = media.incoming_key
        await tx.session.delete(media)
    storage = storage_for(settings)
    for key in keys:
        if key:
            await storage.delete(key)
    await incoming.delete(settings, waiting)


# --- attaching, inside post_status's transaction ---------------------------------------------------


def check_media_ids(media_ids: Sequence[int], *, with_poll: bool) -> tuple[int, ...]:
    """The attachment ids a note asks for, without repeats; refuses too many, or media with a poll."""
    ids = tuple(dict.fromkeys(media_ids))
    if len(ids) > MAX_ATTACHMENTS:
        raise ValidationFailed(f"Validation failed: Cannot attach more than {MAX_ATTACHMENTS} files")
    if ids and with_poll:
        raise ValidationFailed("Validation failed: A note cannot have both media attachments and a poll")
    return ids


async def claim_media(tx: Tx, account_id: int, media_ids: Sequence[int]) -> list[MediaAttachment]:
    """The author's unattached media, in the order given (locked until the transaction ends)."""
    if not media_ids:
        return []
    rows = await tx.session.scalars(
        select(MediaAttachment)
        .where(
            MediaAttachment.id.in_(media_ids),
            MediaAttachment.account_id == account_id,
            MediaAttachment.status_id.is_(None),
            MediaAttachment.id.not_in(select(ScheduledMedia.media_id)),  # kept for a scheduled note
        )
        .with_for_update()
    )
    found = {m.id: m for m in rows}
    missing = [str(i) for i in media_ids if i not in found]
    if missing:
        raise ValidationFailed(
            f"Validation failed: Media {', '.join(missing)} not found or already attached to another note"
        )
    if any(m.processing != "complete" for m in found.values()):
        raise ValidationFailed(NOT_READY)  # video or audio still being processed (or failed)
    return [found[i] for i in media_ids]


async def attach_media(tx: Tx, status_id: int, media: Sequence[MediaAttachment]) -> None:
    for position, attachment in enumerate(media):
        attachment.status_id = status_id
        attachment.position = position
        attachment.detached_at = None


# --- clean-up ------------------------------------------------------------------------------------


async def remove_unattached_media(db: Database, settings: Settings, *, batch: int = 100) -> int:
    """Delete media left unattached for a day (uploads never posted, or whose note was deleted).

    A note's deletion detaches its media through the foreign key (``status_id`` becomes NULL);
    they are stamped ``detached_at`` here on first sight, so "delete and redraft" has a day too.
    """
    now = utcnow()
    cutoff: datetime = now - UNATTACHED_LIFETIME
    unstamped = (
        MediaAttachment.status_id.is_(None),
        MediaAttachment.position.is_not(None),
        MediaAttachment.detached_at.is_(None),
    )
    stale = (
        MediaAttachment.status_id.is_(None),
        MediaAttachment.id.not_in(select(ScheduledMedia.media_id)),  # kept for a scheduled note
        or_(
            MediaAttachment.detached_at < cutoff,
            MediaAttachment.detached_at.is_(None) & (MediaAttachment.created_at < cutoff),
        ),
    )
    async with db.read() as session:  # most ticks have nothing to do: no write lock for them
        work = await session.scalar(
            select(MediaAttachment.id).where(or_(and_(*unstamped), and_(*stale))).limit(1)
        )
    if work is None:
        return 0
    async with db.write() as tx:
        await tx.session.execute(update(MediaAttachment).where(*unstamped).values(detached_at=now))
        candidates = list(
            await tx.session.scalars(
                select(MediaAttachment.id).where(*stale).order_by(MediaAttachment.id).limit(batch)
            )
        )
        gone: list[tuple[str | None, str | None, str | None]] = []
        if candidates:
            # Deleted only if still unattached (a note may have claimed one meanwhile); the files
            # removed are those of the rows actually deleted.
            result = await tx.session.execute(
                delete(MediaAttachment)
                .where(MediaAttachment.id.in_(candidates), MediaAttachment.status_id.is_(None))
                .returning(MediaAttachment.file_key, MediaAttachment.small_key, MediaAttachment.incoming_key)
            )
            gone = [(row.file_key, row.small_key, row.incoming_key) for row in result]
    storage = storage_for(settings)
    for file_key, small_key, waiting in gone:
        for key in (file_key, small_key):
            if key:
                await storage.delete(key)
        await incoming.delete(settings, waiting)
    return len(gone)
