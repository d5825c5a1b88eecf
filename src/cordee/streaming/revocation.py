"""A safety net for revocations that did not come over the bus.

Revocations close streams through the ``TokensRevoked`` event (``Hub.handle``), on every process
when the bus is Redis. A change made where this process cannot hear it — ``cordee user disable`` on
a SQLite server without Redis writes to the database from another process — is caught here: every
``INTERVAL`` seconds, one indexed query per thousand open streams asks which of their tokens were
revoked or whose users were disabled, and those streams are closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import select

from cordee.db.engine import Database
from cordee.db.tables import AccessToken, User
from cordee.streaming.hub import Hub

log = logging.getLogger(__name__)
INTERVAL = 0.5  # twice a second, so a missed revocation still ends a stream within a second
CHUNK = 1000


async def revoked_among(db: Database, token_ids: list[int]) -> set[int]:
    """The tokens of ``token_ids`` that no longer authorise anything."""
    found: set[int] = set()
    async with db.read() as session:
        for start in range(0, len(token_ids), CHUNK):
            chunk = token_ids[start : start + CHUNK]
            found.update(
                await session.scalars(
                    select(AccessToken.id)
                    .outerjoin(User, User.id == AccessToken.user_id)
                    .where(
                        AccessToken.id.in_(chunk),
                        AccessToken.revoked_at.is_not(None) | User.disabled.is_(True),
                    )
                )
            )
    return found


class Sweeper:
    def __init__(self, hub: Hub, db: Database) -> None:
        self._hub, self._db = hub, db
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="stream-revocation-sweep")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def sweep(self) -> int:
        token_ids = sorted({c.token_id for c in self._hub.connections() if c.token_id is not None})
        if not token_ids:
            return 0
        revoked = await revoked_among(self._db, token_ids)
        return self._hub.close_revoked(revoked) if revoked else 0

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(INTERVAL)
            try:
                await self.sweep()
            except Exception:
                log.exception("stream revocation sweep failed")
