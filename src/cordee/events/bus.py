"""The event bus interface and its in-process implementation.

``publish`` is called by ``Database.write`` once a transaction has committed, never before: a
consumer can always read what an event names. A Redis implementation (several processes) plugs in
behind the same interface.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from cordee.events.types import Event

log = logging.getLogger(__name__)

Handler = Callable[[Sequence[Event]], Awaitable[None]]


class EventBus(Protocol):
    async def publish(self, events: Sequence[Event]) -> None: ...

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        """Register a handler for every batch of events; returns a function that unsubscribes."""
        ...


class InProcessBus:
    """Delivers each committed batch to the handlers of this process, in order."""

    def __init__(self) -> None:
        self._handlers: list[Handler] = []

    async def publish(self, events: Sequence[Event]) -> None:
        if not events:
            return
        for handler in list(self._handlers):
            try:
                await handler(events)
            except Exception:  # one broken consumer must not fail the action that already committed
                log.exception("event handler %r failed", handler)

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        self._handlers.append(handler)
        return lambda: self._handlers.remove(handler) if handler in self._handlers else None
