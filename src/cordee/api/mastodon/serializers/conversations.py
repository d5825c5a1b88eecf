"""Conversation entities, for a page at a time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.api.mastodon.serializers.accounts import render_account
from cordee.config import Settings
from cordee.db.tables import Status
from cordee.db.tables_curation import AccountConversation
from cordee.queries.accounts import load_many as load_accounts
from cordee.queries.conversations import participants
from cordee.queries.visibility import visible_to
from cordee.rendering.statuses import render_statuses


async def render_conversations(
    session: AsyncSession, settings: Settings, viewer_id: int, rows: Sequence[tuple[AccountConversation, int]]
) -> list[dict[str, Any]]:
    last_ids = [last for _, last in rows]
    # Read through the visibility rule, whoever computed ``rows`` (the list, or the streaming hub).
    statuses = (
        list(await session.scalars(select(Status).where(Status.id.in_(last_ids), visible_to(viewer_id))))
        if last_ids
        else []
    )
    rendered = {int(r["id"]): r for r in await render_statuses(session, settings, viewer_id, statuses)}
    accounts = await load_accounts(session, [a for view, _ in rows for a in participants(view)])
    return [
        {
            "id": str(view.id),
            "unread": view.unread,
            "accounts": [render_account(settings, accounts[a]) for a in participants(view) if a in accounts],
            "last_status": rendered.get(last),
        }
        for view, last in rows
    ]
