"""Lists: named sets of followed accounts, each with its own timeline.

Only accounts one follows may be added (Mastodon's rule); a membership rests on that follow, so an
unfollow or a block takes the account out of the owner's lists (by the database's cascade).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select

from cordee.actions.errors import NotFound, ValidationFailed
from cordee.db.engine import Database, Tx
from cordee.db.tables import Account, Follow
from cordee.db.tables_curation import ListMember, TimelineList

REPLIES_POLICIES = ("followed", "list", "none")
MAX_LISTS = 50
MAX_TITLE = 256
MAX_MEMBERS_PER_CALL = 100


@dataclass(frozen=True)
class ListChanges:
    """Fields to set; ``None`` leaves one as it is (a new list needs a title)."""

    title: str | None = None
    replies_policy: str | None = None
    exclusive: bool | None = None


def _apply(row: TimelineList, changes: ListChanges) -> None:
    if changes.title is not None:
        title = changes.title.strip()
        if not title:
            raise ValidationFailed("Validation failed: Title can't be blank")
        if len(title) > MAX_TITLE:
            raise ValidationFailed(
                f"Validation failed: Title is too long (maximum is {MAX_TITLE} characters)"
            )
        row.title = title
    if changes.replies_policy is not None:
        if changes.replies_policy not in REPLIES_POLICIES:
            raise ValidationFailed(
                f"Validation failed: Replies policy must be one of {', '.join(REPLIES_POLICIES)}"
            )
        row.replies_policy = changes.replies_policy
    if changes.exclusive is not None:
        row.exclusive = changes.exclusive


async def own_list(tx: Tx, owner_id: int, list_id: int) -> TimelineList:
    row = await tx.session.scalar(
        select(TimelineList).where(TimelineList.id == list_id, TimelineList.account_id == owner_id)
    )
    if row is None:
        raise NotFound()
    return row


async def create_list(db: Database, owner_id: int, changes: ListChanges) -> int:
    if changes.title is None:
        raise ValidationFailed("Validation failed: Title can't be blank")
    async with db.write() as tx:
        count = await tx.session.scalar(
            select(func.count(TimelineList.id)).where(TimelineList.account_id == owner_id)
        )
        if (count or 0) >= MAX_LISTS:
            raise ValidationFailed(f"Validation failed: You cannot have more than {MAX_LISTS} lists")
        row = TimelineList(account_id=owner_id, replies_policy="list", exclusive=False)
        _apply(row, changes)
        tx.session.add(row)
        await tx.session.flush()
        return row.id


async def update_list(db: Database, owner_id: int, list_id: int, changes: ListChanges) -> None:
    async with db.write() as tx:
        _apply(await own_list(tx, owner_id, list_id), changes)


async def delete_list(db: Database, owner_id: int, list_id: int) -> None:
    async with db.write() as tx:
        await tx.session.delete(await own_list(tx, owner_id, list_id))


async def add_members(db: Database, owner_id: int, list_id: int, account_ids: Sequence[int]) -> None:
    """Add accounts the owner follows; adding a member twice is refused (422, as Mastodon does).
    All or nothing."""
    wanted = list(dict.fromkeys(account_ids))
    if len(wanted) > MAX_MEMBERS_PER_CALL:
        raise ValidationFailed(f"Validation failed: at most {MAX_MEMBERS_PER_CALL} accounts at a time")
    async with db.write() as tx:
        await own_list(tx, owner_id, list_id)
        known = set(await tx.session.scalars(select(Account.id).where(Account.id.in_(wanted))))
        if len(known) != len(wanted):
            raise NotFound()
        follows = dict(
            (
                await tx.session.execute(
                    select(Follow.target_account_id, Follow.id).where(
                        Follow.account_id == owner_id, Follow.target_account_id.in_(wanted)
                    )
                )
            ).all()
        )
        if len(follows) != len(wanted):
            raise ValidationFailed("Validation failed: You can only add accounts you follow to a list")
        present = set(
            await tx.session.scalars(
                select(ListMember.account_id).where(
                    ListMember.list_id == list_id, ListMember.account_id.in_(wanted)
                )
            )
        )
        if present:  # Mastodon's ListAccount validates uniqueness; the whole request fails
            raise ValidationFailed("Validation failed: Account has already been taken")
        tx.session.add_all(ListMember(list_id=list_id, account_id=a, follow_id=follows[a]) for a in wanted)


async def remove_members(db: Database, owner_id: int, list_id: int, account_ids: Sequence[int]) -> None:
    async with db.write() as tx:
        await own_list(tx, owner_id, list_id)
        await tx.session.execute(
            delete(ListMember).where(
                ListMember.list_id == list_id, ListMember.account_id.in_(set(account_ids))
            )
        )
