"""Who a streaming recipient does not want to hear from: blocks (both ways) and mutes.

Loaded once per connected account (shared by its connections), refreshed when a ``BlockChanged`` or
``MuteChanged`` event names it, dropped when its last connection closes. The rules are Mastodon's
streaming rules: a note is dropped when the recipient blocks, or is blocked by, its author; when the
recipient blocks or mutes its author, the author of the note it reblogs, or anyone it mentions; a
notification is dropped when it comes from an account in a block with the recipient, or muted with
``hide_notifications``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.db.tables import Block, Mute
from cordee.db.types import utcnow


@dataclass
class Relations:
    blocking: set[int] = field(default_factory=set)
    blocked_by: set[int] = field(default_factory=set)
    #: muted account → (hide_notifications, expires_at)
    muting: dict[int, tuple[bool, datetime | None]] = field(default_factory=dict)

    def mutes(self, account_id: int, *, notifications: bool = False) -> bool:
        found = self.muting.get(account_id)
        if found is None:
            return False
        hide_notifications, expires_at = found
        if expires_at is not None and expires_at <= utcnow():
            return False
        return hide_notifications or not notifications

    def in_block(self, account_id: int) -> bool:
        return account_id in self.blocking or account_id in self.blocked_by

    def hides_status(self, author_id: int, original_author_id: int | None, mentioned: Iterable[int]) -> bool:
        if self.in_block(author_id) or self.mutes(author_id):
            return True
        if original_author_id is not None and (
            self.in_block(original_author_id) or self.mutes(original_author_id)
        ):
            return True
        return any(m in self.blocking or self.mutes(m) for m in mentioned)

    def hides_notification(self, from_account_id: int) -> bool:
        return self.in_block(from_account_id) or self.mutes(from_account_id, notifications=True)


async def load_relations(session: AsyncSession, account_id: int) -> Relations:
    relations = Relations()
    for source, target in await session.execute(
        select(Block.account_id, Block.target_account_id).where(
            or_(Block.account_id == account_id, Block.target_account_id == account_id)
        )
    ):
        if source == account_id:
            relations.blocking.add(target)
        else:
            relations.blocked_by.add(source)
    for target, hide, expires_at in await session.execute(
        select(Mute.target_account_id, Mute.hide_notifications, Mute.expires_at).where(
            Mute.account_id == account_id
        )
    ):
        relations.muting[target] = (hide, expires_at)
    return relations
