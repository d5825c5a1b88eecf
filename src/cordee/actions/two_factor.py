"""Two-factor sign-in: TOTP (RFC 6238, 30-second steps, 6 digits) and single-use recovery codes.

A TOTP code is accepted once: only for a time step after the last accepted one (``last_step``),
moved forward by a conditional UPDATE, so two requests carrying the same code cannot both pass,
on any number of processes. Recovery codes are random (80 bits) and stored as SHA-256 digests:
with that much entropy a plain hash is enough, and a copy of the database signs nobody in.
Wrong codes are audited (``two_factor_failed``); the same log bounds them per account.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

import pyotp
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.actions import audit
from cordee.db.engine import Database
from cordee.db.tables import User
from cordee.db.tables_security import AuditEvent, RecoveryCode, TwoFactor
from cordee.db.types import utcnow
from cordee.domain.passwords import verify_password

STEP_SECONDS = 30
#: Steps accepted either side of now, for clocks that drift (RFC 6238 §5.2 suggests one).
WINDOW = 1
RECOVERY_CODES = 10
#: Wrong codes an account may receive in FAILURE_WINDOW before codes are refused for a while:
#: 5 in 15 minutes leaves a guesser about 480 tries a day against a million codes.
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class State:
    enabled: bool
    #: The secret awaiting its first code (enrolment started, not finished), else None.
    pending_secret: str | None
    recovery_codes_left: int


@dataclass(frozen=True)
class Verdict:
    ok: bool
    #: ``totp``, ``recovery``, ``password`` when ok; ``wrong`` or ``locked`` otherwise.
    how: str
    #: True once the account has had MAX_FAILURES wrong codes in FAILURE_WINDOW.
    locked: bool = False


def _now_step() -> int:
    return int(time.time()) // STEP_SECONDS


def _hash_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _normalise(code: str) -> str:
    return "".join(c for c in code.lower() if c.isalnum())[:64]


def _new_recovery_codes() -> list[str]:
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = base64.b32encode(secrets.token_bytes(10)).decode().lower()  # 16 characters, 80 bits
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    return codes


def _matching_step(secret: str, code: str, after: int) -> int | None:
    """The time step within the window whose code is ``code``, if after ``after``."""
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    now = _now_step()
    for step in range(now - WINDOW, now + WINDOW + 1):
        if step > after and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(name=account, issuer_name=issuer)


async def state(db: Database, user_id: int) -> State:
    async with db.read() as session:
        row = await session.get(TwoFactor, user_id)
        left = await session.scalar(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
        )
    if row is None:
        return State(False, None, 0)
    enabled = row.enabled_at is not None
    return State(enabled, None if enabled else row.secret, int(left or 0) if enabled else 0)


async def is_enabled(db: Database, user_id: int) -> bool:
    async with db.read() as session:
        found = await session.scalar(
            select(TwoFactor.user_id).where(TwoFactor.user_id == user_id, TwoFactor.enabled_at.is_not(None))
        )
    return found is not None


async def start_enrolment(db: Database, user_id: int) -> None:
    """Create the secret to scan (kept if enrolment was already started, so a shown QR code stays
    valid); does nothing when two-factor authentication is already on."""
    async with db.write() as tx:
        if await tx.session.get(TwoFactor, user_id) is None:
            tx.session.add(TwoFactor(user_id=user_id, secret=pyotp.random_base32(), last_step=0))


async def _replace_recovery_codes(session: AsyncSession, user_id: int) -> list[str]:
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = _new_recovery_codes()
    session.add_all(RecoveryCode(user_id=user_id, code_hash=_hash_code(_normalise(c))) for c in codes)
    return codes


async def enable(db: Database, user_id: int, code: str, *, ip: str = "") -> list[str] | None:
    """Turn two-factor authentication on with a first valid code; the recovery codes, or None."""
    async with db.write() as tx:
        row = await tx.session.get(TwoFactor, user_id)
        if row is None or row.enabled_at is not None:
            return None
        step = _matching_step(row.secret, _normalise(code), row.last_step)
        if step is None:
            return None
        row.enabled_at = utcnow()
        row.last_step = step  # the code that enabled it cannot also sign in
        codes = await _replace_recovery_codes(tx.session, user_id)
        audit.record(tx.session, "two_factor_enabled", user_id=user_id, ip=ip)
    return codes


async def _failures(session: AsyncSession, user_id: int) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.user_id == user_id,
            AuditEvent.kind == "two_factor_failed",
            AuditEvent.created_at >= utcnow() - FAILURE_WINDOW,
        )
    )
    return int(count or 0)


async def _spend_code(session: AsyncSession, user_id: int, code: str, ip: str) -> str | None:
    """Accept ``code`` once (TOTP or recovery code): ``totp``, ``recovery`` or None."""
    row = await session.get(TwoFactor, user_id)
    if row is None or row.enabled_at is None:
        return None
    step = _matching_step(row.secret, code, row.last_step)
    if step is not None:
        # Conditional: of two requests with the same code, only one moves the step forward.
        moved = await session.execute(
            update(TwoFactor)
            .where(TwoFactor.user_id == user_id, TwoFactor.last_step < step)
            .values(last_step=step)
        )
        return "totp" if moved.rowcount == 1 else None  # type: ignore[attr-defined]
    if len(code) != 16:
        return None
    used = await session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user_id,
            RecoveryCode.code_hash == _hash_code(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
    )
    if used.rowcount != 1:  # type: ignore[attr-defined]
        return None
    audit.record(session, "recovery_code_used", user_id=user_id, ip=ip)
    return "recovery"


async def check_code(
    db: Database, user_id: int, code: str, *, ip: str = "", purpose: str = "sign_in"
) -> Verdict:
    """Spend a TOTP or recovery code of ``user_id``; a wrong one is audited and counted."""
    async with db.write() as tx:
        failures = await _failures(tx.session, user_id)
        if failures >= MAX_FAILURES:
            return Verdict(False, "locked", locked=True)
        how = await _spend_code(tx.session, user_id, _normalise(code), ip)
        if how is not None:
            return Verdict(True, how)
        audit.record(tx.session, "two_factor_failed", user_id=user_id, ip=ip, purpose=purpose)
    return Verdict(False, "wrong", locked=failures + 1 >= MAX_FAILURES)


async def _confirm(db: Database, user_id: int, confirmation: str, ip: str, purpose: str) -> Verdict:
    """The password or a code, for changes that weaken or reveal the second factor."""
    async with db.read() as session:
        password_hash = await session.scalar(select(User.password_hash).where(User.id == user_id))
    if password_hash and confirmation:
        right: bool = await asyncio.to_thread(verify_password, password_hash, confirmation)
        if right:
            return Verdict(True, "password")
    return await check_code(db, user_id, confirmation, ip=ip, purpose=purpose)


async def regenerate_recovery_codes(
    db: Database, user_id: int, confirmation: str, *, ip: str = ""
) -> tuple[Verdict, list[str] | None]:
    """New recovery codes (the old ones stop working), after the password or a code."""
    verdict = await _confirm(db, user_id, confirmation, ip, "recovery_codes")
    if not verdict.ok:
        return verdict, None
    async with db.write() as tx:
        if not await tx.session.scalar(
            select(TwoFactor.user_id).where(TwoFactor.user_id == user_id, TwoFactor.enabled_at.is_not(None))
        ):
            return Verdict(False, "wrong"), None
        codes = await _replace_recovery_codes(tx.session, user_id)
        audit.record(tx.session, "recovery_codes_regenerated", user_id=user_id, ip=ip)
    return verdict, codes


async def disable(db: Database, user_id: int, confirmation: str, *, ip: str = "") -> Verdict:
    """Turn two-factor authentication off (secret and recovery codes deleted), after the password
    or a code."""
    verdict = await _confirm(db, user_id, confirmation, ip, "disable")
    if not verdict.ok:
        return verdict
    async with db.write() as tx:
        await tx.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
        await tx.session.execute(delete(TwoFactor).where(TwoFactor.user_id == user_id))
        audit.record(tx.session, "two_factor_disabled", user_id=user_id, ip=ip, confirmed_by=verdict.how)
    return verdict
