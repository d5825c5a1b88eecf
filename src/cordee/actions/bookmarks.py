"""Bookmarks: notes one keeps for later, privately (nobody is notified)."""

from __future__ import annotations

from sqlalchemy import delete, select

from cordee.actions.statuses import target_of
from cordee.db.changes import touching
from cordee.db.engine import Database
from cordee.db.tables_personal import Bookmark


async def bookmark(db: Database, actor_id: int, status_id: int) -> int:
    """Bookmark a note one can see (idempotent); a boost stands for its original. Returns its id."""
    async with db.write() as tx:
        status = await target_of(tx, actor_id, status_id)
        already = await tx.session.scalar(
            select(Bookmark.id).where(Bookmark.account_id == actor_id, Bookmark.status_id == status.id)
        )
        if already is None:
            tx.session.add(Bookmark(account_id=actor_id, status_id=status.id))
        return status.id


async def unbookmark(db: Database, actor_id: int, status_id: int) -> int:
    """Remove a bookmark (idempotent); returns the id of the note."""
    async with db.write() as tx:
        status = await target_of(tx, actor_id, status_id)
        await tx.session.execute(
            delete(Bookmark).where(Bookmark.account_id == actor_id, Bookmark.status_id == status.id),
            execution_options=touching(("s", status.id), ("r", actor_id)),
        )
        return status.id
