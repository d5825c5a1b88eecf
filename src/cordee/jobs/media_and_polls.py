"""Periodic work for media and polls, derived from the database (so nothing is lost while the
server is down): announce ended polls, remove media left unattached."""

from __future__ import annotations

from cordee.actions import media, polls
from cordee.config import Settings
from cordee.db.engine import Database
from cordee.jobs.runner import periodic


@periodic("polls.close_ended")
async def close_ended_polls(db: Database, settings: Settings) -> int:
    return await polls.close_ended_polls(db)


@periodic("media.remove_unattached")
async def remove_unattached_media(db: Database, settings: Settings) -> int:
    return await media.remove_unattached_media(db, settings)
