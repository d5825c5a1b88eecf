"""Reading tracked searches: which a person may read (their own, and those shared with them), and
a column's matches — always through ``visible_to`` of the *reader*, so a team member never reads
a note through a search that only its owner may see."""

from __future__ import annotations

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.db.tables import Status
from cordee.db.tables_tracking import TrackedMatch, TrackedSearch, TrackedSearchMember
from cordee.queries.visibility import visible_to


def readable_by(viewer_id: int) -> Select[TrackedSearch]:
    """The tracked searches the viewer owns or is a member of."""
    shared = select(TrackedSearchMember.tracked_search_id).where(TrackedSearchMember.account_id == viewer_id)
    return select(TrackedSearch).where(
        or_(TrackedSearch.account_id == viewer_id, TrackedSearch.id.in_(shared))
    )


async def readable(session: AsyncSession, viewer_id: int, search_id: int) -> TrackedSearch | None:
    """The search if the viewer may read it; None for missing and hidden alike."""
    return await session.scalar(readable_by(viewer_id).where(TrackedSearch.id == search_id))


async def owned(session: AsyncSession, owner_id: int, search_id: int) -> TrackedSearch | None:
    return await session.scalar(
        select(TrackedSearch).where(TrackedSearch.id == search_id, TrackedSearch.account_id == owner_id)
    )


async def searches_of(session: AsyncSession, viewer_id: int) -> list[TrackedSearch]:
    """Own searches first in the owner's column order, then those shared with the viewer."""
    rows = list(await session.scalars(readable_by(viewer_id)))
    return sorted(rows, key=lambda r: (r.account_id != viewer_id, r.position, r.id))


async def members_of(session: AsyncSession, search_ids: list[int]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {i: [] for i in search_ids}
    if search_ids:
        rows = await session.execute(
            select(TrackedSearchMember.tracked_search_id, TrackedSearchMember.account_id).where(
                TrackedSearchMember.tracked_search_id.in_(search_ids)
            )
        )
        for search_id, account_id in rows:
            found[search_id].append(account_id)
    return found


def matches_query(viewer_id: int, search_ids: list[int]) -> Select[Status]:
    """The notes matched by these searches that the viewer may see (a note once, even when
    several searches matched it); paginate on ``Status.id``."""
    matched = select(TrackedMatch.status_id).where(TrackedMatch.tracked_search_id.in_(search_ids))
    return select(Status).where(Status.id.in_(matched), visible_to(viewer_id))
