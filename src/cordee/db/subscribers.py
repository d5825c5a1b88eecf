"""Who asked to be notified of each author's notes (a follow's ``notify``), kept per process.

Every post asks it before its transaction (``actions._notify.subscribers_of``): on PostgreSQL a
round trip — under load a turn of the event loop, and with the author's counters read after the
commit, one of two statements whose removal took PostgreSQL's CPU a post from ~1,000 to ~450 µs
(docs/benchmarks.md) — for an answer that changes only when a follow does. So the answer is kept
until any write to the follows table commits anywhere (``Changes.follows``: a follow, an unfollow,
a block, a follow's options, an accepted request; other processes' through the change log; any
write the observer cannot name), and for ``MAX_AGE`` at most (stretched where other programs'
writes are seen: ``Database.trust_seconds``). An account deleted since is harmless: a notification
is only inserted for an account that exists (``actions._notify``).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from cordee.db.changes import Changes

#: Seconds an answer is trusted for lack of news, where nothing tells of other programs' writes.
MAX_AGE = 10.0
#: Authors kept at most (the least recently asked are dropped first).
SIZE = 20_000


class SubscribersCache:
    def __init__(self, trust: Callable[[float], float], size: int = SIZE) -> None:
        self._trust = trust
        self._size = size
        self._kept: OrderedDict[int, tuple[tuple[int, ...], float]] = OrderedDict()
        #: Moves with every change to the follows table: an answer read across one is not kept.
        self.generation = 0

    def get(self, author_id: int) -> tuple[int, ...] | None:
        kept = self._kept.get(author_id)
        if kept is None or time.monotonic() - kept[1] >= self._trust(MAX_AGE):
            return None
        self._kept.move_to_end(author_id)
        return kept[0]

    def put(self, author_id: int, subscribers: tuple[int, ...], generation: int) -> None:
        """Keep what was read while ``generation`` (read before asking) held, if it still does."""
        if generation != self.generation:
            return
        self._kept[author_id] = (subscribers, time.monotonic())
        self._kept.move_to_end(author_id)
        if len(self._kept) > self._size:
            self._kept.popitem(last=False)

    def changed(self, changes: Changes) -> None:
        if changes.follows or changes.unknown or changes.missed:
            self.generation += 1
            self._kept.clear()
