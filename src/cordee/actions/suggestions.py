"""Dismissing a follow suggestion: that account is not suggested again."""

from __future__ import annotations

from sqlalchemy import select

from cordee.actions.errors import NotFound
from cordee.db.engine import Database
from cordee.db.tables import Account
from cordee.db.tables_curation import SuggestionDismissal


async def dismiss(db: Database, actor_id: int, target_id: int) -> None:
    async with db.write() as tx:
        if await tx.session.get(Account, target_id) is None:
            raise NotFound()
        done = await tx.session.scalar(
            select(SuggestionDismissal.id).where(
                SuggestionDismissal.account_id == actor_id, SuggestionDismissal.target_account_id == target_id
            )
        )
        if done is None:
            tx.session.add(SuggestionDismissal(account_id=actor_id, target_account_id=target_id))
