"""ScheduledStatus entities."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.api.mastodon.serializers.common import iso
from cordee.api.mastodon.serializers.media import render_media
from cordee.config import Settings
from cordee.db.tables_media import MediaAttachment
from cordee.db.tables_personal import ScheduledStatus
from cordee.media.storage import storage_for


def _media_ids(row: ScheduledStatus) -> list[int]:
    return [int(i) for i in row.params.get("media_ids") or ()]


async def render_scheduled_statuses(
    session: AsyncSession, settings: Settings, rows: Sequence[ScheduledStatus]
) -> list[dict[str, Any]]:
    wanted = {i for row in rows for i in _media_ids(row)}
    storage = storage_for(settings)
    media = (
        {
            m.id: render_media(storage, m)
            for m in await session.scalars(select(MediaAttachment).where(MediaAttachment.id.in_(wanted)))
        }
        if wanted
        else {}
    )
    return [
        {
            "id": str(row.id),
            "scheduled_at": iso(row.scheduled_at),
            "params": {**row.params, "scheduled_at": None},
            "media_attachments": [media[i] for i in _media_ids(row) if i in media],
        }
        for row in rows
    ]
