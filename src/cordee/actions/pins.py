"""Pinning one's own notes to the top of one's profile."""

from __future__ import annotations

from sqlalchemy import delete, func, select

from cordee.actions.errors import NotFound, ValidationFailed
from cordee.db.changes import touching
from cordee.db.engine import Database
from cordee.db.tables import Account, Status
from cordee.db.tables_personal import StatusPin
from cordee.queries.visibility import visible_to

#: Mastodon's limit of pinned notes per account.
MAX_PINS = 5


async def pin(db: Database, actor_id: int, status_id: int) -> int:
    """Pin one's own public, unlisted or followers-only note (idempotent); returns its id.

    Someone else's note, a boost, a direct message or a sixth pin are refused (422, as Mastodon).
    """
    async with db.write() as tx:
        # One pin at a time per account, so that two at once cannot both pass the limit.
        await tx.session.execute(select(Account.id).where(Account.id == actor_id).with_for_update())
        status = await tx.session.scalar(select(Status).where(Status.id == status_id, visible_to(actor_id)))
        if status is None:
            raise NotFound()
        if status.reblog_of_id is not None:
            raise ValidationFailed("Validation failed: A boost cannot be pinned")
        if status.account_id != actor_id:
            raise ValidationFailed("Validation failed: Someone else's post cannot be pinned")
        if status.visibility == "direct":
            raise ValidationFailed(
                "Validation failed: Posts that are only visible to mentioned users cannot be pinned"
            )
        already = await tx.session.scalar(
            select(StatusPin.id).where(StatusPin.account_id == actor_id, StatusPin.status_id == status.id)
        )
        if already is not None:
            return status.id
        count = await tx.session.scalar(
            select(func.count()).select_from(StatusPin).where(StatusPin.account_id == actor_id)
        )
        if (count or 0) >= MAX_PINS:
            raise ValidationFailed("Validation failed: You have already pinned the maximum number of posts")
        tx.session.add(StatusPin(account_id=actor_id, status_id=status.id))
        return status.id


async def unpin(db: Database, actor_id: int, status_id: int) -> int:
    """Unpin a note (idempotent); returns its id. Only notes one can see are found."""
    async with db.write() as tx:
        found = await tx.session.scalar(select(Status.id).where(Status.id == status_id, visible_to(actor_id)))
        if found is None:
            raise NotFound()
        await tx.session.execute(
            delete(StatusPin).where(StatusPin.account_id == actor_id, StatusPin.status_id == found),
            execution_options=touching(("s", found), ("r", actor_id)),
        )
        return found
