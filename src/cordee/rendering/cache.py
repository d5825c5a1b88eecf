"""What rendering keeps between requests: the viewer-independent part of each note and account.

A note's *body* (content, mentions, tags, media, application, reply ids…) changes only when the
note is edited, so it is kept under its ``edited_at`` and checked against the row read for each
page: an edit is seen at once, on every process, without any message. Counters (replies, boosts,
favourites; an author's followers, statuses…) are never cached: every page reads them fresh with
its rows (``queries.timelines.LIVE_COLUMNS``) and lays them over the bodies.

An account's body (names, bio, avatar…) changes through ``AccountUpdated``, which ``forget``
receives after commit from the event bus — in the writing process and, over Redis, in every other.
An account's JSON *with* its counters, as every note shows it (``account_json``), is kept under
its version (below): the notes kept per reader (``rendering/pieces.py``) lay it in when served, so
that an author's new post renders their account once, not each of their notes again.
Deleted notes are never served from here: the page's rows come from the database, and a deleted
note has no row.

The cache holds no reader-specific data and is consulted only for ids the reader was already found
allowed to see, so it cannot widen what anyone sees.

**Versions** serve the caches of whole rendered pages (``rendering/home.py``), which do show
counters and the reader's own marks. Every committed write hands over what it changed
(``db/changes.py``: notes, accounts, polls, readers, observed on the session); each key changed
takes the value of a clock that moves once per such write. A page is rendered after taking a
``mark`` and kept with the versions of what it shows, unless one of them moved past the mark
meanwhile (the page may have read the data from before that write); it is served while those
versions are unchanged. A write the changes cannot describe moves the generation instead, and
every kept page is dropped. Like the home memo, this is exact where every committed write reaches
this process before a read that follows it (its own, or others' through ``db/change_log.py``); its
users are built only there (``feeds/__init__.py``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime
from itertools import repeat
from typing import TYPE_CHECKING, Any, TypeVar

from cordee.db.changes import Changes, Key
from cordee.events.types import AccountUpdated, Event, StatusDeleted, StatusUpdated

if TYPE_CHECKING:
    from cordee.rendering.pieces import Piece

#: Default number of note bodies and of account bodies kept per process (an LRU each).
DEFAULT_SIZE = 50_000
#: Notes' pieces shared between readers kept per process (``rendering/pieces.py``; ~1–2 KB each):
#: a page reads a note's piece only while it holds, so these are mostly the newest notes.
SHARED_PIECES = 20_000
#: Versions kept before they are all dropped at once (a new generation: kept pages go too); ~12 MB
#: at most, and a post adds 2–3 of them.
MAX_VERSIONS = 100_000

_ZEROS = repeat(0)

_K = TypeVar("_K")
_V = TypeVar("_V")


def recent(kept: OrderedDict[_K, _V], key: _K) -> _V | None:
    """What ``kept`` holds under ``key``, now its most recently used."""
    found = kept.get(key)
    if found is not None:
        kept.move_to_end(key)
    return found


def keep_recent(kept: OrderedDict[_K, _V], key: _K, value: _V, size: int) -> None:
    """Keep ``value`` as the most recently used, the least recently used dropped past ``size``."""
    kept[key] = value
    kept.move_to_end(key)
    if len(kept) > size:
        kept.popitem(last=False)


#: Taken before rendering: (generation, clock).
Mark = tuple[int, int]


class EntityCache:
    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self._size = size
        self._statuses: OrderedDict[int, tuple[datetime | None, dict[str, Any]]] = OrderedDict()
        self._accounts: OrderedDict[int, dict[str, Any]] = OrderedDict()
        #: Accounts' JSON with their counters, as notes show them: (generation, version, JSON).
        self._account_jsons: OrderedDict[int, tuple[int, int, bytes]] = OrderedDict()
        #: Notes' pieces as every reader sees them who has no mark on them and wrote none of
        #: them, by (note id, whether the reader is anonymous): see ``rendering/pieces.py``.
        self._pieces: OrderedDict[tuple[int, bool], Piece] = OrderedDict()
        #: Apps' names and websites as notes show them (an app is never renamed).
        self._applications: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self._generation = 0
        self._clock = 0
        self._versions: dict[Key, int] = {}

    def status(self, status_id: int, edited_at: datetime | None) -> dict[str, Any] | None:
        found = self._statuses.get(status_id)
        if found is None or found[0] != edited_at:
            return None
        self._statuses.move_to_end(status_id)
        return found[1]

    def put_status(self, status_id: int, edited_at: datetime | None, body: dict[str, Any]) -> None:
        keep_recent(self._statuses, status_id, (edited_at, body), self._size)

    def account(self, account_id: int) -> dict[str, Any] | None:
        return recent(self._accounts, account_id)

    def put_account(self, account_id: int, body: dict[str, Any]) -> None:
        keep_recent(self._accounts, account_id, body, self._size)

    def account_json(self, account_id: int) -> bytes | None:
        """An account's JSON with its counters, if nothing of it changed since it was kept."""
        found = self._account_jsons.get(account_id)
        if found is None or found[:2] != (self._generation, self._versions.get(("a", account_id), 0)):
            return None
        self._account_jsons.move_to_end(account_id)
        return found[2]

    def put_account_json(self, mark: Mark, account_id: int, json: bytes) -> None:
        """Keep an account's JSON rendered since ``mark``, unless the account changed since."""
        versions = self.versions(mark, (("a", account_id),))
        if versions is None:
            return
        keep_recent(self._account_jsons, account_id, (mark[0], versions[0], json), self._size)

    def application(self, application_id: int) -> dict[str, Any] | None:
        return recent(self._applications, application_id)

    def put_application(self, application_id: int, application: dict[str, Any]) -> None:
        keep_recent(self._applications, application_id, application, self._size)

    def shared_piece(self, key: tuple[int, bool], now: datetime) -> Piece | None:
        """A note's piece shared between readers, if nothing it shows changed since it was kept."""
        found = self._pieces.get(key)
        if found is None:
            return None
        if not found.holds(self, now):
            del self._pieces[key]
            return None
        self._pieces.move_to_end(key)
        return found

    def put_shared_piece(self, key: tuple[int, bool], piece: Piece) -> None:
        keep_recent(self._pieces, key, piece, SHARED_PIECES)

    def forget(self, events: Sequence[Event]) -> None:
        for event in events:
            if isinstance(event, AccountUpdated):
                self._accounts.pop(event.account_id, None)
                self._account_jsons.pop(event.account_id, None)
            elif isinstance(event, StatusDeleted | StatusUpdated):
                self._statuses.pop(event.status_id, None)

    def changed(self, changes: Changes) -> None:
        """One write transaction committed, with these changes."""
        if changes.missed:
            self.clear()
        elif changes.unknown or len(self._versions) + len(changes.keys) > MAX_VERSIONS:
            self._generation += 1
            self._versions.clear()
        elif changes.keys:
            self._clock += 1
            clock = self._clock
            versions = self._versions
            for key in changes.keys:
                versions[key] = clock

    def mark(self) -> Mark:
        return self._generation, self._clock

    def versions(self, mark: Mark, keys: Sequence[Key]) -> tuple[int, ...] | None:
        """The versions of ``keys``, if none changed since ``mark`` (else a page rendered since
        the mark may show some of them from before the change, or after: it is not kept)."""
        generation, clock = mark
        if generation != self._generation:
            return None
        get = self._versions.get
        found = tuple(get(key, 0) for key in keys)
        return None if any(v > clock for v in found) else found

    def unchanged(self, generation: int, keys: Sequence[Key], versions: tuple[int, ...]) -> bool:
        # ``map`` over two iterables: ``get(key, 0)`` per key without a Python frame per key (this
        # runs on every read of a kept page, over its ~45 keys).
        return generation == self._generation and tuple(map(self._versions.get, keys, _ZEROS)) == versions

    def clear(self) -> None:
        self._statuses.clear()
        self._accounts.clear()
        self._account_jsons.clear()
        self._pieces.clear()
        self._generation += 1
        self._versions.clear()
