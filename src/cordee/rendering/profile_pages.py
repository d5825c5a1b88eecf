"""An account's pages of notes (a profile's usual tabs), kept rendered per reader like home pages.

Clients read a profile's notes as often as a home timeline (the benchmark's mix: 30 % of the
requests), and a page read again is nearly always the same bytes. So the page rendered on the hot
path is kept, per reader, account, bounds and tab, with the versions of all it shows
(``rendering/cache.py``: its notes and their counters, the boosted notes, their polls, the
reader's marks, its accounts — **the account itself included**, whose version moves with each of
its new or deleted notes) and served as it was while those stand and

- what decides who sees which note (``queries.visibility.visible_to``: the reader's follows and
  mentions, blocks either way) has not changed for this reader: the home memo's generations
  (``feeds/memo.py``), bumped for both accounts of every follow, block and mute, and for everyone
  by an edit, a delete, or a write the memo cannot classify;
- no poll it shows has ended since;
- it is younger than the memo's ``max_age``, as a home page: the bound on what another program
  writing the same database without telling (the CLI without Redis) can leave unseen, unless
  its writes are watched (``db/outside_writes.py``).

Built only where the home memo is (``Database.coherent``, no replica): the same guarantees make
both exact. A page is kept only when nothing it shows changed while it was rendered (the mark
taken before any read); an empty page is never kept.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from cordee.config import Settings
from cordee.db.engine import Database
from cordee.feeds.memo import HomeMemo
from cordee.queries.pages import LivePage
from cordee.rendering.cache import Mark
from cordee.rendering.home import KeptPage, kept_page
from cordee.rendering.pieces import account_jsons, page_json, render_pieces

#: Pages kept at most (the least recently used go first): ~20–60 KB each.
KEPT = 1_000

#: Reader (0: anonymous), account, bounds (below, above), length, without replies, without boosts.
Key = tuple[int, int, int | None, int | None, int, bool, bool]
#: The home memo's global generation and the reader's rules generation.
Stamp = tuple[int, int]


class ProfilePages:
    def __init__(self, memo: HomeMemo) -> None:
        self._memo = memo
        self._kept: OrderedDict[Key, tuple[Stamp, float, KeptPage]] = OrderedDict()

    def stamp(self, reader: int) -> Stamp:
        """Taken before anything is read, with the cache's mark (see ``feeds/memo.py``)."""
        generation, rules, _fed = self._memo.stamp(reader)
        return generation, rules

    def get(self, key: Key, db: Database) -> KeptPage | None:
        found = self._kept.get(key)
        if found is None:
            return None
        stamp, until, kept = found
        if stamp != self.stamp(key[0]) or time.monotonic() >= until or not kept.holds(db.entities):
            del self._kept[key]
            return None
        self._kept.move_to_end(key)
        return kept

    def keep(self, key: Key, stamp: Stamp, kept: KeptPage) -> None:
        self._kept[key] = (stamp, time.monotonic() + self._memo.max_age().total_seconds(), kept)
        self._kept.move_to_end(key)
        while len(self._kept) > KEPT:
            self._kept.popitem(last=False)


async def rendered(
    db: Database, settings: Settings, viewer: int | None, author: int, page: LivePage, mark: Mark
) -> tuple[bytes, KeptPage | None]:
    """The page's JSON, and what to keep of it (None when something it shows changed since
    ``mark``, or when it is empty)."""
    cache = db.entities
    accounts: dict[int, bytes] = {}
    cuts = await render_pieces(db, settings, mark, viewer, page.lives, page.originals, accounts)
    pieces = [piece for piece, _ in cuts]
    shown = {owner for piece in pieces for owner in piece.accounts}
    await account_jsons(db.hot, settings, cache, shown, accounts)  # those of the shared pieces
    body = page_json(pieces, accounts)
    if not pieces or not all(keep for _, keep in cuts):
        return body, None
    return body, kept_page(cache, [x.id for x in page.lives], pieces, shown | {author}, body, mark)
