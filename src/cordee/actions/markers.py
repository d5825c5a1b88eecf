"""Reading positions (Mastodon's markers): where a person stopped reading home and notifications,
so that their other apps and devices resume there."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cordee.actions.errors import ValidationFailed
from cordee.db.engine import Database, Tx
from cordee.db.tables_personal import Marker
from cordee.db.types import utcnow

TIMELINES = ("home", "notifications")


async def _save_one(tx: Tx, account_id: int, timeline: str, last_read_id: int) -> None:
    query = select(Marker).where(Marker.account_id == account_id, Marker.timeline == timeline)
    marker = await tx.session.scalar(query.with_for_update())
    if marker is None:
        try:
            async with tx.session.begin_nested():
                tx.session.add(Marker(account_id=account_id, timeline=timeline, last_read_id=last_read_id))
                await tx.session.flush()
            return
        except IntegrityError:  # another device created it at the same moment: update that one
            marker = await tx.session.scalar(query.with_for_update())
            assert marker is not None
    if marker.last_read_id != last_read_id:
        marker.last_read_id = last_read_id
        marker.version += 1
        marker.updated_at = utcnow()


async def save_markers(db: Database, account_id: int, positions: Mapping[str, int]) -> None:
    """Set the last read id of some timelines; ``version`` counts the changes of each marker."""
    unknown = sorted(set(positions) - set(TIMELINES))
    if unknown:
        raise ValidationFailed(f"Validation failed: unknown timeline {', '.join(unknown)}")
    if not positions:
        return
    async with db.write() as tx:
        for timeline in TIMELINES:
            if timeline in positions:
                await _save_one(tx, account_id, timeline, positions[timeline])
