"""Poll entities, rendered for one viewer in a few queries for a whole page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cordee.api.mastodon.serializers.common import iso
from cordee.db.tables_polls import Poll
from cordee.db.types import utcnow
from cordee.queries import polls as poll_queries


async def render_polls(
    session: AsyncSession, viewer_id: int | None, polls: Sequence[Poll]
) -> dict[int, dict[str, Any]]:
    """Poll entities by poll id. Per-option counts are hidden (null) while a ``hide_totals`` poll
    runs; ``voted`` and ``own_votes`` only for a signed-in viewer (the author counts as voted)."""
    ids = [p.id for p in polls]
    counts = await poll_queries.tallies(session, ids)
    mine = await poll_queries.own_votes(session, viewer_id, ids) if viewer_id is not None else {}
    now = utcnow()
    rendered: dict[int, dict[str, Any]] = {}
    for poll in polls:
        tally = counts[poll.id]
        expired = poll.expires_at <= now
        show_totals = expired or not poll.hide_totals
        entity: dict[str, Any] = {
            "id": str(poll.id),
            "expires_at": iso(poll.expires_at),
            "expired": expired,
            "multiple": poll.multiple,
            "votes_count": tally.votes,
            "voters_count": tally.voters,
            "options": [
                {"title": title, "votes_count": tally.per_option.get(i, 0) if show_totals else None}
                for i, title in enumerate(poll.options)
            ],
            "emojis": [],
        }
        if viewer_id is not None:
            own = mine.get(poll.id, [])
            entity["voted"] = poll.account_id == viewer_id or bool(own)
            entity["own_votes"] = own
        rendered[poll.id] = entity
    return rendered


async def polls_by_status(
    session: AsyncSession, viewer_id: int | None, status_ids: Sequence[int]
) -> dict[int, dict[str, Any]]:
    polls = await poll_queries.polls_of(session, status_ids)
    rendered = await render_polls(session, viewer_id, polls)
    return {p.status_id: rendered[p.id] for p in polls}


async def render_poll(session: AsyncSession, viewer_id: int | None, poll: Poll) -> dict[str, Any]:
    return (await render_polls(session, viewer_id, [poll]))[poll.id]
