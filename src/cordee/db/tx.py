"""The handle an action writes through."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cordee.db.changes import TX_KEY, Changes
from cordee.events.types import Event
from cordee.redis_client import ScriptCall


class Tx:
    """A write transaction in progress: its session, the events to send once it commits, and what
    it changed (``db/changes.py``, observed on the session)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.events: list[Event] = []
        #: Outbox rows written by this transaction (``feeds/outbox.py``), done after commit.
        self.outbox: list[int] = []
        #: Home-feed entries read inside this transaction for a store outside the database, which
        #: then only has to write them once committed (``feeds/fanout.py``): owners by note id.
        self.feed_entries: dict[int, list[int]] | None = None
        #: Owners of the feeds its after-commit work wrote in a store outside the database: told
        #: to the caches once written, with the transaction's own changes (``Database.write``).
        self.feeds_written: set[int] = set()
        #: Redis work of the after-commit hooks, sent ahead of the transaction's change-log entry
        #: in one round trip (``Database.write``), and what to do once it all ran (not if it failed:
        #: the outbox then replays it).
        self.redis_ahead: list[ScriptCall] = []
        self.redis_ran: list[Callable[[], None]] = []
        self.changes = Changes()
        #: The transaction's own driver connection (asyncpg), once a statement ran on it past the
        #: session (``db/hot_writes.py``).
        self.driver: Any = None
        # The session's writes are recorded here while this transaction is the one running on it
        # (group commit runs its members one after another on one session). A weak reference: the
        # session referring back to its transaction made a cycle, and a write on a session of its
        # own (PostgreSQL) left its whole graph (session, changes, events) to the cycle collector:
        # measured, ~20 objects a post, and young collections of 47–69 ms every ~700 posts.
        session.info[TX_KEY] = weakref.ref(self)

    def emit(self, event: Event) -> None:
        self.events.append(event)
