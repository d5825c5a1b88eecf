"""A reader's marks on notes — favourited, boosted, bookmarked, pinned, muted — read per page,
or kept per reader.

Every page a reader is given shows their marks on its notes: ``FLAGS`` reads them for a page's
ids (one statement: ~60 µs of SQLite for a page of 20, the largest single cost of a profile page
read from the pages shared between readers). Most readers have few marks, and they change only
when the reader marks or unmarks a note — and every such write moves the reader's version in the
entity cache (``("r", reader)``: ``db/changes.py``, for favourites, boosts, bookmarks and pins
as for muted threads). So ``ReaderMarks`` reads all of a reader's marks at once (up to ``MOST``),
after taking the cache's mark, and keeps them while the reader's version stands: every page of
theirs, with notes old or new, then has its marks without a statement. A reader who muted a
thread (the ``muted`` mark needs each note's thread) or has more than ``MOST`` marks is read per
page as before.

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
from cordee.rendering.cache import EntityCache, keep_recent, recent

#: Marks a reader may have for them to be kept (a reader with more is read per page).
MOST = 2_000
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
    """A reader's marks (None: not kept — a muted thread, or too many), under the cache's
    generation and the reader's version when they were read."""

    generation: int
    reader_version: int
    until: float
    marks: Marks | None


class ReaderMarks:
    def __init__(self, cache: EntityCache, trust: Callable[[float], float]) -> None:
        self._cache = cache
        self._trust = trust
        self._kept: OrderedDict[int, _Kept] = OrderedDict()

    async def of(self, hot: HotReader, viewer: int, ids: Sequence[int]) -> Marks:
        """The reader's marks among ``ids``, as ``reader_marks`` reads them."""
        kept = recent(self._kept, viewer)
        if kept is None or not self._holds(viewer, kept):
            kept = await self._read(hot, viewer)
        whole = kept.marks
        if whole is None:
            return await reader_marks(hot, viewer, ids)
        return Marks(
            whole.favourited.intersection(ids),
            whole.reblogged.intersection(ids),
            whole.bookmarked.intersection(ids),
            whole.pinned.intersection(ids),
            set(),
        )

    def _holds(self, viewer: int, kept: _Kept) -> bool:
        return time.monotonic() < kept.until and self._cache.unchanged(
            kept.generation, (("r", viewer),), (kept.reader_version,)
        )

    async def _read(self, hot: HotReader, viewer: int) -> _Kept:
        mark = self._cache.mark()  # before the read: a mark made meanwhile moves the reader past it
        rows = await hot.rows(ALL_MARKS, viewer=viewer, most=MOST + 1)
        marks = None
        if len(rows) <= MOST and all(kind != "c" for kind, _ in rows):
            marks = Marks(set(), set(), set(), set(), set())
            found = {"f": marks.favourited, "r": marks.reblogged, "b": marks.bookmarked, "p": marks.pinned}
            for kind, status_id in rows:
                found[kind].add(status_id)
        reader = self._cache.versions(mark, (("r", viewer),))
        kept = _Kept(mark[0], reader[0] if reader else -1, time.monotonic() + self._trust(MAX_AGE), marks)
        if reader is not None:  # else the reader marked something meanwhile: read again next time
            keep_recent(self._kept, viewer, kept, READERS)
        return kept
