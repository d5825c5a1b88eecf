"""StatusEdit and StatusSource entities."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.api.mastodon.serializers.accounts import render_account
from cordee.api.mastodon.serializers.common import iso
from cordee.api.mastodon.serializers.media import render_media
from cordee.config import Settings
from cordee.db.tables import Account, Status
from cordee.db.tables_media import MediaAttachment
from cordee.db.tables_personal import StatusEdit
from cordee.db.tables_polls import Poll
from cordee.media.storage import storage_for


async def _as_posted(session: AsyncSession, status: Status) -> StatusEdit:
    """A note never edited, as its only revision (not stored)."""
    media_ids = list(
        await session.scalars(
            select(MediaAttachment.id)
            .where(MediaAttachment.status_id == status.id)
            .order_by(MediaAttachment.position, MediaAttachment.id)
        )
    )
    options = await session.scalar(select(Poll.options).where(Poll.status_id == status.id))
    return StatusEdit(
        status_id=status.id,
        account_id=status.account_id,
        text=status.text,
        content=status.content,
        spoiler_text=status.spoiler_text,
        sensitive=status.sensitive,
        language=status.language,
        media_ids=media_ids or None,
        poll_options=list(options) if options is not None else None,
        created_at=status.created_at,
    )


async def render_status_edits(
    session: AsyncSession, settings: Settings, author: Account, status: Status, edits: Sequence[StatusEdit]
) -> list[dict[str, Any]]:
    """The revisions, oldest first; a note never edited has one: itself, as posted. Media a
    revision had and that were removed since (and cleaned up) are left out."""
    revisions = list(edits) or [await _as_posted(session, status)]
    wanted = {i for r in revisions for i in r.media_ids or ()}
    storage = storage_for(settings)
    media = (
        {
            m.id: render_media(storage, m)
            for m in await session.scalars(select(MediaAttachment).where(MediaAttachment.id.in_(wanted)))
        }
        if wanted
        else {}
    )
    account = render_account(settings, author)
    return [
        {
            "content": r.content,
            "spoiler_text": r.spoiler_text,
            "sensitive": r.sensitive,
            "created_at": iso(r.created_at),
            "account": account,
            "poll": {"options": [{"title": t} for t in r.poll_options]} if r.poll_options else None,
            "media_attachments": [media[i] for i in r.media_ids or () if i in media],
            "emojis": [],
        }
        for r in revisions
    ]


def render_status_source(status: Status) -> dict[str, Any]:
    return {"id": str(status.id), "text": status.text, "spoiler_text": status.spoiler_text}
