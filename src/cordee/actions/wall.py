"""A chapter's live wall is post-moderated: every public note with the chapter's or the
campaign's hashtag shows at once, and any of the chapter's organisers can take one off it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cordee.actions.campaigns import require
from cordee.actions.errors import NotFound
from cordee.db.engine import Database
from cordee.db.tables import Status
from cordee.db.tables_campaigns import WallHidden
from cordee.events.campaigns import WallPostHidden


async def hide_from_wall(db: Database, actor_id: int, chapter_id: int, status_id: int) -> None:
    """Any organiser role (the door volunteers watch the screen too). Hiding twice is a no-op."""
    async with db.write() as tx:
        await require(tx, actor_id, chapter_id, "door")
        status = await tx.session.get(Status, status_id)
        if status is None or status.visibility != "public":  # a wall shows public notes only
            raise NotFound()
        done = await tx.session.scalar(
            select(WallHidden.id).where(
                WallHidden.chapter_id == chapter_id, WallHidden.status_id == status_id
            )
        )
        if done is None:
            try:  # two organisers hiding the same note at once: the second finds it done
                async with tx.session.begin_nested():
                    tx.session.add(WallHidden(chapter_id=chapter_id, status_id=status_id, hidden_by=actor_id))
            except IntegrityError:
                pass
        tx.emit(WallPostHidden(chapter_id, status_id))
