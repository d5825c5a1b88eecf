"""The handle an action writes through."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from cordee.events.types import Event


class Tx:
    """A write transaction in progress: its session, and the events to send once it commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.events: list[Event] = []
        #: Outbox rows written by this transaction (``feeds/outbox.py``), done after commit.
        self.outbox: list[int] = []

    def emit(self, event: Event) -> None:
        self.events.append(event)
