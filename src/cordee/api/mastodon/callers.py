"""Who holds a token, kept between requests by each server process.

Every authenticated request asks who holds its token (``base.resolve_caller``: the token, its
user's flags, whether they have filters). Measured on a home timeline read by one reader, that
lookup was ~14 % of the server's samples over HTTP (py-spy), more than the page it served. A
reader's requests follow each other closely, so the answer is kept, and trusted while

1. no committed write may have changed it: ``Database.committed`` tells this
   cache of every transaction, and one that wrote tokens, users or filters, deleted an account or
   an application (their rows cascade to tokens), or wrote a table ``db/changes.py`` cannot name,
   drops every answer at once (``Changes.auth``, ``Changes.unknown``). Revoking a token, signing
   out, changing a password, disabling or approving a user thus takes effect on the very next
   request, as without the cache;
2. it is younger than ``MAX_AGE``: a program writing the same database that tells nobody (the
   CLI without Redis, disabling a user) is not observed; this bounds how long its change goes
   unseen — except on a SQLite file, whose serving process sees such writes within a quarter of
   a second (``db/outside_writes.py``: every answer is then dropped), and where the change log
   tells of the CLI's writes too (Redis); there ``MAX_AGE`` is only a backstop of a minute
   (``Database.trust_seconds``). Measured in the mix, where each of 962
   readers comes back about every second, the 1-s bound had most requests look their token up.

Several processes keep theirs exact through the change log (``db/change_log.py``): the
writes others answered reach ``committed`` here before the request's token is looked up
(``Database.catch_up``); without it (``Database.coherent``), nothing is kept. Unknown tokens are not kept
(a client trying random tokens would only fill memory); an answer read while a write was under
way is kept under the generation read before it, so the write's commit drops it.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from cordee.db.changes import Changes
from cordee.db.engine import Database
from cordee.events.types import Event

if TYPE_CHECKING:
    from cordee.api.mastodon.base import Caller

#: Longest an answer is trusted (a bound for changes made by another program, e.g. the CLI).
MAX_AGE = 1.0
#: Tokens kept at most (the oldest go first).
SIZE = 10_000


class CallerCache:
    def __init__(self, trust: Callable[[float], float] | None = None) -> None:
        #: Stretches ``MAX_AGE`` where other programs' writes are seen (``Database.trust_seconds``).
        self._trust = trust
        self._generation = 0
        self._kept: dict[str, tuple[Caller, int, float]] = {}

    def committed(self, events: Sequence[Event], changes: Changes) -> None:
        """One write transaction committed (``Database.committed``)."""
        if changes.auth or changes.unknown:
            self.forget()

    def forget(self) -> None:
        """Drop every answer (and any lookup under way)."""
        self._generation += 1
        self._kept.clear()

    async def caller(self, token: str, lookup: Callable[[str], Awaitable[Caller | None]]) -> Caller | None:
        """The caller ``lookup`` would answer for ``token``, kept or looked up (and then kept)."""
        now = time.monotonic()
        kept = self._kept.get(token)
        max_age = MAX_AGE if self._trust is None else self._trust(MAX_AGE)
        if kept is not None and kept[1] == self._generation and now - kept[2] < max_age:
            return kept[0]
        generation = self._generation  # before the lookup: a commit meanwhile makes it stale
        found = await lookup(token)
        if found is not None:
            if len(self._kept) >= SIZE:
                del self._kept[next(iter(self._kept))]
            self._kept.pop(token, None)  # re-inserted last: the oldest stay first
            self._kept[token] = (found, generation, now)
        return found


_caches: weakref.WeakKeyDictionary[Database, CallerCache | None] = weakref.WeakKeyDictionary()


def cache_of(db: Database) -> CallerCache | None:
    """The cache of ``db``'s callers (made on first use), or None when other processes write."""
    try:
        return _caches[db]
    except KeyError:
        cache = CallerCache(db.trust_seconds) if db.coherent else None
        if cache is not None:
            db.committed.append(cache.committed)
        _caches[db] = cache
        return cache
