"""Clearing and dismissing one's notifications."""

from __future__ import annotations

from sqlalchemy import delete

from cordee.actions.errors import NotFound
from cordee.db.engine import Database
from cordee.db.tables import Notification


async def clear_notifications(db: Database, account_id: int) -> None:
    async with db.write() as tx:
        await tx.session.execute(delete(Notification).where(Notification.account_id == account_id))


async def dismiss_notification(db: Database, account_id: int, notification_id: int) -> None:
    async with db.write() as tx:
        result = await tx.session.execute(
            delete(Notification).where(
                Notification.id == notification_id, Notification.account_id == account_id
            )
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            raise NotFound()
