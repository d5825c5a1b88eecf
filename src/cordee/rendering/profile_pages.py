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

**Pages shared between readers.** A page kept per reader is served again only to that reader,
and readers seldom read the same profile twice in a row: most reads of a profile by a signed-in
reader were a page read for them alone (three statements: the page through ``visible_to``, the
notes its boosts carry, the reader's marks). Yet for most readers of most profiles the notes are
those the anonymous reader sees: ``queries.pages.anonymous_account_page`` says when that holds for
every reader in no block with the page's accounts (the account has no note in the page's span that
the anonymous reader may not see). Such a page is read once for all of them and kept
(``SharedPage``) while nothing it shows changed — the versions of its notes, the notes its boosts
carry, and their accounts, the account's own moving with each of its new or deleted notes and
boosts — under the memo's global generation (edits, deletes, writes it cannot classify) and
``max_age``; each reader's blocks either way are kept under their rules generation (bumped for
both accounts of every block). A reader's page is then that page, their marks read and laid in
as for any page (``rendered``). The decision rests on ``visible_to`` alone, through its two
statements: no second copy of the rule.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

from cordee.config import Settings
from cordee.db.changes import Key as ChangeKey
from cordee.db.engine import Database
from cordee.feeds.memo import HomeMemo
from cordee.queries.pages import LivePage, anonymous_account_page, blocks_either_way
from cordee.rendering.cache import EntityCache, Mark, keep_recent, recent
from cordee.rendering.home import KeptPage, kept_page
from cordee.rendering.pieces import account_jsons, page_json, render_pieces

#: Pages kept at most (the least recently used go first): ~20–60 KB each.
KEPT = 1_000

#: Reader (0: anonymous), account, bounds (below, above), length, without replies, without boosts.
Key = tuple[int, int, int | None, int | None, int, bool, bool]
#: The home memo's global generation and the reader's rules generation.
Stamp = tuple[int, int]
#: A page as every reader sees it who is in no block with its accounts: the key without a reader.
SharedKey = tuple[int, int | None, int | None, int, bool, bool]
#: Shared pages kept at most (~20 notes' rows each), and readers' blocks.
SHARED = 2_000
BLOCKS = 20_000


@dataclass(frozen=True, slots=True)
class SharedPage:
    """The rows of a page as the anonymous reader sees it (``anonymous_account_page``), whether
    every signed-in reader in no block with ``accounts`` sees them too (``everyone``), and what
    they hold under."""

    page: LivePage
    everyone: bool
    accounts: frozenset[int]
    generation: int  # the home memo's global one
    until: float  # time.monotonic()
    cache_generation: int
    keys: tuple[ChangeKey, ...]
    versions: tuple[int, ...]

    def holds(self, generation: int, cache: EntityCache) -> bool:
        return (
            generation == self.generation
            and time.monotonic() < self.until
            and cache.unchanged(self.cache_generation, self.keys, self.versions)
        )


class ProfilePages:
    def __init__(self, memo: HomeMemo) -> None:
        self._memo = memo
        self._kept: OrderedDict[Key, tuple[Stamp, float, KeptPage]] = OrderedDict()
        self._shared: OrderedDict[SharedKey, SharedPage] = OrderedDict()
        self._blocks: OrderedDict[int, tuple[Stamp, float, frozenset[int]]] = OrderedDict()

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

    async def seen_by_everyone(self, db: Database, viewer: int, key: SharedKey) -> LivePage | None:
        """The page ``viewer`` sees, when it is the one shared by every reader in no block with
        its accounts (read once for them all: see the module's doc); None when the reader's own
        must be read (``queries.pages.account_page``). Called after the reader's ``stamp`` and the
        cache's mark were taken: what it returns is as current as a read made now."""
        if viewer == key[0]:
            return None  # the author sees all of their notes
        shared = await self._shared_page(db, key)
        if not shared.everyone:
            return None
        if not shared.accounts.isdisjoint(await self._blocks_of(db, viewer)):
            return None
        return shared.page

    async def _shared_page(self, db: Database, key: SharedKey) -> SharedPage:
        cache = db.entities
        generation = self._memo.stamp(0)[0]
        found = recent(self._shared, key)
        if found is not None and found.holds(generation, cache):
            return found
        mark = cache.mark()  # before the reads: see rendering/cache.py
        author, below, above, limit, exclude_replies, exclude_reblogs = key
        tab = (exclude_replies, exclude_reblogs)
        page, everyone = await anonymous_account_page(db.hot_replica, author, below, above, limit, tab)
        notes = [*page.lives, *page.originals.values()]
        accounts = frozenset({author, *(x.account_id for x in notes)})
        keys: tuple[ChangeKey, ...] = (*(("a", a) for a in accounts), *(("s", x.id) for x in notes))
        versions = cache.versions(mark, keys)
        until = time.monotonic() + self._memo.max_age().total_seconds()
        shared = SharedPage(page, everyone, accounts, generation, until, mark[0], keys, versions or ())
        if versions is not None:  # else something it shows changed while it was read: not kept
            keep_recent(self._shared, key, shared, SHARED)
        return shared

    async def _blocks_of(self, db: Database, reader: int) -> frozenset[int]:
        """The accounts in a block with ``reader``, either way, kept under their stamp."""
        stamp = self.stamp(reader)  # before the read
        found = recent(self._blocks, reader)
        if found is not None and found[0] == stamp and time.monotonic() < found[1]:
            return found[2]
        blocks = await blocks_either_way(db.hot_replica, reader)
        until = time.monotonic() + self._memo.max_age().total_seconds()
        keep_recent(self._blocks, reader, (stamp, until, blocks), BLOCKS)
        return blocks


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
