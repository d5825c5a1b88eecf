"""A chapter's live wall shows the public notes with the chapter's or the campaign's hashtag.
Its moderation is the chapter's choice: ``after`` (notes show at once, any organiser can take one
off) or ``before`` (notes wait in a queue until an organiser approves them). Either way a
decision is one row per note and chapter (``wall_decisions``); a later decision replaces it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cordee.actions.campaigns import require
from cordee.actions.errors import NotFound, ValidationFailed
from cordee.db.engine import Database
from cordee.db.tables import Status
from cordee.db.tables_campaigns import WallDecision
from cordee.events.campaigns import WallPostApproved, WallPostHidden

MODERATION = ("after", "before")
DECISIONS = ("hidden", "approved")


async def decide(db: Database, actor_id: int, chapter_id: int, status_id: int, decision: str) -> None:
    """Hide a note from the wall, or approve it onto it (any organiser role: the door volunteers
    watch the screen too). Deciding the same twice is a no-op."""
    if decision not in DECISIONS:
        raise ValidationFailed(f"Validation failed: decision must be one of {', '.join(DECISIONS)}")
    async with db.write() as tx:
        await require(tx, actor_id, chapter_id, "door")
        status = await tx.session.get(Status, status_id)
        if status is None or status.visibility != "public":  # a wall shows public notes only
            raise NotFound()
        row = await tx.session.scalar(
            select(WallDecision).where(
                WallDecision.chapter_id == chapter_id, WallDecision.status_id == status_id
            )
        )
        if row is not None:
            row.decision, row.decided_by = decision, actor_id
        else:
            try:  # two organisers deciding at once: the first decision stands
                async with tx.session.begin_nested():
                    tx.session.add(
                        WallDecision(
                            chapter_id=chapter_id, status_id=status_id, decision=decision, decided_by=actor_id
                        )
                    )
            except IntegrityError:
                pass
        tx.emit(
            WallPostHidden(chapter_id, status_id)
            if decision == "hidden"
            else WallPostApproved(chapter_id, status_id)
        )


async def hide_from_wall(db: Database, actor_id: int, chapter_id: int, status_id: int) -> None:
    await decide(db, actor_id, chapter_id, status_id, "hidden")


async def set_moderation(db: Database, actor_id: int, chapter_id: int, mode: str) -> None:
    if mode not in MODERATION:
        raise ValidationFailed(f"Validation failed: moderation must be one of {', '.join(MODERATION)}")
    async with db.write() as tx:
        chapter = await require(tx, actor_id, chapter_id, "manage")
        chapter.wall_moderation = mode
