"""Reading statuses one at a time and as threads; every path filters through ``visible_to``."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.db.tables import Status
from cordee.queries.visibility import visible_to

MAX_THREAD = 4096  # a bound on ancestors/descendants walked for one context


async def visible_status(session: AsyncSession, viewer_id: int | None, status_id: int) -> Status | None:
    """The status if it exists and the viewer may see it; None either way otherwise (no leak)."""
    return await session.scalar(select(Status).where(Status.id == status_id, visible_to(viewer_id)))


async def ancestors(session: AsyncSession, viewer_id: int | None, status: Status) -> list[Status]:
    """The chain of parents, oldest first, stopping at the first one the viewer may not see."""
    chain: list[Status] = []
    parent_id = status.in_reply_to_id
    while parent_id is not None and len(chain) < MAX_THREAD:
        parent = await visible_status(session, viewer_id, parent_id)
        if parent is None:
            break
        chain.append(parent)
        parent_id = parent.in_reply_to_id
    return list(reversed(chain))


async def descendants(session: AsyncSession, viewer_id: int | None, status: Status) -> list[Status]:
    """Replies below a status, depth first in reply order, skipping branches the viewer may not see."""
    tree = select(Status.id).where(Status.in_reply_to_id == status.id).cte("tree", recursive=True)
    tree = tree.union_all(select(Status.id).where(Status.in_reply_to_id == tree.c.id))
    rows = list(
        await session.scalars(
            select(Status).where(Status.id.in_(select(tree.c.id)), visible_to(viewer_id)).limit(MAX_THREAD)
        )
    )
    by_id = {row.id: row for row in rows}
    return [by_id[i] for i in reply_order(status.id, [(row.id, row.in_reply_to_id) for row in rows])]


def reply_order(root: int, replies: Iterable[tuple[int, int | None]]) -> list[int]:
    """The ids of ``root``'s replies (``(id, in_reply_to_id)`` pairs, those the reader may see),
    depth first in reply order: a reply's own replies follow it. A reply whose parent is not among
    them, nor ``root``, is left out with its branch (the reader may not see its parent)."""
    children: dict[int | None, list[int]] = {}
    for reply_id, parent_id in replies:
        children.setdefault(parent_id, []).append(reply_id)
    ordered: list[int] = []
    stack = sorted(children.get(root, []), reverse=True)
    while stack:
        current = stack.pop()
        ordered.append(current)
        stack.extend(sorted(children.get(current, []), reverse=True))
    return ordered
