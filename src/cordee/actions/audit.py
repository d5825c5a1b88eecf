"""The audit log: one entry point every security-relevant action calls.

An event is written in the transaction of the change it records (``record``), so the log and the
change commit or roll back together; events with no change to go with them (a failed sign-in) are
written on their own (``record_alone``). Details are a small JSON object and never hold a secret.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.db.engine import Database
from cordee.db.tables_security import AuditEvent

#: The kinds of events, so that a typo cannot invent a new one.
KINDS = frozenset(
    {
        "sign_in",
        "sign_in_failed",
        "sign_out",
        "sessions_revoked",
        "password_changed",
        "password_reset_requested",
        "password_reset",
        "email_confirmed",
        "email_confirmation_requested",
        "two_factor_enabled",
        "two_factor_disabled",
        "two_factor_failed",
        "recovery_code_used",
        "recovery_codes_regenerated",
        "token_issued",
        "token_revoked",
        "rate_limited",
        "admin_action",
    }
)


def record(
    session: AsyncSession,
    kind: str,
    *,
    user_id: int | None = None,
    actor: str = "",
    ip: str = "",
    **detail: Any,
) -> None:
    """Add an audit event to the transaction of ``session``."""
    if kind not in KINDS:
        raise ValueError(f"unknown audit event kind: {kind}")
    session.add(
        AuditEvent(
            kind=kind,
            user_id=user_id,
            actor=actor[:100],
            ip=ip[:45],
            detail=orjson.dumps(detail, default=str).decode(),
        )
    )


async def record_alone(
    db: Database, kind: str, *, user_id: int | None = None, actor: str = "", ip: str = "", **detail: Any
) -> None:
    """Write an audit event in a transaction of its own (for events that change nothing else)."""
    async with db.write() as tx:
        record(tx.session, kind, user_id=user_id, actor=actor, ip=ip, **detail)
