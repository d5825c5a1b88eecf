"""Notification entities."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.api.mastodon.serializers.accounts import render_account
from cordee.api.mastodon.serializers.common import iso
from cordee.config import Settings
from cordee.db.tables import Notification, Status
from cordee.queries.accounts import load_many as load_accounts
from cordee.queries.visibility import visible_to
from cordee.rendering.statuses import render_statuses


async def render_notifications(
    session: AsyncSession,
    settings: Settings,
    viewer_id: int,
    notifications: Sequence[Notification],
    filter_context: str | None = None,
) -> list[dict[str, Any]]:
    """With ``filter_context``, notifications whose status a ``hide`` filter removes are left out."""
    accounts = await load_accounts(session, [n.from_account_id for n in notifications])
    status_ids = {n.status_id for n in notifications if n.status_id is not None}
    # The notes are read through the visibility rule: a notification naming a note its recipient
    # may no longer see (a block since, a boost of a blocked author…) is left out.
    statuses = (
        list(await session.scalars(select(Status).where(Status.id.in_(status_ids), visible_to(viewer_id))))
        if status_ids
        else []
    )
    rendered = {
        int(r["id"]): r
        for r in await render_statuses(session, settings, viewer_id, statuses, filter_context=filter_context)
    }
    return [
        notification_entity(
            n.id,
            n.type,
            n.created_at,
            render_account(settings, accounts[n.from_account_id]),
            rendered.get(n.status_id) if n.status_id is not None else None,
        )
        for n in notifications
        if n.status_id is None or n.status_id in rendered
    ]


def notification_entity(
    notification_id: int,
    kind: str,
    created_at: datetime,
    account: dict[str, Any],
    status: dict[str, Any] | None,
) -> dict[str, Any]:
    """A Notification entity, from its account's and its note's entities (None: it names none)."""
    return {
        "id": str(notification_id),
        "type": kind,
        "created_at": iso(created_at),
        "group_key": f"ungrouped-{notification_id}",
        "account": account,
        **({"status": status} if status is not None else {}),
    }
