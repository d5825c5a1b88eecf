"""Publishing scheduled notes when their time comes (see ``actions.scheduled_statuses``)."""

from __future__ import annotations

from cordee.actions.scheduled_statuses import publish_due
from cordee.config import Settings
from cordee.db.engine import Database
from cordee.jobs.runner import periodic


@periodic("scheduled_statuses")
async def publish_scheduled_statuses(db: Database, settings: Settings) -> int:
    return await publish_due(db, settings)
