"""Creating notifications inside another action's transaction (not an action of its own)."""

from __future__ import annotations

from sqlalchemy import delete, select

from cordee.actions.push import record_deliveries
from cordee.db.engine import Tx
from cordee.db.tables import Account, Follow, Notification
from cordee.events.types import NotificationCreated
from cordee.queries.visibility import blocked_between, muted_by


async def notify(
    tx: Tx,
    recipient_id: int,
    from_account_id: int,
    type_: str,
    status_id: int | None = None,
    *,
    include_self: bool = False,
) -> Notification | None:
    """Notify a local account, unless it would be notified of its own doing (``include_self``
    allows that, for news about one's own things, such as the end of one's poll)."""
    if recipient_id == from_account_id and not include_self:
        return None
    domain = await tx.session.scalar(select(Account.domain).where(Account.id == recipient_id))
    if domain is not None:
        return None  # remote accounts get notified by federation, later
    unwanted = await tx.session.scalar(
        select(
            blocked_between(recipient_id, from_account_id)
            | muted_by(recipient_id, from_account_id, notifications=True)
        )
    )
    if unwanted:
        return None
    notification = Notification(
        account_id=recipient_id, from_account_id=from_account_id, type=type_, status_id=status_id
    )
    tx.session.add(notification)
    await tx.session.flush()
    await record_deliveries(tx, notification.id, recipient_id)  # Web Push, sent after commit
    tx.emit(NotificationCreated(notification.id, recipient_id, type_))
    return notification


async def notify_subscribers(tx: Tx, author_id: int, status_id: int) -> None:
    """A ``status`` notification to each follower who asked for one (a follow's ``notify``), as
    Mastodon sends it for a note that reaches their home timeline (the caller leaves out boosts,
    direct notes and replies to others). Found through a partial index of those follows only: a
    post by an author nobody subscribed to costs one index probe."""
    subscribers = list(
        await tx.session.scalars(
            select(Follow.account_id).where(Follow.target_account_id == author_id, Follow.notify)
        )
    )
    for follower_id in subscribers:
        await notify(tx, follower_id, author_id, "status", status_id)


async def withdraw(
    tx: Tx, recipient_id: int, from_account_id: int, type_: str, status_id: int | None
) -> None:
    """Remove a notification whose cause was undone (an unfavourite, an unfollow…)."""
    query = delete(Notification).where(
        Notification.account_id == recipient_id,
        Notification.from_account_id == from_account_id,
        Notification.type == type_,
    )
    if status_id is not None:
        query = query.where(Notification.status_id == status_id)
    await tx.session.execute(query)
