"""Reading a home timeline from its feed: the candidate ids, the feed rebuilt first when missing,
and the hot path that turns a window of the feed into a page.

The hot path (``page``) costs a fixed handful of small statements whatever the instance's size:
the feed's ids in a window (``WINDOW``), the home rules over those of them not judged yet for the
reader (``HOME_CHECK``: ``home_query`` and so ``visible_to``, the one rule — a stale or foreign id
in a feed can never show a note the reader may not see; the memo's verdicts keep the others), the
notes of followed high-follower accounts (merged when read, ``BIG_NOTES``), and the boosted
originals' counters. Rendering then serves bodies from the cache (``rendering/``), or for a
reader with filters renders the page's notes through them. A full page asked with ``min_id``, and
pages older than what the feed holds, take the general path (``rendering/home.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cordee.config import Settings
from cordee.db.engine import Database
from cordee.db.hot import MAX_ID
from cordee.db.types import utcnow
from cordee.feeds.base import FeedStore
from cordee.feeds.fanout import REBUILD, rebuild_params
from cordee.feeds.memo import Entry, HomeMemo, Verdicts
from cordee.queries.timelines import (
    BIG_FOLLOWED,
    BIG_NEWEST,
    BIG_NOTES,
    HOME_CHECK,
    HOME_DEADLINE,
    WINDOW,
)


@dataclass
class HomeRead:
    """A page read on the hot path: its note ids (newest first), the live rows (``LIVE_COLUMNS``)
    of those the rules were run over for this read (the others were judged before: the caller reads
    their rows again only if it needs them, through ``LIVE_VISIBLE``), and the memo's entry for it
    (where the caller may keep what it rendered); no ids when what the caller kept there holds."""

    ids: list[int] | None
    rows: dict[int, tuple[Any, ...]]
    entry: Entry | None


class HomeTimeline:
    def __init__(
        self, db: Database, settings: Settings, store: FeedStore, memo: HomeMemo | None = None
    ) -> None:
        self._db = db
        self._settings = settings
        self.store = store
        #: What the home rules said about recent pages (``memo.py``); None: the rules run on every read.
        self.memo = memo

    async def rebuild(self, account_id: int) -> None:
        """Recompute a feed from the follow graph (new account, or back after a long absence)."""
        written = await self.store.rebuild(account_id, REBUILD, rebuild_params(account_id, self._settings))
        await self._db.feeds_written(written)

    async def candidate_ids(
        self, account_id: int, *, below: int | None, above: int | None, limit: int | None = None
    ) -> list[int]:
        """The feed's note ids strictly between ``above`` and ``below``, newest first. The home
        query filters them (and adds followed high-follower accounts' notes) — see
        ``queries.timelines.home_feed_query``."""
        ids = await self.store.read(account_id, below=below, above=above, limit=limit)
        if ids is None:
            await self.rebuild(account_id)
            ids = await self.store.read(account_id, below=below, above=above, limit=limit)
        return ids or []

    async def page(
        self,
        viewer: int,
        *,
        below: int | None,
        above: int | None,
        limit: int,
        holds: Callable[[Any], bool] | None = None,
    ) -> HomeRead | None:
        """One page on the hot path, or None when this request needs the general path.
        ``holds``: whether what the caller kept in the page's memo entry still holds; if it does,
        no rows are read (None: the ids are always returned)."""
        hot = self._db.hot_replica
        memo = self.memo
        stamp = memo.stamp(viewer) if memo is not None else None  # before any read: see memo.py
        follows = memo.follows if memo is not None else 0
        now = utcnow()
        key = (viewer, below, above, limit)
        cache = self._db.entities
        if memo is not None and stamp is not None and holds is not None:
            # A kept page whose memo entry holds without re-reading the feed: no statement at all.
            entry = memo.quick(key, stamp, follows, now)
            if (
                entry is not None
                and entry.rendered is not None
                and (entry.watched is None or cache.unchanged(*entry.watched))
                and holds(entry.rendered)
            ):
                return HomeRead(None, {}, entry)
        # Feeds hold little the reader may not see: a window a little longer than the page is
        # nearly always enough, and the home rules cost per id.
        window = min(WINDOW, limit + limit // 2 + 5)
        first = await self.candidate_ids(viewer, below=below, above=above, limit=window)
        verdicts = memo.verdicts(viewer, stamp, now) if memo is not None and stamp is not None else None
        if verdicts is not None and verdicts.big is not None and verdicts.follows == follows:
            big = list(verdicts.big)
        else:
            threshold = self._settings.fanout_follower_threshold
            big = [r[0] for r in await hot.rows(BIG_FOLLOWED, viewer=viewer, threshold=threshold)]
            if verdicts is not None:  # kept with what the rules said of the reader's notes
                verdicts.big, verdicts.follows = tuple(big), follows
        # What the page is computed from, beside the generations: the feed's window and, for a
        # reader who follows accounts merged when read (not feed entries), which those are and
        # their newest note (a new note has a greater id; a delete or an edit bumps the memo).
        sources: tuple[Any, ...] = (tuple(first),)
        # Taken before their notes are read: a note of theirs committed after it keeps the page
        # from being quick (the versions of their accounts moved past it).
        big_mark = cache.mark()
        if memo is not None and stamp is not None and big:
            sources += (tuple(big), (await hot.rows(BIG_NEWEST, authors=big))[0][0])
        if memo is not None and stamp is not None:
            entry = memo.get(key, stamp, sources, now)
            if entry is not None:
                if entry.rendered is not None and holds is not None and holds(entry.rendered):
                    return HomeRead(None, {}, entry)
                return HomeRead(list(entry.ids), {}, entry)
        if memo is not None and stamp is not None and verdicts is None:
            deadline = (await hot.rows(HOME_DEADLINE, viewer=viewer, now=now))[0][0]
            verdicts = memo.start_verdicts(viewer, stamp, now, deadline)
            verdicts.big, verdicts.follows = tuple(big), follows
        #: The notes shown, and their rows when the rules were run over them for this read.
        shown: dict[int, tuple[Any, ...] | None] = {}
        windows = 0
        # Whether the answer depended on the whole feed's length, beyond the window (a page below
        # ``max_id`` whose window the feed's newer entries do not change).
        by_length = False
        ids = first
        while True:
            windows += 1
            await self._judge(viewer, now, ids, shown, verdicts)
            if len(ids) < window:  # the feed has nothing older in this range
                if len(shown) < limit and above is None:
                    by_length = below is not None
                    if not await self._holds_everything(viewer):
                        return None  # older than the feed keeps: the general path reads the database
                break
            if len(shown) >= limit:
                break
            ids = await self.candidate_ids(viewer, below=ids[-1], above=above, limit=window)
        if big:
            for row in await hot.rows(
                BIG_NOTES,
                viewer=viewer,
                now=now,
                authors=big,
                below=MAX_ID if below is None else below,
                above=0 if above is None else above,
                limit=limit,
            ):
                shown[row[0]] = row
        page = sorted(shown, reverse=True)[:limit]
        rows = {i: found for i in page if (found := shown[i]) is not None}
        # Remembered only when one window decided the page (the next read compares that window).
        entry = None
        if memo is not None and stamp is not None and verdicts is not None and windows == 1 and not by_length:
            # Quick entries need every change to the feed told to the caches before its writer
            # answers: the SQL store's on its transaction, Redis's once written (``FeedStore``).
            # A reader of accounts merged when read: quick while those accounts' versions hold
            # (each new note or boost of theirs moves its author's: ``actions/statuses.py``).
            watched_keys = tuple(("a", author) for author in big)
            versions = cache.versions(big_mark, watched_keys) if big else None
            watched = (big_mark[0], watched_keys, versions) if versions is not None else None
            entry = memo.put(
                key,
                stamp,
                sources,
                page,
                now,
                verdicts.until,
                follows=follows,
                quick=not big or watched is not None,
                watched=watched,
            )
        return HomeRead(page, rows, entry)

    async def _judge(
        self,
        viewer: int,
        now: datetime,
        ids: list[int],
        shown: dict[int, tuple[Any, ...] | None],
        verdicts: Verdicts | None,
    ) -> None:
        """Add to ``shown`` the notes among ``ids`` the home rules show the reader: the rules run
        over the ids they have not judged yet under the verdicts' generations (all of them without)."""
        judged = verdicts.shown if verdicts is not None else {}
        unknown = [i for i in ids if i not in judged]
        if unknown:
            check = HOME_CHECK.fitting(len(unknown))
            rows = await self._db.hot_replica.rows(check, viewer=viewer, now=now, ids=unknown)
            for row in rows:
                shown[row[0]] = row
            if verdicts is not None:
                for i in unknown:
                    judged[i] = i in shown
        for i in ids:
            if judged.get(i) and i not in shown:
                shown[i] = None

    async def _holds_everything(self, viewer: int) -> bool:
        """True when the feed is shorter than its bound: it then holds the whole home timeline."""
        ids = await self.store.read(viewer, below=None, above=None)
        return ids is not None and len(ids) < self._settings.feed_size
