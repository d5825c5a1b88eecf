"""Direct conversations: kept up to date inside the posting transaction, read and hidden by people.

A direct note joins the conversation of the note it answers (or starts one). Everyone in it — the
author and the accounts it mentions — has a view of that conversation with that set of people;
a new note makes it unread for the recipients (not for the author). Recipients who block or mute
the author get nothing, as for the mention notification.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select

from cordee.actions.errors import NotFound
from cordee.db.engine import Database, Tx
from cordee.db.tables import Account, Status
from cordee.db.tables_curation import AccountConversation, Conversation, ConversationStatus
from cordee.queries.visibility import blocked_between, muted_by


def participant_key(account_ids: Sequence[int]) -> str:
    return " ".join(str(i) for i in sorted(set(account_ids)))


async def record_direct_status(tx: Tx, status: Status, mentioned_ids: Sequence[int]) -> None:
    """Called by ``post_status`` for every new note; only direct ones are recorded."""
    if status.visibility != "direct":
        return
    conversation_id = None
    if status.in_reply_to_id is not None:
        conversation_id = await tx.session.scalar(
            select(ConversationStatus.conversation_id).where(
                ConversationStatus.status_id == status.in_reply_to_id
            )
        )
    if conversation_id is None:
        conversation = Conversation()
        tx.session.add(conversation)
        await tx.session.flush()
        conversation_id = conversation.id
    key = participant_key([status.account_id, *mentioned_ids])
    tx.session.add(
        ConversationStatus(status_id=status.id, conversation_id=conversation_id, participant_key=key)
    )
    local = set(
        await tx.session.scalars(
            select(Account.id).where(
                Account.id.in_([status.account_id, *mentioned_ids]), Account.domain.is_(None)
            )
        )
    )
    for account_id in sorted(local):
        recipient = account_id != status.account_id
        if recipient and await tx.session.scalar(
            select(blocked_between(account_id, status.account_id) | muted_by(account_id, status.account_id))
        ):
            continue
        view = await tx.session.scalar(
            select(AccountConversation).where(
                AccountConversation.account_id == account_id,
                AccountConversation.conversation_id == conversation_id,
                AccountConversation.participant_key == key,
            )
        )
        if view is None:
            tx.session.add(
                AccountConversation(
                    account_id=account_id,
                    conversation_id=conversation_id,
                    participant_key=key,
                    unread=recipient,
                )
            )
        else:
            view.unread = recipient
    await tx.session.flush()


async def _own(tx: Tx, account_id: int, conversation_id: int) -> AccountConversation:
    view = await tx.session.scalar(
        select(AccountConversation).where(
            AccountConversation.id == conversation_id, AccountConversation.account_id == account_id
        )
    )
    if view is None:
        raise NotFound()
    return view


async def mark_read(db: Database, account_id: int, conversation_id: int) -> None:
    async with db.write() as tx:
        (await _own(tx, account_id, conversation_id)).unread = False


async def remove(db: Database, account_id: int, conversation_id: int) -> None:
    """Hide a conversation from one's list (the notes stay; a new one brings it back)."""
    async with db.write() as tx:
        view = await _own(tx, account_id, conversation_id)
        await tx.session.execute(delete(AccountConversation).where(AccountConversation.id == view.id))
