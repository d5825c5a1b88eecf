"""Reading the audit log, for administrators (``cordee audit``; later a page)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.db.tables import Account, User
from cordee.db.tables_security import AuditEvent


@dataclass(frozen=True)
class AuditLine:
    id: int
    created_at: datetime
    kind: str
    user_id: int | None
    #: The user's username, or None when the event names no user or the user is gone.
    username: str | None
    actor: str
    ip: str
    #: The event's details as stored: a small JSON object, never a secret.
    detail: str


async def local_user_id(session: AsyncSession, username: str) -> int | None:
    return await session.scalar(
        select(User.id)
        .join(Account, Account.id == User.account_id)
        .where(Account.username_key == username.lower(), Account.domain.is_(None))
    )


async def recent_events(
    session: AsyncSession, *, limit: int, user_id: int | None = None, kind: str | None = None
) -> list[AuditLine]:
    """The newest events first (by the ``(user_id, id)`` index when a user is given)."""
    query = (
        select(AuditEvent, Account.username)
        .outerjoin(User, User.id == AuditEvent.user_id)
        .outerjoin(Account, Account.id == User.account_id)
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    )
    if user_id is not None:
        query = query.where(AuditEvent.user_id == user_id)
    if kind is not None:
        query = query.where(AuditEvent.kind == kind)
    rows = await session.execute(query)
    return [
        AuditLine(e.id, e.created_at, e.kind, e.user_id, name, e.actor, e.ip, e.detail)
        for e, name in rows.all()
    ]
