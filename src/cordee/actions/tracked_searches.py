"""Tracked searches ('veilles'): a person saves a query, shares it with a team, sets its alerts,
orders their columns, and corrects the sentiment of a note.

A new search is backfilled at once from notes already posted (``tracked_matching.backfill``):
its column and analytics do not start empty. Matches of new notes are recorded in the posting
transaction (``tracked_matching.Tracker``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select

from cordee.actions import tracked_matching
from cordee.actions.errors import NotFound, ValidationFailed
from cordee.config import Settings
from cordee.db.engine import Database, Tx
from cordee.db.tables import Account, Follow, Status
from cordee.db.tables_tracking import SentimentCorrection, TrackedSearch, TrackedSearchMember
from cordee.domain.sentiment import LABELS
from cordee.events.tracking import TrackedSearchesChanged
from cordee.queries.visibility import visible_to
from cordee.search.query import QueryError, parse

MAX_SEARCHES = 50
MAX_NAME = 100
MAX_MEMBERS = 50
MIN_SPIKE_FACTOR = 1.5
MAX_SPIKE_FACTOR = 100.0
MAX_DIGEST_MINUTES = 7 * 24 * 60
SPIKE_WINDOWS = (15, 30, 60, 180, 360, 720, 1440)


@dataclass(frozen=True)
class Changes:
    """Fields to set; ``None`` leaves one as it is (a new search needs a name and a query)."""

    name: str | None = None
    query: str | None = None
    notify: bool | None = None
    email_digest: bool | None = None
    digest_minutes: int | None = None
    spike_alert: bool | None = None
    spike_factor: float | None = None
    spike_window_minutes: int | None = None
    #: The team: accounts that may read the column (replaces the current members).
    member_ids: Sequence[int] | None = None


def check_query(settings: Settings, text: str) -> str:
    """The query as stored (stripped); a malformed or too costly one is refused with the parser's
    own reason."""
    text = text.strip()
    if not text:
        raise ValidationFailed("Validation failed: Query can't be blank")
    try:
        parse(text, local_domain=settings.domain)
    except QueryError as e:
        raise ValidationFailed(f"Validation failed: Query is invalid: {e}") from e
    return text


def _apply(settings: Settings, row: TrackedSearch, changes: Changes) -> None:
    if changes.name is not None:
        name = changes.name.strip()
        if not name:
            raise ValidationFailed("Validation failed: Name can't be blank")
        if len(name) > MAX_NAME:
            raise ValidationFailed(f"Validation failed: Name is too long (maximum is {MAX_NAME} characters)")
        row.name = name
    if changes.query is not None:
        row.query = check_query(settings, changes.query)
    for flag in ("notify", "email_digest", "spike_alert"):
        value = getattr(changes, flag)
        if value is not None:
            setattr(row, flag, value)
    if changes.digest_minutes is not None:
        if not 0 <= changes.digest_minutes <= MAX_DIGEST_MINUTES:
            raise ValidationFailed(
                f"Validation failed: Digest minutes must be between 0 and {MAX_DIGEST_MINUTES}"
            )
        row.digest_minutes = changes.digest_minutes
    if changes.spike_factor is not None:
        if not MIN_SPIKE_FACTOR <= changes.spike_factor <= MAX_SPIKE_FACTOR:
            raise ValidationFailed(
                f"Validation failed: Spike factor must be between {MIN_SPIKE_FACTOR} and {MAX_SPIKE_FACTOR}"
            )
        row.spike_factor = changes.spike_factor
    if changes.spike_window_minutes is not None:
        if changes.spike_window_minutes not in SPIKE_WINDOWS:
            raise ValidationFailed(
                "Validation failed: Spike window minutes must be one of "
                + ", ".join(str(w) for w in SPIKE_WINDOWS)
            )
        row.spike_window_minutes = changes.spike_window_minutes


async def _set_members(tx: Tx, row: TrackedSearch, member_ids: Sequence[int]) -> None:
    wanted = [i for i in dict.fromkeys(member_ids) if i != row.account_id]
    if len(wanted) > MAX_MEMBERS:
        raise ValidationFailed(f"Validation failed: at most {MAX_MEMBERS} members")
    local = set(
        await tx.session.scalars(select(Account.id).where(Account.id.in_(wanted), Account.domain.is_(None)))
    )
    if len(local) != len(wanted):
        raise ValidationFailed("Validation failed: members must be local accounts")
    # Consent: a column appears in a member's own pages, so only people who follow the owner may be
    # made members (anyone else could fill strangers' pages); a member may leave at any time.
    followers = set(
        await tx.session.scalars(
            select(Follow.account_id).where(
                Follow.target_account_id == row.account_id, Follow.account_id.in_(wanted)
            )
        )
    )
    if len(followers) != len(wanted):
        raise ValidationFailed("Validation failed: members must be people who follow you")
    await tx.session.execute(
        delete(TrackedSearchMember).where(TrackedSearchMember.tracked_search_id == row.id)
    )
    tx.session.add_all(TrackedSearchMember(tracked_search_id=row.id, account_id=a) for a in wanted)


async def own_search(tx: Tx, owner_id: int, search_id: int) -> TrackedSearch:
    row = await tx.session.scalar(
        select(TrackedSearch).where(TrackedSearch.id == search_id, TrackedSearch.account_id == owner_id)
    )
    if row is None:
        raise NotFound()
    return row


async def create(db: Database, settings: Settings, owner_id: int, changes: Changes) -> int:
    if changes.name is None:
        raise ValidationFailed("Validation failed: Name can't be blank")
    if changes.query is None:
        raise ValidationFailed("Validation failed: Query can't be blank")
    async with db.write() as tx:
        count = await tx.session.scalar(
            select(func.count(TrackedSearch.id)).where(TrackedSearch.account_id == owner_id)
        )
        if (count or 0) >= MAX_SEARCHES:
            raise ValidationFailed(
                f"Validation failed: You cannot have more than {MAX_SEARCHES} tracked searches"
            )
        row = TrackedSearch(account_id=owner_id, position=count or 0)
        _apply(settings, row, changes)
        tx.session.add(row)
        await tx.session.flush()
        if changes.member_ids is not None:
            await _set_members(tx, row, changes.member_ids)
        search_id = row.id
        tx.emit(TrackedSearchesChanged(search_id))
    tracked_matching.forget_searches()
    await tracked_matching.backfill(db, settings, search_id)
    return search_id


async def update(db: Database, settings: Settings, owner_id: int, search_id: int, changes: Changes) -> None:
    async with db.write() as tx:
        row = await own_search(tx, owner_id, search_id)
        before = row.query
        _apply(settings, row, changes)
        if changes.member_ids is not None:
            await _set_members(tx, row, changes.member_ids)
        requery = row.query != before
        if requery:  # the old matches were of another question
            await tracked_matching.clear_matches(tx, row)
            tx.emit(TrackedSearchesChanged(search_id))
    tracked_matching.forget_searches()
    if requery:
        await tracked_matching.backfill(db, settings, search_id)


async def delete_search(db: Database, actor_id: int, search_id: int) -> None:
    """The owner deletes the search; a member leaves it (it is gone from their columns)."""
    async with db.write() as tx:
        row = await tx.session.get(TrackedSearch, search_id)
        if row is not None and row.account_id == actor_id:
            await tx.session.delete(row)
            tx.emit(TrackedSearchesChanged(search_id))
        else:
            left = await tx.session.execute(
                delete(TrackedSearchMember).where(
                    TrackedSearchMember.tracked_search_id == search_id,
                    TrackedSearchMember.account_id == actor_id,
                )
            )
            if not getattr(left, "rowcount", 0):
                raise NotFound()
    tracked_matching.forget_searches()


async def reorder(db: Database, owner_id: int, search_ids: Sequence[int]) -> None:
    """Put the owner's columns in this order (the ones not named keep their order, after)."""
    async with db.write() as tx:
        rows = list(
            await tx.session.scalars(select(TrackedSearch).where(TrackedSearch.account_id == owner_id))
        )
        by_id = {r.id: r for r in rows}
        if any(i not in by_id for i in search_ids):
            raise NotFound()
        named = list(dict.fromkeys(search_ids))
        rest = [r.id for r in sorted(rows, key=lambda r: (r.position, r.id)) if r.id not in named]
        for position, search_id in enumerate(named + rest):
            by_id[search_id].position = position


async def correct_sentiment(db: Database, account_id: int, status_id: int, label: str | None) -> None:
    """Keep a person's label for a note they may see (``None`` removes it: the lexicon's again)."""
    if label is not None and label not in LABELS:
        raise ValidationFailed(f"Validation failed: Label must be one of {', '.join(LABELS)}")
    async with db.write() as tx:
        seen = await tx.session.scalar(
            select(Status.id).where(Status.id == status_id, visible_to(account_id))
        )
        if seen is None:
            raise NotFound()
        await tx.session.execute(
            delete(SentimentCorrection).where(
                SentimentCorrection.account_id == account_id, SentimentCorrection.status_id == status_id
            )
        )
        if label is not None:
            tx.session.add(SentimentCorrection(account_id=account_id, status_id=status_id, label=label))
