"""Reading polls: the one a viewer may see, and the tallies and own votes of many at once."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.db.tables import Status
from cordee.db.tables_polls import Poll, PollVote
from cordee.queries.visibility import visible_to


@dataclass
class Tally:
    per_option: dict[int, int] = field(default_factory=dict)
    voters: int = 0

    @property
    def votes(self) -> int:
        return sum(self.per_option.values())


async def visible_poll(session: AsyncSession, viewer_id: int | None, poll_id: int) -> Poll | None:
    """The poll if the viewer may see its note; None either way otherwise."""
    return await session.scalar(
        select(Poll)
        .join(Status, Status.id == Poll.status_id)
        .where(Poll.id == poll_id, visible_to(viewer_id))
    )


async def polls_of(session: AsyncSession, status_ids: Sequence[int]) -> list[Poll]:
    if not status_ids:
        return []
    return list(await session.scalars(select(Poll).where(Poll.status_id.in_(status_ids))))


async def tallies(session: AsyncSession, poll_ids: Sequence[int]) -> dict[int, Tally]:
    found: dict[int, Tally] = defaultdict(Tally)
    if not poll_ids:
        return found
    for poll_id, choice, count in await session.execute(
        select(PollVote.poll_id, PollVote.choice, func.count())
        .where(PollVote.poll_id.in_(poll_ids))
        .group_by(PollVote.poll_id, PollVote.choice)
    ):
        found[poll_id].per_option[choice] = count
    for poll_id, voters in await session.execute(
        select(PollVote.poll_id, func.count(distinct(PollVote.account_id)))
        .where(PollVote.poll_id.in_(poll_ids))
        .group_by(PollVote.poll_id)
    ):
        found[poll_id].voters = voters
    return found


async def own_votes(session: AsyncSession, viewer_id: int, poll_ids: Sequence[int]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = defaultdict(list)
    if not poll_ids:
        return found
    for poll_id, choice in await session.execute(
        select(PollVote.poll_id, PollVote.choice)
        .where(PollVote.poll_id.in_(poll_ids), PollVote.account_id == viewer_id)
        .order_by(PollVote.poll_id, PollVote.choice)
    ):
        found[poll_id].append(choice)
    return found
