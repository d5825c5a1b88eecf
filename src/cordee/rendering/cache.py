"""What rendering keeps between requests: the viewer-independent part of each note and account.

A note's *body* (content, mentions, tags, media, application, reply ids…) changes only when the
note is edited, so it is kept under its ``edited_at`` and checked against the row read for each
page: an edit is seen at once, on every process, without any message. Counters (replies, boosts,
favourites; an author's followers, statuses…) are never cached: every page reads them fresh with
its rows (``queries.timelines.LIVE_COLUMNS``) and lays them over the bodies.

An account's body (names, bio, avatar…) changes through ``AccountUpdated``, which ``forget``
receives after commit from the event bus — in the writing process and, over Redis, in every other.
Deleted notes are never served from here: the page's rows come from the database, and a deleted
note has no row.

The cache holds no reader-specific data and is consulted only for ids the reader was already found
allowed to see, so it cannot widen what anyone sees.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from cordee.events.types import AccountUpdated, Event, StatusDeleted, StatusUpdated

#: Default number of note bodies and of account bodies kept per process (an LRU each).
DEFAULT_SIZE = 50_000


class EntityCache:
    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self._size = size
        self._statuses: OrderedDict[int, tuple[datetime | None, dict[str, Any]]] = OrderedDict()
        self._accounts: OrderedDict[int, dict[str, Any]] = OrderedDict()

    def status(self, status_id: int, edited_at: datetime | None) -> dict[str, Any] | None:
        found = self._statuses.get(status_id)
        if found is None or found[0] != edited_at:
            return None
        self._statuses.move_to_end(status_id)
        return found[1]

    def put_status(self, status_id: int, edited_at: datetime | None, body: dict[str, Any]) -> None:
        self._statuses[status_id] = (edited_at, body)
        self._statuses.move_to_end(status_id)
        if len(self._statuses) > self._size:
            self._statuses.popitem(last=False)

    def account(self, account_id: int) -> dict[str, Any] | None:
        found = self._accounts.get(account_id)
        if found is not None:
            self._accounts.move_to_end(account_id)
        return found

    def put_account(self, account_id: int, body: dict[str, Any]) -> None:
        self._accounts[account_id] = body
        self._accounts.move_to_end(account_id)
        if len(self._accounts) > self._size:
            self._accounts.popitem(last=False)

    def forget(self, events: Sequence[Event]) -> None:
        for event in events:
            if isinstance(event, AccountUpdated):
                self._accounts.pop(event.account_id, None)
            elif isinstance(event, StatusDeleted | StatusUpdated):
                self._statuses.pop(event.status_id, None)

    def clear(self) -> None:
        self._statuses.clear()
        self._accounts.clear()
