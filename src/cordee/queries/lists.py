"""Reading lists: one's lists, their members, a list's timeline, and what lists take out of home.

- ``excluded_from_home(viewer_id)``: notes whose author sits in one of the viewer's *exclusive*
  lists; ``home_query`` leaves them out (they are read in the list instead).
- ``list_member_ids`` / ``lists_with_member``: for the list stream and fan-out.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.db.tables import Follow, Status
from cordee.db.tables_curation import ListMember, TimelineList
from cordee.queries.visibility import shown_in_timelines, visible_to


def excluded_from_home(viewer_id: int) -> ColumnElement[bool]:
    """True for statuses posted (or boosted) by a member of one of the viewer's exclusive lists."""
    exclusive_members = (
        select(ListMember.account_id)
        .join(TimelineList, TimelineList.id == ListMember.list_id)
        .where(TimelineList.account_id == viewer_id, TimelineList.exclusive.is_(True))
    )
    return Status.account_id.in_(exclusive_members)


async def owned_list(session: AsyncSession, owner_id: int, list_id: int) -> TimelineList | None:
    """The list if the owner has it; None for missing and for other people's lists alike."""
    return await session.scalar(
        select(TimelineList).where(TimelineList.id == list_id, TimelineList.account_id == owner_id)
    )


async def lists_of(session: AsyncSession, owner_id: int, member_id: int | None = None) -> list[TimelineList]:
    """The owner's lists, oldest first; with ``member_id``, only those that account is in."""
    query = select(TimelineList).where(TimelineList.account_id == owner_id)
    if member_id is not None:
        query = query.where(
            TimelineList.id.in_(select(ListMember.list_id).where(ListMember.account_id == member_id))
        )
    return list(await session.scalars(query.order_by(TimelineList.id)))


async def list_member_ids(session: AsyncSession, list_id: int) -> list[int]:
    return list(await session.scalars(select(ListMember.account_id).where(ListMember.list_id == list_id)))


async def lists_with_member(session: AsyncSession, account_id: int) -> dict[int, int]:
    """The lists an account is in, as list id → owner account id (whose list streams get its notes)."""
    rows = await session.execute(
        select(TimelineList.id, TimelineList.account_id)
        .join(ListMember, ListMember.list_id == TimelineList.id)
        .where(ListMember.account_id == account_id)
    )
    return dict(rows.all())


def list_timeline_query(row: TimelineList) -> Select[Status]:
    """Notes by the list's members, as the owner may see them, replies kept per ``replies_policy``:

    a reply always shows when it answers its own author (a thread) or the owner; otherwise only
    ``followed`` (it answers someone the owner follows) or ``list`` (it answers a member) keep it.
    Boosts by a member show unless the owner's follow hides that member's boosts.
    """
    owner_id = row.account_id
    members = select(ListMember.account_id).where(ListMember.list_id == row.id)
    showing_reblogs = (
        select(ListMember.account_id)
        .join(Follow, Follow.id == ListMember.follow_id)
        .where(ListMember.list_id == row.id, Follow.show_reblogs.is_(True))
    )
    replies = [
        Status.in_reply_to_account_id.is_(None),
        Status.in_reply_to_account_id == Status.account_id,
        Status.in_reply_to_account_id == owner_id,
    ]
    if row.replies_policy == "followed":
        replies.append(
            Status.in_reply_to_account_id.in_(
                select(Follow.target_account_id).where(Follow.account_id == owner_id)
            )
        )
    elif row.replies_policy == "list":
        replies.append(Status.in_reply_to_account_id.in_(members))
    return select(Status).where(
        Status.account_id.in_(members),
        or_(Status.reblog_of_id.is_(None), Status.account_id.in_(showing_reblogs)),
        or_(*replies),
        visible_to(owner_id),
        shown_in_timelines(owner_id),
    )
