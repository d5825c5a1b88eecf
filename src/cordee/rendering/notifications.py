"""Notification entities for the hot read path: the notes they name rendered as every timeline
renders them (``render_live``: bodies kept, the reader's marks), their accounts from the kept
account bodies with fresh counters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cordee.api.mastodon.serializers.notifications import notification_entity
from cordee.config import Settings
from cordee.db.engine import Database
from cordee.queries.notification_pages import Row
from cordee.queries.pages import live_rows, with_originals
from cordee.queries.timelines import live_visible
from cordee.rendering.accounts import account_entities
from cordee.rendering.statuses import render_page


async def render_hot_notifications(
    db: Database, settings: Settings, viewer: int, rows: Sequence[Row]
) -> list[dict[str, Any]]:
    """Entities of a page of ``viewer``'s notifications (readers without filters: their callers
    send the others to ``render_notifications``). A notification whose note the reader may no
    longer see is left out, as there."""
    hot = db.hot_replica
    status_ids = [r.status_id for r in rows if r.status_id is not None]
    notes: dict[int, dict[str, Any]] = {}
    if status_ids:
        found = await live_rows(hot, status_ids, *live_visible(viewer))
        page = await with_originals(hot, found, viewer=viewer)
        entities = await render_page(db, settings, viewer, page.lives, page.originals)
        notes = {live.id: entity for live, entity in zip(page.lives, entities, strict=True)}
    accounts = await account_entities(db, settings, (r.from_account_id for r in rows))
    return [
        notification_entity(
            n.id,
            n.type,
            n.created_at,
            accounts[n.from_account_id],
            notes.get(n.status_id) if n.status_id is not None else None,
        )
        for n in rows
        # A note gone or hidden since leaves its notification out; an account gone takes its
        # notifications with it (a row read just before is left out the same way).
        if (n.status_id is None or n.status_id in notes) and n.from_account_id in accounts
    ]
