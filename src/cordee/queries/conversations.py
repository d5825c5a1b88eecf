"""Reading one's direct conversations, each with its last note the reader may still see.

The last status is computed from ``conversation_statuses`` (not stored), so a deleted note simply
falls out, and a conversation whose notes are all gone (or hidden by a block) is not listed.
Conversations are ordered, and paginated, by the id of that last status, as in Mastodon.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, func, select

from cordee.db.tables import Status
from cordee.db.tables_curation import AccountConversation, ConversationStatus
from cordee.queries.visibility import visible_to


def conversations_query(
    account_id: int,
) -> tuple[Select[AccountConversation, int], ColumnElement[Any]]:
    """The account's conversations with their last status id; and that column, to paginate on."""
    last = (
        select(func.max(ConversationStatus.status_id))
        .join(Status, Status.id == ConversationStatus.status_id)
        .where(
            ConversationStatus.conversation_id == AccountConversation.conversation_id,
            ConversationStatus.participant_key == AccountConversation.participant_key,
            visible_to(account_id),
        )
        .correlate(AccountConversation)
        .scalar_subquery()
    )
    views = (
        select(AccountConversation.id.label("id"), last.label("last_status_id"))
        .where(AccountConversation.account_id == account_id)
        .subquery("views")
    )
    query = (
        select(AccountConversation, views.c.last_status_id)
        .join(views, views.c.id == AccountConversation.id)
        .where(views.c.last_status_id.is_not(None))
    )
    return query, views.c.last_status_id


def participants(view: AccountConversation) -> list[int]:
    """The others in the conversation; a note to oneself has oneself (as Mastodon shows it)."""
    others = [int(i) for i in view.participant_key.split() if int(i) != view.account_id]
    return others or [view.account_id]
