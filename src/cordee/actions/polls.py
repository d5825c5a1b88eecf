"""Polls: created with a note, voted on, and closed (with ``poll`` notifications) once they end."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import regex
from sqlalchemy import select, update

from cordee.actions._notify import notify
from cordee.actions.errors import NotFound, ValidationFailed
from cordee.db.changes import touching
from cordee.db.engine import Database, Tx
from cordee.db.tables import Status
from cordee.db.tables_polls import Poll, PollVote
from cordee.db.types import utcnow
from cordee.queries.visibility import visible_to

MAX_OPTIONS = 4
MAX_CHARACTERS_PER_OPTION = 50
MIN_EXPIRATION = 300  # seconds: 5 minutes
MAX_EXPIRATION = 2_629_746  # seconds: a month (an average Gregorian one, as Mastodon counts it)


@dataclass(frozen=True)
class NewPoll:
    options: tuple[str, ...]
    #: Seconds from now until the poll ends.
    expires_in: int | None
    multiple: bool = False
    hide_totals: bool = False


def _graphemes(text: str) -> int:
    return len(regex.findall(r"\X", text))


def check_poll(poll: NewPoll) -> NewPoll:
    """The poll with its options trimmed (blank ones dropped, as Mastodon does), or a 422."""
    options = tuple(o.strip() for o in poll.options if o.strip())
    if len(options) < 2:
        raise ValidationFailed("Validation failed: Poll options must have more than one item")
    if len(options) > MAX_OPTIONS:
        raise ValidationFailed(f"Validation failed: Poll options can't contain more than {MAX_OPTIONS} items")
    if any(_graphemes(o) > MAX_CHARACTERS_PER_OPTION for o in options):
        raise ValidationFailed(
            "Validation failed: Poll options cannot be longer than "
            f"{MAX_CHARACTERS_PER_OPTION} characters each"
        )
    if len(set(options)) != len(options):
        raise ValidationFailed("Validation failed: Poll options contain duplicate items")
    if poll.expires_in is None:
        raise ValidationFailed("Validation failed: Poll expires_in (the duration, in seconds) is missing")
    if poll.expires_in < MIN_EXPIRATION:
        raise ValidationFailed(
            f"Validation failed: Poll expires_in is too short (at least {MIN_EXPIRATION} seconds)"
        )
    if poll.expires_in > MAX_EXPIRATION:
        raise ValidationFailed(
            f"Validation failed: Poll expires_in is too long (at most {MAX_EXPIRATION} seconds)"
        )
    return replace(poll, options=options)


async def create_poll(tx: Tx, status_id: int, account_id: int, poll: NewPoll) -> Poll:
    """Add a checked poll (see ``check_poll``) to a note being posted in ``tx``."""
    assert poll.expires_in is not None
    row = Poll(
        status_id=status_id,
        account_id=account_id,
        options=list(poll.options),
        multiple=poll.multiple,
        hide_totals=poll.hide_totals,
        expires_at=utcnow() + timedelta(seconds=poll.expires_in),
    )
    tx.session.add(row)
    await tx.session.flush()
    return row


async def vote(db: Database, actor_id: int, poll_id: int, choices: Sequence[int]) -> int:
    """Vote on a poll one can see, before it ends (once, or once per choice on a multiple-choice
    poll); returns the poll's id."""
    async with db.write() as tx:
        poll = await tx.session.scalar(
            select(Poll)
            .join(Status, Status.id == Poll.status_id)
            .where(Poll.id == poll_id, visible_to(actor_id))
            .with_for_update(of=Poll)  # one vote at a time per poll: "already voted" stays true
        )
        if poll is None:
            raise NotFound()
        if poll.account_id == actor_id:
            raise ValidationFailed("Validation failed: You cannot vote in your own polls")
        if poll.expires_at <= utcnow():
            raise ValidationFailed("Validation failed: The poll has already ended")
        chosen = list(dict.fromkeys(choices))
        if not chosen:
            raise ValidationFailed("Validation failed: choices must name at least one option")
        if any(not 0 <= c < len(poll.options) for c in chosen):
            raise ValidationFailed("Validation failed: The chosen vote option does not exist")
        # Mastodon's VoteValidator: one vote on a single-choice poll; on a multiple-choice one,
        # choices may be added later, but none twice. Either way, the same words.
        already = set(
            await tx.session.scalars(
                select(PollVote.choice).where(PollVote.poll_id == poll.id, PollVote.account_id == actor_id)
            )
        )
        twice = already.intersection(chosen) if poll.multiple else already or len(chosen) > 1
        if twice:
            raise ValidationFailed("Validation failed: You have already voted on this poll")
        tx.session.add_all(PollVote(poll_id=poll.id, account_id=actor_id, choice=c) for c in chosen)
        return poll.id


async def close_ended_polls(db: Database, *, now: datetime | None = None, batch: int = 100) -> int:
    """Announce the polls that have ended (even long ago, while the server was down): a ``poll``
    notification to the author and to each voter, exactly once per poll. Returns how many."""
    now = now or utcnow()
    due = Poll.closed_at.is_(None), Poll.expires_at <= now
    async with db.read() as session:  # most ticks have nothing to do: no write lock for them
        if await session.scalar(select(Poll.id).where(*due).limit(1)) is None:
            return 0
    closed = 0
    async with db.write() as tx:
        polls = list(
            await tx.session.scalars(
                select(Poll)
                .where(*due)
                .order_by(Poll.expires_at)
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
        )
        for poll in polls:
            # The conditional update is what makes it "once", even with two runners at work.
            result = await tx.session.execute(
                update(Poll).where(Poll.id == poll.id, Poll.closed_at.is_(None)).values(closed_at=now),
                execution_options=touching(("p", poll.id), ("s", poll.status_id)),
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                continue
            await notify(tx, poll.account_id, poll.account_id, "poll", poll.status_id, include_self=True)
            voters = await tx.session.scalars(
                select(PollVote.account_id).where(PollVote.poll_id == poll.id).distinct()
            )
            for voter in sorted(voters):
                await notify(tx, voter, poll.account_id, "poll", poll.status_id)
            closed += 1
    return closed
