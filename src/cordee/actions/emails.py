"""Links sent by e-mail: confirming the address given at sign-up, and resetting a forgotten password.

A link carries a random token; ``email_tokens`` keeps only its SHA-256, for one purpose, one use and
a short time (``LIFETIMES``). Asking for a reset gives the same answer, with the same work done (a
write to the audit log, the mail sent in the background), whether the address is known or not, so
the form does not tell who has an account here.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from cordee.actions import audit
from cordee.actions.errors import ValidationFailed
from cordee.actions.passwords import check_new_password, replace_password
from cordee.config import Settings
from cordee.db.engine import Database
from cordee.db.tables import Account, User
from cordee.db.tables_security import EmailToken
from cordee.db.tx import Tx
from cordee.db.types import utcnow
from cordee.domain.passwords import hash_password
from cordee.mail import Sender, message, send_later

LIFETIMES = {"confirm": timedelta(days=2), "reset": timedelta(hours=1)}


class InvalidLink(ValidationFailed):
    def __init__(self) -> None:
        super().__init__("This link is invalid, was already used, or has expired")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


async def _new_token(tx: Tx, user_id: int, purpose: str, email: str) -> str:
    token = secrets.token_urlsafe(32)
    # One live link per purpose: asking again makes the older ones useless.
    await tx.session.execute(
        update(EmailToken)
        .where(EmailToken.user_id == user_id, EmailToken.purpose == purpose, EmailToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
    tx.session.add(
        EmailToken(
            token_hash=_hash(token),
            user_id=user_id,
            purpose=purpose,
            email=email,
            expires_at=utcnow() + LIFETIMES[purpose],
        )
    )
    return token


async def send_confirmation(db: Database, sender: Sender, settings: Settings, user_id: int) -> bool:
    """Mail a confirmation link to the user's address (at sign-up, or asked again); False when the
    address is already confirmed."""
    async with db.write() as tx:
        row = (
            await tx.session.execute(
                select(User.email, User.email_confirmed_at, Account.username)
                .join(Account, Account.id == User.account_id)
                .where(User.id == user_id)
            )
        ).first()
        if row is None or row[1] is not None:
            return False
        email, _, username = row
        token = await _new_token(tx, user_id, "confirm", email)
    link = f"{settings.base_url}/auth/confirmation?confirmation_token={token}"
    body = (
        f"Hello @{username},\n\nTo confirm this address for your account on {settings.domain}, open:\n\n"
        f"{link}\n\nThe link works once, for {LIFETIMES['confirm'].days} days. If you did not create "
        "this account, ignore this message.\n"
    )
    send_later(sender, message(settings, email, f"Confirm your e-mail address on {settings.domain}", body))
    return True


async def resend_confirmation(db: Database, sender: Sender, settings: Settings, email: str, ip: str) -> None:
    """ "Send the confirmation link again" (web form): the same answer whether the address is known."""
    async with db.read() as session:
        user_id = await session.scalar(select(User.id).where(User.email == email.strip().lower()[:320]))
    if user_id is not None:
        await send_confirmation(db, sender, settings, user_id)
    else:
        await audit.record_alone(db, "email_confirmation_requested", ip=ip, known=False)


async def confirm(db: Database, token: str, ip: str) -> int:
    """Follow a confirmation link: the address is confirmed; returns the user's id."""
    async with db.write() as tx:
        row = await _spend(tx, token, "confirm")
        user = await tx.session.get(User, row.user_id)
        if user is None or user.email != row.email:  # the address changed since the link was sent
            raise InvalidLink()
        if user.email_confirmed_at is None:
            user.email_confirmed_at = utcnow()
        audit.record(tx.session, "email_confirmed", user_id=user.id, ip=ip)
        return user.id


async def _spend(tx: Tx, token: str, purpose: str) -> EmailToken:
    """The live token row, marked used (a conditional update: two clicks racing spend it once)."""
    row = await tx.session.scalar(
        select(EmailToken).where(EmailToken.token_hash == _hash(token), EmailToken.purpose == purpose)
    )
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        raise InvalidLink()
    done = await tx.session.execute(
        update(EmailToken)
        .where(EmailToken.id == row.id, EmailToken.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if not done.rowcount:  # type: ignore[attr-defined]
        raise InvalidLink()
    return row


async def request_reset(db: Database, sender: Sender, settings: Settings, email: str, ip: str) -> None:
    """ "Forgot your password": mail a reset link if the address is a user's. Same answer and the same
    work (one write) either way."""
    address = email.strip().lower()[:320]
    async with db.write() as tx:
        row = (
            await tx.session.execute(
                select(User.id, User.disabled, Account.username)
                .join(Account, Account.id == User.account_id)
                .where(User.email == address)
            )
        ).first()
        user_id = row[0] if row is not None and not row[1] else None
        token = await _new_token(tx, user_id, "reset", address) if user_id is not None else None
        audit.record(
            tx.session, "password_reset_requested", user_id=user_id, ip=ip, known=user_id is not None
        )
    if row is None or token is None:
        return
    link = f"{settings.base_url}/auth/password/edit?reset_password_token={token}"
    body = (
        f"Hello @{row[2]},\n\nSomeone (hopefully you) asked to reset the password of your account on "
        f"{settings.domain}. To choose a new one, open:\n\n{link}\n\nThe link works once, within an hour. "
        "If you did not ask for it, ignore this message: your password stays as it is.\n"
    )
    send_later(sender, message(settings, address, f"Reset your password on {settings.domain}", body))


async def check_reset_token(db: Database, token: str) -> bool:
    """Whether a reset link is still good (to show the form, or say it is not)."""
    async with db.read() as session:
        row = await session.scalar(
            select(EmailToken).where(EmailToken.token_hash == _hash(token), EmailToken.purpose == "reset")
        )
    return row is not None and row.used_at is None and row.expires_at > utcnow()


async def reset_password(db: Database, token: str, new: str, ip: str) -> int:
    """Follow a reset link with a new password: every token and web session of the user is revoked
    (their streams close); following the link also proves the address. Returns the user's id."""
    check_new_password(new)
    if not await check_reset_token(db, token):
        raise InvalidLink()
    new_hash = await asyncio.to_thread(hash_password, new)
    async with db.write() as tx:
        row = await _spend(tx, token, "reset")
        user = await tx.session.get(User, row.user_id)
        if user is None or user.email != row.email:
            raise InvalidLink()
        await replace_password(tx, user, new_hash)
        if user.email_confirmed_at is None:
            user.email_confirmed_at = utcnow()
        audit.record(tx.session, "password_reset", user_id=user.id, ip=ip, by="email")
        return user.id
