"""The job that transcodes video and audio uploads (``cordee.actions.media_video``).

Each tick of the runner claims waiting uploads, as many as this process has free workers, and
processes them in tasks of their own: a transcoding takes seconds to minutes, and the other
periodic tasks (scheduled notes, polls) must not wait for it. The state is in the database, so an
upload whose process stopped is claimed again once its claim has expired (``LEASE``).
"""

from __future__ import annotations

import asyncio
import logging
import weakref

from cordee.actions import media_video
from cordee.config import Settings
from cordee.db.engine import Database
from cordee.jobs.runner import periodic
from cordee.media.av_workers import shared_workers

log = logging.getLogger(__name__)

#: The processing tasks running in each event loop (one loop per server process).
_running: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, set[asyncio.Task[None]]] = (
    weakref.WeakKeyDictionary()
)


async def _process(db: Database, settings: Settings, media_id: int, attempt: int) -> None:
    try:
        await media_video.process_claimed(db, settings, shared_workers(settings), media_id, attempt)
    except Exception:  # the claim expires and the upload is tried again (MAX_ATTEMPTS in all)
        log.exception("processing media %s failed", media_id)


@periodic("media.process_video")
async def start_processing(db: Database, settings: Settings) -> int:
    running = _running.setdefault(asyncio.get_running_loop(), set())
    started = 0
    while len(running) < settings.video_workers:
        claim = await media_video.claim_next(db)
        if claim is None:
            break
        task = asyncio.create_task(_process(db, settings, *claim), name=f"cordee-media-{claim[0]}")
        running.add(task)
        task.add_done_callback(running.discard)
        started += 1
    return started
