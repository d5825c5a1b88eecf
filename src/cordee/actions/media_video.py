"""Video and audio uploads: accepted at once, processed later (Mastodon's ``POST /api/v2/media``
answering 202), by a job that claims one upload at a time from the database.

The state is in the row (``processing``: queued → in_progress → complete | failed), so nothing is
lost when the server stops: a claim not renewed for ``LEASE`` is taken again, at most
``MAX_ATTEMPTS`` times (a file that keeps killing its worker is then given up).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update

from cordee.actions.errors import ValidationFailed
from cordee.actions.media import _description, _processed, parse_focus
from cordee.config import Settings
from cordee.db.engine import Database
from cordee.db.tables_media import MediaAttachment
from cordee.db.types import utcnow
from cordee.ids import new_id
from cordee.media import incoming
from cordee.media.av_workers import AvResult, AvWorkers
from cordee.media.images import MediaRejected
from cordee.media.sniff import sniff
from cordee.media.storage import MediaStorage, storage_for
from cordee.media.workers import ImageWorkers

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
#: Mastodon's ``processing_error``, followed here by the reason.
PROCESSING_ERROR = "Error processing uploaded media"


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB"


async def upload_av(
    db: Database,
    settings: Settings,
    account_id: int,
    data: bytes,
    container: str,
    *,
    workers: AvWorkers,
    images: ImageWorkers,
    declared: str | None = None,
    description: str | None = None,
    focus: str | None = None,
    thumbnail: bytes | None = None,
) -> int:
    """Keep a video or audio upload for processing; returns the new attachment's id (queued).

    Its headers are checked first, in a capped child (type against content, streams, size,
    duration): what is plainly refused is refused now, with the reason. A custom ``thumbnail`` is
    processed at once and stays the preview (the poster frame does not replace it).
    """
    description = _description(description)
    point = parse_focus(focus) if focus else None
    if len(data) > settings.video_size_limit:
        raise ValidationFailed(
            f"Validation failed: File is too large: the limit is {_megabytes(settings.video_size_limit)}"
        )
    media_id = new_id()
    key = await incoming.put(settings, media_id, data)
    storage = storage_for(settings)
    small_key: str | None = None
    try:
        try:
            kind = await workers.probe(incoming.path(settings, key), container, declared)
        except MediaRejected as e:
            raise ValidationFailed(f"Validation failed: {e}") from None
        preview = None
        if thumbnail is not None:
            preview = await _processed(images, thumbnail, "Thumbnail: ")
            small_key = f"{media_id}-{secrets.token_urlsafe(9)}/thumbnail.{preview.small.extension}"
            await storage.put(small_key, preview.small.data, preview.small.content_type)
        async with db.write() as tx:
            tx.session.add(
                MediaAttachment(
                    id=media_id,
                    account_id=account_id,
                    type=kind,
                    content_type="video/mp4" if kind == "video" else "audio/mpeg",
                    small_key=small_key,
                    small_width=preview.small.width if preview else None,
                    small_height=preview.small.height if preview else None,
                    blurhash=preview.blurhash if preview else None,
                    description=description or None,
                    focus_x=point.x if point else None,
                    focus_y=point.y if point else None,
                    processing="queued",
                    incoming_key=key,
                    incoming_type=(declared or "")[:128] or None,
                )
            )
    except BaseException:
        await incoming.delete(settings, key)
        if small_key is not None:
            await storage.delete(small_key)
        raise
    return media_id


#: A claim holds this long unless renewed; the process working on it renews it every ``HEARTBEAT``
#: seconds, so an upload whose process died is taken again within ``LEASE`` of its last renewal.
LEASE = timedelta(seconds=120)
HEARTBEAT = 30.0


def _claimable(now: datetime) -> ColumnElement[bool]:
    return or_(
        MediaAttachment.processing == "queued",
        and_(
            MediaAttachment.processing == "in_progress", MediaAttachment.processing_started_at < now - LEASE
        ),
    )


def _ours(media_id: int, attempt: int) -> ColumnElement[bool]:
    """The claim ``attempt`` of this upload (each claim counts one more attempt: a token)."""
    return and_(
        MediaAttachment.id == media_id,
        MediaAttachment.processing == "in_progress",
        MediaAttachment.processing_attempts == attempt,
    )


async def _claim(db: Database, media_id: int | None = None) -> tuple[int, int] | None:
    """Take one upload to process (the oldest, or ``media_id``): ``(id, attempt)`` or None.

    The claim is a conditional UPDATE, so two processes (or two servers on PostgreSQL) never
    take the same upload; an upload claimed ``MAX_ATTEMPTS`` times already is marked failed."""
    now = utcnow()
    claimable = _claimable(now)
    async with db.read() as session:  # most ticks find nothing: no write lock for them
        query = select(MediaAttachment.id, MediaAttachment.processing_attempts).where(claimable)
        if media_id is not None:
            query = query.where(MediaAttachment.id == media_id)
        row = (await session.execute(query.order_by(MediaAttachment.id).limit(1))).first()
    if row is None:
        return None
    async with db.write() as tx:
        if row.processing_attempts >= MAX_ATTEMPTS:
            await tx.session.execute(
                update(MediaAttachment)
                .where(MediaAttachment.id == row.id, claimable)
                .values(
                    processing="failed",
                    processing_error="File could not be processed: it was tried too often",
                )
            )
            return None
        claimed = await tx.session.execute(
            update(MediaAttachment)
            .where(
                MediaAttachment.id == row.id,
                MediaAttachment.processing_attempts == row.processing_attempts,
                claimable,
            )
            .values(
                processing="in_progress",
                processing_started_at=now,
                processing_attempts=MediaAttachment.processing_attempts + 1,
            )
        )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None  # someone else took it first
    return row.id, row.processing_attempts + 1


async def _store(storage: MediaStorage, media_id: int, result: AvResult) -> tuple[str, str | None]:
    prefix = f"{media_id}-{secrets.token_urlsafe(9)}"
    file_key = f"{prefix}/original.{result.extension}"
    await storage.put(file_key, result.data, result.content_type)
    small_key = None
    if result.small is not None:
        small_key = f"{prefix}/small.jpg"
        try:
            await storage.put(small_key, result.small, "image/jpeg")
        except BaseException:
            await storage.delete(file_key)
            raise
    return file_key, small_key


async def _finish(
    db: Database, settings: Settings, media_id: int, attempt: int, result: AvResult | str
) -> None:
    """Record the outcome (the files, or the reason of the failure) if the claim is still ours."""
    storage = storage_for(settings)
    keys: tuple[str, str | None] = ("", None)
    if isinstance(result, AvResult):
        keys = await _store(storage, media_id, result)
    unused: list[str | None] = []
    done_with: str | None = None
    try:
        async with db.write() as tx:
            media = await tx.session.scalar(
                select(MediaAttachment).where(_ours(media_id, attempt)).with_for_update()
            )
            if media is None:
                unused = list(keys)  # deleted meanwhile, or the claim expired and another took it
            elif isinstance(result, str):
                done_with, media.incoming_key = media.incoming_key, None
                media.processing, media.processing_error = "failed", result
            else:
                done_with, media.incoming_key = media.incoming_key, None
                media.processing, media.processing_error = "complete", None
                media.type, media.content_type = result.type, result.content_type
                media.file_key, media.file_size = keys[0], len(result.data)
                media.width, media.height, media.meta = result.width, result.height, result.meta
                if media.small_key is None and keys[1] is not None and result.small_size is not None:
                    media.small_key, media.blurhash = keys[1], result.blurhash
                    media.small_width, media.small_height = result.small_size
                else:
                    unused = [keys[1]]  # a custom thumbnail was given: it stays the preview
    except BaseException:
        unused = list(keys)
        raise
    finally:
        for key in unused:
            if key:
                await storage.delete(key)
    await incoming.delete(settings, done_with)


async def _renew(db: Database, media_id: int, attempt: int) -> None:
    """Keep the claim while the worker runs (cancelled when it is done)."""
    while True:
        await asyncio.sleep(HEARTBEAT)
        async with db.write() as tx:
            await tx.session.execute(
                update(MediaAttachment).where(_ours(media_id, attempt)).values(processing_started_at=utcnow())
            )


async def process_claimed(
    db: Database, settings: Settings, workers: AvWorkers, media_id: int, attempt: int
) -> None:
    async with db.read() as session:
        row = (
            await session.execute(
                select(MediaAttachment.incoming_key, MediaAttachment.incoming_type).where(
                    MediaAttachment.id == media_id
                )
            )
        ).first()
    if row is None or row.incoming_key is None:
        return
    source = incoming.path(settings, row.incoming_key)
    outcome: AvResult | str
    renewal = asyncio.create_task(_renew(db, media_id, attempt))
    try:
        with source.open("rb") as f:
            container = sniff(f.read(16))
        if container in (None, "image"):
            raise MediaRejected("File type is not supported")
        outcome = await workers.process(source, str(container), row.incoming_type)
    except FileNotFoundError:
        outcome = "File could not be processed: the upload is gone"
    except MediaRejected as e:
        outcome = str(e)
    finally:
        renewal.cancel()
    await _finish(db, settings, media_id, attempt, outcome)


async def process_pending(
    db: Database, settings: Settings, workers: AvWorkers, *, media_id: int | None = None, limit: int = 10
) -> int:
    """Process waiting uploads one after the other, here and now (the job's work; tests step it
    inline): the oldest ``limit``, or only ``media_id``. Returns how many were processed."""
    done = 0
    while done < limit:
        claim = await _claim(db, media_id)
        if claim is None:
            break
        await process_claimed(db, settings, workers, *claim)
        done += 1
    return done


async def claim_next(db: Database) -> tuple[int, int] | None:
    """The oldest upload waiting (or abandoned), claimed: ``(id, attempt)`` for ``process_claimed``."""
    return await _claim(db)
