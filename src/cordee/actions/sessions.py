"""Web sessions: a signed-in browser is a row in ``web_sessions``, so it can be listed and revoked.

The cookie holds a random key; the database holds only its SHA-256, so a copy of the database signs
nobody in. A session expires ``LIFETIME`` after it was last seen (sliding); ``last_seen_at``, the
address and the browser are written at most every ``TOUCH_EVERY`` — not a write per page view.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from cordee.actions import audit
from cordee.db.engine import Database
from cordee.db.tables import AccessToken
from cordee.db.tables_security import WebSession
from cordee.db.tx import Tx
from cordee.db.types import utcnow
from cordee.events.types import TokensRevoked

LIFETIME = timedelta(days=30)
TOUCH_EVERY = timedelta(minutes=5)
USER_AGENT_LENGTH = 300


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


async def start(db: Database, user_id: int, ip: str, user_agent: str, *, method: str = "password") -> str:
    """Sign ``user_id`` in on a new browser session; returns the key for its cookie. The caller has
    checked every factor (password, two-factor code): this is the last step of any web sign-in."""
    key = secrets.token_urlsafe(32)
    async with db.write() as tx:
        row = WebSession(
            key_hash=key_hash(key),
            user_id=user_id,
            ip=ip[:45],
            user_agent=user_agent[:USER_AGENT_LENGTH],
            expires_at=utcnow() + LIFETIME,
        )
        tx.session.add(row)
        await tx.session.flush()
        audit.record(
            tx.session, "sign_in", user_id=user_id, ip=ip, via="web", method=method, web_session=row.id
        )
    return key


async def end(db: Database, session_id: int, user_id: int, ip: str) -> None:
    """Sign out: this browser's session stops working (a copy of its cookie too)."""
    async with db.write() as tx:
        await tx.session.execute(
            update(WebSession)
            .where(WebSession.id == session_id, WebSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        audit.record(tx.session, "sign_out", user_id=user_id, ip=ip, web_session=session_id)
        tx.emit(TokensRevoked(web_session_ids=(session_id,)))  # its live page stream ends with it


async def revoke(db: Database, user_id: int, session_id: int, ip: str) -> bool:
    """Sign out one of the user's own sessions (from the settings page); False if there is none."""
    async with db.write() as tx:
        done = await tx.session.execute(
            update(WebSession)
            .where(
                WebSession.id == session_id, WebSession.user_id == user_id, WebSession.revoked_at.is_(None)
            )
            .values(revoked_at=utcnow())
        )
        if not done.rowcount:  # type: ignore[attr-defined]
            return False
        audit.record(tx.session, "sessions_revoked", user_id=user_id, ip=ip, web_sessions=[session_id])
        tx.emit(TokensRevoked(web_session_ids=(session_id,)))
    return True


async def revoke_others(db: Database, user_id: int, keep_session_id: int, ip: str) -> int:
    """ "Sign out everywhere else": every web session of the user but this one; returns how many."""
    async with db.write() as tx:
        ids = await _revoke_sessions(tx, user_id, keep_session_id)
        if ids:
            audit.record(tx.session, "sessions_revoked", user_id=user_id, ip=ip, web_sessions=ids)
            tx.emit(TokensRevoked(web_session_ids=tuple(ids)))
    return len(ids)


async def touch(db: Database, session_id: int, ip: str, user_agent: str) -> None:
    """The session was seen now: push its expiry back and note where from."""
    now = utcnow()
    async with db.write() as tx:
        await tx.session.execute(
            update(WebSession)
            .where(WebSession.id == session_id, WebSession.revoked_at.is_(None))
            .values(
                last_seen_at=now,
                expires_at=now + LIFETIME,
                ip=ip[:45],
                user_agent=user_agent[:USER_AGENT_LENGTH],
            )
        )


async def _revoke_sessions(tx: Tx, user_id: int, keep_session_id: int | None) -> list[int]:
    query = select(WebSession.id).where(WebSession.user_id == user_id, WebSession.revoked_at.is_(None))
    if keep_session_id is not None:
        query = query.where(WebSession.id != keep_session_id)
    ids = list(await tx.session.scalars(query))
    if ids:
        await tx.session.execute(update(WebSession).where(WebSession.id.in_(ids)).values(revoked_at=utcnow()))
    return ids


async def lock_out(tx: Tx, user_id: int, *, keep_session_id: int | None = None) -> None:
    """Inside a password change, reset or the like: revoke every access token and every web session
    of the user (but ``keep_session_id``, the browser that made the change) and close their streams
    on every process once the transaction commits."""
    await _revoke_sessions(tx, user_id, keep_session_id)
    await tx.session.execute(
        update(AccessToken)
        .where(AccessToken.user_id == user_id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    tx.emit(TokensRevoked(user_id=user_id))
