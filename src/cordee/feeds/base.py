"""The feed store interface, and what its implementations share."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.config import Settings
from cordee.db.types import utcnow

#: Rows of ``(account_id, status_id, author_id)``: which note goes into whose feed.
Entries = Select[*tuple[Any, ...]]
#: The owners of the feeds a store's write changed, for its caller to announce (empty for a
#: transactional store: see ``FeedStore.transactional``).
Owners = set[int]


def owners_by_status(rows: Iterable[Sequence[Any]]) -> dict[int, list[int]]:
    """An ``Entries`` statement's rows as the owners of the feeds each note goes to."""
    found: dict[int, list[int]] = {}
    for row in rows:
        found.setdefault(row[1], []).append(row[0])
    return found


class FeedStore(Protocol):
    """Bounded per-account lists of note ids, newest first.

    A feed either exists (it was built, and is being read) or is *missing* (never built, or not read
    for ``feed_inactive_days``): fan-out only writes to existing feeds, and a missing feed is
    rebuilt from the follow graph by ``rebuild`` before it is read. Feeds hold candidates only:
    readers still apply the visibility and home rules, so a stale id can never show a note the
    reader may not see.
    """

    #: True when fan-out runs inside the writing transaction (the store is in the same database,
    #: so the feed commits with the note); False when it runs once the transaction committed.
    #:
    #: Either way the caches hear of every feed a write changed, before its writer answers (the
    #: home memo serves a kept page without reading the feed: ``memo.quick``). A transactional
    #: store's writes are observed on the transaction (``db/changes.py``). The others' methods
    #: return the owners of the feeds they changed, which their callers announce once written
    #: (``Database.feeds_written``, or with the transaction's own entry: ``Tx.feeds_written``).
    transactional: bool

    async def push(
        self, session: AsyncSession, entries: Entries, params: Mapping[str, Any] | None = None
    ) -> Owners:
        """Add the entries to the feeds they name that exist, keeping each feed bounded. With
        ``params``, ``entries`` is a statement built once with those bind parameters: the store
        may keep what it builds from it."""
        ...

    async def remove_statuses(
        self, session: AsyncSession, owners: Sequence[int], status_ids: Sequence[int]
    ) -> Owners:
        """Take notes out of these accounts' feeds (a store may do it by itself, e.g. cascades)."""
        ...

    async def remove_authors(
        self, session: AsyncSession, account_id: int, author_ids: Sequence[int]
    ) -> Owners:
        """Take every note by these authors out of one account's feed (unfollow, block, mute)."""
        ...

    async def read(
        self, account_id: int, *, below: int | None, above: int | None, limit: int | None = None
    ) -> list[int] | None:
        """Ids strictly between ``above`` and ``below`` (either may be None), newest first, at most
        ``limit`` (at most ``feed_size``); None when the feed is missing. Reading keeps it alive."""
        ...

    async def rebuild(self, account_id: int, entries: Entries, params: Mapping[str, Any]) -> Owners:
        """Make the feed exist and hold exactly ``entries`` (a statement built once, run with
        ``params``), plus anything pushed meanwhile."""
        ...


def inactive_before(settings: Settings, now: datetime | None = None) -> datetime:
    """Feeds last read before this moment are inactive: no longer fed, rebuilt when read."""
    return (now or utcnow()) - timedelta(days=settings.feed_inactive_days)
