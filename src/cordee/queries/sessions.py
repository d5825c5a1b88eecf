"""The read side of web sessions: the browser's session from its cookie key, and a user's list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.actions.sessions import key_hash
from cordee.db.tables import Account, User
from cordee.db.tables_security import WebSession
from cordee.db.types import utcnow


@dataclass(frozen=True)
class Found:
    web_session: WebSession
    user: User
    account: Account


async def find(session: AsyncSession, key: str) -> Found | None:
    """The live session for a cookie key (not revoked, not expired, its user not disabled)."""
    row = (
        await session.execute(
            select(WebSession, User, Account)
            .join(User, User.id == WebSession.user_id)
            .join(Account, Account.id == User.account_id)
            .where(
                WebSession.key_hash == key_hash(key),
                WebSession.revoked_at.is_(None),
                WebSession.expires_at > utcnow(),
            )
        )
    ).first()
    if row is None or row[1].disabled:
        return None
    return Found(row[0], row[1], row[2])


async def live_sessions(session: AsyncSession, user_id: int) -> Sequence[WebSession]:
    """The user's signed-in browsers, the most recently seen first."""
    return list(
        await session.scalars(
            select(WebSession)
            .where(
                WebSession.user_id == user_id,
                WebSession.revoked_at.is_(None),
                WebSession.expires_at > utcnow(),
            )
            .order_by(WebSession.last_seen_at.desc(), WebSession.id.desc())
        )
    )
