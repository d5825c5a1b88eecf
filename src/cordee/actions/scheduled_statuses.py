"""Notes scheduled for later: kept with what ``POST /api/v1/statuses`` was given, and published at
their time by a periodic task through ``post_status`` (so fan-out, notifications and events happen
as for any note).

Publishing is exactly once: the scheduled row is deleted inside the very transaction that posts
the note (``post_status(also=…)``); a second runner finds nothing to delete and posts nothing, and
a crash before the commit leaves the row for the next tick. Since the work is derived from the
rows, notes due while the server was down are published when it comes back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select

from cordee.actions.errors import ActionError, NotFound, ValidationFailed
from cordee.actions.media import check_media_ids, claim_media
from cordee.actions.polls import NewPoll, check_poll
from cordee.actions.statuses import NewStatus, check_text, post_status
from cordee.config import Settings
from cordee.db.engine import Database, Tx
from cordee.db.tables import Account, Status, User
from cordee.db.tables_personal import ScheduledMedia, ScheduledStatus
from cordee.db.types import utcnow
from cordee.queries.visibility import VISIBILITIES, visible_to

log = logging.getLogger(__name__)

MIN_OFFSET = timedelta(minutes=5)
#: Mastodon's limits: scheduled notes per account, and per day they are due on.
TOTAL_LIMIT = 300
DAILY_LIMIT = 25
MAX_YEAR = 9999  # date arithmetic (the day after) must stay in range


def check_scheduled_at(when: datetime, now: datetime | None = None) -> None:
    if when < (now or utcnow()) + MIN_OFFSET:
        raise ValidationFailed("Validation failed: Scheduled at must be at least 5 minutes in the future")
    if when.year >= MAX_YEAR:
        raise ValidationFailed("Validation failed: Scheduled at is too far in the future")


def _params(new: NewStatus, application_id: int | None, idempotency_key: str | None) -> dict[str, Any]:
    """What is kept to post later, in the shape of Mastodon's ScheduledStatus ``params``."""
    return {
        "text": new.text,
        "visibility": new.visibility,
        "in_reply_to_id": new.in_reply_to_id,
        "spoiler_text": new.spoiler_text or None,
        "sensitive": new.sensitive,
        "language": new.language,
        "media_ids": [str(i) for i in new.media_ids] or None,
        "poll": {
            "options": list(new.poll.options),
            "expires_in": new.poll.expires_in,
            "multiple": new.poll.multiple,
            "hide_totals": new.poll.hide_totals,
        }
        if new.poll is not None
        else None,
        "scheduled_at": None,
        "idempotency": idempotency_key,
        "application_id": application_id,
        "with_rate_limit": False,
    }


def new_status_of(params: dict[str, Any]) -> NewStatus:
    poll = params.get("poll")
    return NewStatus(
        text=params["text"],
        visibility=params["visibility"],
        in_reply_to_id=params.get("in_reply_to_id"),
        spoiler_text=params.get("spoiler_text") or "",
        sensitive=bool(params.get("sensitive")),
        language=params.get("language"),
        media_ids=tuple(int(i) for i in params.get("media_ids") or ()),
        poll=NewPoll(
            options=tuple(poll["options"]),
            expires_in=poll["expires_in"],
            multiple=bool(poll.get("multiple")),
            hide_totals=bool(poll.get("hide_totals")),
        )
        if poll
        else None,
    )


async def _check_limits(tx: Tx, account_id: int, when: datetime, excluding: int | None = None) -> None:
    mine = select(func.count()).select_from(ScheduledStatus).where(ScheduledStatus.account_id == account_id)
    if excluding is not None:
        mine = mine.where(ScheduledStatus.id != excluding)
    if (await tx.session.scalar(mine) or 0) >= TOTAL_LIMIT:
        raise ValidationFailed(
            f"Validation failed: You have exceeded the limit of {TOTAL_LIMIT} scheduled posts"
        )
    day = when.replace(hour=0, minute=0, second=0, microsecond=0)
    same_day = mine.where(
        ScheduledStatus.scheduled_at >= day, ScheduledStatus.scheduled_at < day + timedelta(days=1)
    )
    if (await tx.session.scalar(same_day) or 0) >= DAILY_LIMIT:
        raise ValidationFailed(
            f"Validation failed: You have exceeded the limit of {DAILY_LIMIT} scheduled posts for that day"
        )


async def _lock_account(tx: Tx, account_id: int) -> None:
    """Scheduling queues per account, so that the limits hold with concurrent requests."""
    await tx.session.execute(select(Account.id).where(Account.id == account_id).with_for_update())


async def schedule_status(
    db: Database,
    settings: Settings,
    author_id: int,
    new: NewStatus,
    scheduled_at: datetime,
    *,
    application_id: int | None = None,
    idempotency_key: str | None = None,
) -> int:
    """Keep a note to publish at ``scheduled_at`` (at least 5 minutes ahead); returns the scheduled
    note's id. The note is checked now, as if posted. A retry with the same key returns the first id."""
    if new.visibility not in VISIBILITIES:
        raise ValidationFailed(f"Validation failed: Visibility must be one of {', '.join(VISIBILITIES)}")
    media_ids = check_media_ids(new.media_ids, with_poll=new.poll is not None)
    new = replace(new, media_ids=media_ids, poll=check_poll(new.poll) if new.poll is not None else None)
    check_text(settings, new.text.strip(), new.spoiler_text, new.language, blank_ok=bool(media_ids))
    check_scheduled_at(scheduled_at)
    async with db.write() as tx:
        await _lock_account(tx, author_id)
        if idempotency_key:
            existing = await tx.session.scalar(
                select(ScheduledStatus.id).where(
                    ScheduledStatus.account_id == author_id,
                    ScheduledStatus.idempotency_key == idempotency_key,
                )
            )
            if existing is not None:
                return existing
        if new.in_reply_to_id is not None:
            parent = await tx.session.scalar(
                select(Status.id).where(
                    Status.id == new.in_reply_to_id, Status.reblog_of_id.is_(None), visible_to(author_id)
                )
            )
            if parent is None:
                raise NotFound("The status you are replying to was not found")
        await claim_media(tx, author_id, media_ids)  # the author's, and free
        await _check_limits(tx, author_id, scheduled_at)
        row = ScheduledStatus(
            account_id=author_id,
            scheduled_at=scheduled_at,
            params=_params(new, application_id, idempotency_key),
            application_id=application_id,
            idempotency_key=idempotency_key,
        )
        tx.session.add(row)
        await tx.session.flush()
        # Kept for this note until it is published (the claim frees them) or cancelled.
        tx.session.add_all(ScheduledMedia(media_id=m, scheduled_status_id=row.id) for m in media_ids)
        return row.id


async def reschedule(db: Database, account_id: int, scheduled_id: int, scheduled_at: datetime) -> int:
    """Move one's scheduled note to another time (at least 5 minutes ahead)."""
    check_scheduled_at(scheduled_at)
    async with db.write() as tx:
        await _lock_account(tx, account_id)
        row = await tx.session.scalar(
            select(ScheduledStatus).where(
                ScheduledStatus.id == scheduled_id, ScheduledStatus.account_id == account_id
            )
        )
        if row is None:
            raise NotFound()
        await _check_limits(tx, account_id, scheduled_at, excluding=row.id)
        row.scheduled_at = scheduled_at
        return row.id


async def cancel(db: Database, account_id: int, scheduled_id: int) -> None:
    """Drop one's scheduled note before it is published."""
    async with db.write() as tx:
        result = await tx.session.execute(
            delete(ScheduledStatus).where(
                ScheduledStatus.id == scheduled_id, ScheduledStatus.account_id == account_id
            )
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            raise NotFound()


class _AlreadyPublished(Exception):
    """Another runner claimed the row first: this transaction must not post."""


@dataclass(frozen=True)
class _Due:
    id: int
    account_id: int
    params: dict[str, Any]
    application_id: int | None
    disabled: bool


async def _drop(db: Database, scheduled_id: int) -> None:
    async with db.write() as tx:
        await tx.session.execute(delete(ScheduledStatus).where(ScheduledStatus.id == scheduled_id))


async def publish_due(
    db: Database, settings: Settings, *, now: datetime | None = None, batch: int = 50
) -> int:
    """Publish the scheduled notes whose time has come (however long ago); returns how many.

    As in Mastodon, a note that can no longer be posted (its author was disabled, the note it
    answers is gone…) is dropped, with a warning in the log.
    """
    now = now or utcnow()
    async with db.read() as session:
        rows = (
            await session.execute(
                select(ScheduledStatus, User.disabled)
                .join(User, User.account_id == ScheduledStatus.account_id)
                .where(ScheduledStatus.scheduled_at <= now)
                .order_by(ScheduledStatus.scheduled_at, ScheduledStatus.id)
                .limit(batch)
            )
        ).all()
        due = [_Due(s.id, s.account_id, dict(s.params), s.application_id, disabled) for s, disabled in rows]
    published = 0
    for item in due:
        if item.disabled:
            log.warning("dropping scheduled note %s: its author is disabled", item.id)
            await _drop(db, item.id)
            continue

        async def claim(tx: Tx, scheduled_id: int = item.id) -> None:
            result = await tx.session.execute(
                delete(ScheduledStatus).where(ScheduledStatus.id == scheduled_id)
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                raise _AlreadyPublished()

        try:
            await post_status(
                db,
                settings,
                item.account_id,
                new_status_of(item.params),
                application_id=item.application_id,
                also=claim,
            )
        except _AlreadyPublished:
            continue
        except ActionError as e:
            log.warning("dropping scheduled note %s, which can no longer be posted: %s", item.id, e.message)
            await _drop(db, item.id)
            continue
        published += 1
    return published
