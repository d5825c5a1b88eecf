"""Changing a password: by its owner (the settings page, which asks for the current one), by an
administrator (``cordee user set-password``) or through a reset link sent by e-mail.

Every change revokes what the old password let in: every access token and every web session of the
user — except, for a change made by the user in the browser, the session that made it — and the
streams opened with those tokens close on every process (``sessions.lock_out``). Mastodon has no
client API to change a password (it is a web page there too), so there is none here either.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from cordee.actions import audit
from cordee.actions.errors import NotFound, ValidationFailed
from cordee.actions.sessions import lock_out
from cordee.db.engine import Database
from cordee.db.tables import Account, User
from cordee.db.tx import Tx
from cordee.domain.passwords import MIN_PASSWORD_LENGTH, hash_password, verify_password

#: Longer passwords are refused before hashing (Argon2 on megabytes would be a cheap attack).
MAX_PASSWORD_LENGTH = 1000


class WrongPassword(ValidationFailed):
    """The current password given to confirm a change is not the user's."""

    def __init__(self) -> None:
        super().__init__("The current password is incorrect")


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"The password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationFailed(f"The password must have at most {MAX_PASSWORD_LENGTH} characters")


async def replace_password(tx: Tx, user: User, new_hash: str, *, keep_session_id: int | None = None) -> None:
    """Inside a transaction: store the new hash and revoke everything the old password let in."""
    user.password_hash = new_hash
    await lock_out(tx, user.id, keep_session_id=keep_session_id)


async def change_password(
    db: Database, user_id: int, current: str, new: str, *, keep_session_id: int | None, ip: str
) -> None:
    """The user changes their own password, proving they know the current one."""
    check_new_password(new)
    async with db.read() as session:
        old_hash = await session.scalar(select(User.password_hash).where(User.id == user_id))
    if old_hash is None:
        raise NotFound()
    # Argon2 is slow on purpose: verify and hash in threads, outside the write transaction.
    if not await asyncio.to_thread(verify_password, old_hash, current[:MAX_PASSWORD_LENGTH]):
        raise WrongPassword()
    new_hash = await asyncio.to_thread(hash_password, new)
    async with db.write() as tx:
        user = await tx.session.get(User, user_id)
        if user is None:
            raise NotFound()
        if user.password_hash != old_hash:  # changed meanwhile: the proof was for another password
            raise WrongPassword()
        await replace_password(tx, user, new_hash, keep_session_id=keep_session_id)
        audit.record(tx.session, "password_changed", user_id=user_id, ip=ip)


async def set_password(db: Database, username: str, new: str, *, actor: str = "cli") -> None:
    """An administrator sets a user's password (``cordee user set-password``)."""
    check_new_password(new)
    new_hash = await asyncio.to_thread(hash_password, new)
    async with db.write() as tx:
        user = await tx.session.scalar(
            select(User)
            .join(Account, Account.id == User.account_id)
            .where(Account.username_key == username.lower(), Account.domain.is_(None))
        )
        if user is None:
            raise NotFound(f"No local user named {username!r}")
        await replace_password(tx, user, new_hash)
        audit.record(tx.session, "password_reset", user_id=user.id, actor=actor, by="admin")
        # Listed with the other administrators' actions too (``cordee audit --kind admin_action``).
        audit.record(tx.session, "admin_action", user_id=user.id, actor=actor, changes={"password": "set"})
