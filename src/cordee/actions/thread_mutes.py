"""Muting a conversation (a thread of replies): no more notifications about any of its notes."""

from __future__ import annotations

from sqlalchemy import delete, select

from cordee.actions.statuses import target_of
from cordee.db.changes import touching
from cordee.db.engine import Database
from cordee.db.tables import Status
from cordee.db.tables_personal import ConversationMute


def thread_of(status: Status) -> int:
    """The thread a note belongs to (rows written without one are a thread of their own)."""
    return status.conversation_id if status.conversation_id is not None else status.id


async def mute_thread(db: Database, actor_id: int, status_id: int) -> int:
    """Mute the thread of a note the actor can see (idempotent); a boost stands for its original.
    Like Mastodon, any visible note will do: one need not have taken part. Returns the note's id."""
    async with db.write() as tx:
        status = await target_of(tx, actor_id, status_id)
        thread = thread_of(status)
        already = await tx.session.scalar(
            select(ConversationMute.id).where(
                ConversationMute.account_id == actor_id, ConversationMute.conversation_id == thread
            )
        )
        if already is None:
            tx.session.add(ConversationMute(account_id=actor_id, conversation_id=thread))
        return status.id


async def unmute_thread(db: Database, actor_id: int, status_id: int) -> int:
    """Unmute the thread of a note (idempotent); returns the note's id."""
    async with db.write() as tx:
        status = await target_of(tx, actor_id, status_id)
        await tx.session.execute(
            delete(ConversationMute).where(
                ConversationMute.account_id == actor_id,
                ConversationMute.conversation_id == thread_of(status),
            ),
            execution_options=touching(("r", actor_id)),
        )
        return status.id
