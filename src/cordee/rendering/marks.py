"""A reader's marks on notes — favourited, boosted, bookmarked, pinned — kept per reader.

Every page a reader is given shows their marks on its notes, read per page (``FLAGS``: one
statement over the page's ids, ~60 µs of SQLite for a page of 20, the largest single cost of a
profile page read from the pages shared between readers). Most readers have few marks, and they
change only when the reader marks or unmarks a note. So a reader's marks are read once, all of
them (up to ``MOST``), and kept with the entity cache's mark taken before the read; a page's note
takes its marks from there while its version has not moved since — every mark and unmark of a
note moves the note's version (``db/changes.py``: the note a favourite, bookmark or pin belongs
to, the note a boost carries) — and otherwise from the reader's marks read again (``RELOAD``), or
from ``FLAGS`` for those notes alone. A reader's
muted threads (the ``muted`` mark) are not kept: a reader who muted any thread is read per page as
before, as is one with more than ``MOST`` marks.

Used where the entity cache's versions are exact (the pages of ``rendering/home.py`` and
``rendering/profile_pages.py``: ``Database.coherent``); entries last ``MAX_AGE`` at most, for
writes nobody tells (``Database.trust_seconds``).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Integer, bindparam, exists, func, literal, select, true, union_all

from cordee.db.hot import HotQueries, HotQuery, HotReader, slots
from cordee.db.tables import Favourite, Status
from cordee.db.tables_personal import Bookmark, ConversationMute, StatusPin
from cordee.rendering.cache import EntityCache

#: Marks a reader may have for them to be kept (a reader with more is read per page).
MOST = 2_000
#: Marks a reader may have for all of them to be read again, with a fresh mark, when a page shows
#: notes whose versions moved since they were read (their counters, or the reader's marks on
#: them): one statement, as asking for those notes alone would be.
RELOAD = 200
#: Readers whose marks are kept (the least recently used go first).
READERS = 20_000
#: Longest a reader's marks are trusted for lack of news (see ``feeds/memo.py``'s ``MAX_AGE``).
MAX_AGE = 10.0

#: Ids per reader-flags query (a page and its boosted originals: at most 2 × 40).
FLAG_SLOTS = 80

_viewer: Any = bindparam("viewer", 0, type_=BigInteger())
_most: Any = bindparam("most", 1, type_=Integer())

#: One row if the reader muted any thread, none otherwise.
_mutes_any = (
    select(literal(1).label("any")).where(exists().where(ConversationMute.account_id == _viewer)).subquery()
)


def _flags(width: int) -> HotQuery:
    def flag(kind: str, column: Any, owner: Any) -> Any:
        return select(literal(kind), column).where(owner == _viewer, column.in_(slots("ids", width)))

    return HotQuery(
        union_all(
            flag("f", Favourite.status_id, Favourite.account_id),
            flag("r", Status.reblog_of_id, Status.account_id),
            flag("b", Bookmark.status_id, Bookmark.account_id),
            flag("p", StatusPin.status_id, StatusPin.account_id),
            # Notes of a thread the reader muted (NULL conversation: the note's own thread). The
            # guard, a row only if the reader muted any thread, comes first: a reader who muted
            # none (most) skips the branch. As a condition beside the ids, SQLite still probed
            # every id first (23–26 µs for 24 ids; 6–9 µs guarded, measured on the benchmark's file).
            select(literal("c"), Status.id)
            .select_from(_mutes_any)
            .join(Status, true())
            .join(
                ConversationMute,
                (ConversationMute.conversation_id == func.coalesce(Status.conversation_id, Status.id))
                & (ConversationMute.account_id == _viewer),
            )
            .where(Status.id.in_(slots("ids", width))),
        ),
        lists={"ids": width},
    )


#: The reader's own marks on a page of notes, in one statement, at the narrowest width that fits
#: (its id list appears five times: binding 400 slots cost more than running the statement).
FLAGS = HotQueries(_flags, (1, 24, FLAG_SLOTS))


@dataclass
class Marks:
    favourited: set[int]
    reblogged: set[int]
    bookmarked: set[int]
    pinned: set[int]
    muted: set[int]


async def reader_marks(hot: HotReader, viewer: int, ids: Sequence[int]) -> Marks:
    """What the reader favourited, boosted, bookmarked and pinned among ``ids``, and which of them
    belong to a thread the reader muted (``FLAGS``, read now)."""
    marks = Marks(set(), set(), set(), set(), set())
    found = {
        "f": marks.favourited,
        "r": marks.reblogged,
        "b": marks.bookmarked,
        "p": marks.pinned,
        "c": marks.muted,
    }
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), FLAG_SLOTS):
        chunk = unique[start : start + FLAG_SLOTS]
        for kind, status_id in await hot.rows(FLAGS.fitting(len(chunk)), viewer=viewer, ids=chunk):
            found[kind].add(status_id)
    return marks


def _all_marks() -> HotQuery:
    """Every mark of the reader, and a row ``("c", 0)`` if they muted any thread; at most
    ``most`` rows (the caller asks one more than it keeps, to know when there are too many)."""

    def of(kind: str, column: Any, owner: Any, *where: Any) -> Any:
        return select(literal(kind).label("kind"), column.label("status_id")).where(owner == _viewer, *where)

    return HotQuery(
        union_all(
            select(literal("c").label("kind"), literal(0, BigInteger()).label("status_id")).where(
                select(ConversationMute.id).where(ConversationMute.account_id == _viewer).exists()
            ),
            of("f", Favourite.status_id, Favourite.account_id),
            of("r", Status.reblog_of_id, Status.account_id, Status.reblog_of_id.is_not(None)),
            of("b", Bookmark.status_id, Bookmark.account_id),
            of("p", StatusPin.status_id, StatusPin.account_id),
        ).limit(_most)
    )


ALL_MARKS = _all_marks()


@dataclass(frozen=True, slots=True)
class _Kept:
    """A reader's marks (None: not kept — muted threads, or too many), read after ``mark``."""

    generation: int
    clock: int
    reader_version: int
    until: float
    marks: Marks | None
    size: int


class ReaderMarks:
    def __init__(self, cache: EntityCache, trust: Callable[[float], float]) -> None:
        self._cache = cache
        self._trust = trust
        self._kept: OrderedDict[int, _Kept] = OrderedDict()

    async def of(self, hot: HotReader, viewer: int, ids: Sequence[int]) -> Marks:
        """The reader's marks among ``ids``, as ``statuses.reader_marks`` reads them."""
        cache = self._cache
        keys = [("s", i) for i in ids]
        kept = self._kept.get(viewer)
        if kept is None or not self._holds(viewer, kept):
            kept = await self._read(hot, viewer)
        elif kept.marks is not None and kept.size <= RELOAD and cache.moved_since(kept.clock, keys):
            kept = await self._read(hot, viewer)  # a statement either way: the fresher, the better
        if kept.marks is None:
            return await reader_marks(hot, viewer, ids)
        self._kept.move_to_end(viewer)
        moved = cache.moved_since(kept.clock, keys)
        found = Marks(set(), set(), set(), set(), set())
        whole = kept.marks
        for status_id in ids:
            if status_id in moved:
                continue
            for have, wanted in (
                (whole.favourited, found.favourited),
                (whole.reblogged, found.reblogged),
                (whole.bookmarked, found.bookmarked),
                (whole.pinned, found.pinned),
            ):
                if status_id in have:
                    wanted.add(status_id)
        if moved:  # marked or unmarked since (or only their counters moved): asked again
            fresh = await reader_marks(hot, viewer, [i for i in ids if i in moved])
            for name in ("favourited", "reblogged", "bookmarked", "pinned"):
                getattr(found, name).update(getattr(fresh, name))
        return found

    def _holds(self, viewer: int, kept: _Kept) -> bool:
        return time.monotonic() < kept.until and self._cache.unchanged(
            kept.generation, (("r", viewer),), (kept.reader_version,)
        )

    async def _read(self, hot: HotReader, viewer: int) -> _Kept:
        mark = self._cache.mark()  # before the read: a mark made meanwhile moves its note past it
        rows = await hot.rows(ALL_MARKS, viewer=viewer, most=MOST + 1)
        marks = None
        if len(rows) <= MOST and all(kind != "c" for kind, _ in rows):
            marks = Marks(set(), set(), set(), set(), set())
            found = {"f": marks.favourited, "r": marks.reblogged, "b": marks.bookmarked, "p": marks.pinned}
            for kind, status_id in rows:
                found[kind].add(status_id)
        reader = self._cache.versions(mark, (("r", viewer),))
        until = time.monotonic() + self._trust(MAX_AGE)
        kept = _Kept(mark[0], mark[1], reader[0] if reader else -1, until, marks, len(rows))
        if reader is not None:  # else a thread was muted meanwhile: read again next time
            self._kept[viewer] = kept
            self._kept.move_to_end(viewer)
            while len(self._kept) > READERS:
                self._kept.popitem(last=False)
        return kept
