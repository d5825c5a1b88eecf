"""Reading media attachments."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.db.tables_media import MediaAttachment


async def own_unattached(session: AsyncSession, account_id: int, media_id: int) -> MediaAttachment | None:
    """One's own media not yet attached to a note: the only ones the media API shows (as Mastodon)."""
    return await session.scalar(
        select(MediaAttachment).where(
            MediaAttachment.id == media_id,
            MediaAttachment.account_id == account_id,
            MediaAttachment.status_id.is_(None),
        )
    )
