"""What the home rules decided about a page, kept per reader until something it depends on changes.

Reading a home page runs the home rules (``queries.timelines.HOME_CHECK``: ``home_query``, so
``visible_to``, mutes, blocks, exclusive lists, followed tags) over a window of feed ids: about a
third of a hot read's CPU, measured (docs/benchmarks.md). The answer is a function of

1. the window of feed ids — read again on every request and compared, so a new entry, a removed
   one (unfollow, block, mute, delete cascade) or a rebuilt feed is seen at once; for a reader who
   follows accounts too big to be fanned out (their notes are merged when read), also which those
   accounts are and the id of their newest note, read again and compared the same way;
2. the reader's relationships (follows and their options, blocks either way, mutes, domain blocks,
   exclusive lists, followed tags) and the notes' own rows (visibility, mentions, tags, the note a
   boost carries) — covered by **generations** bumped by every committed write of the process;
3. the time, for mutes that expire — an entry lasts until the reader's earliest mute deadline.

So a hit is exactly what the rule would say now. The caller reads again, through ``visible_to``
(``LIVE_VISIBLE``), the live rows of the notes it must render afresh; a note it kept rendered and
unchanged since (``rendering/pieces.py``, its versions) it serves on the memo's word, as it does a
whole kept page — both rest on the generations below being bumped by every write that matters.

Generations. ``Database.committed`` hands every committed write transaction's events here,
synchronously, before the writer answers (``Database.write``). A transaction whose every event is
of a kind known below bumps only the readers it names (or nobody); any other transaction — one
emitting nothing (lists, followed tags, follow options, domain blocks), an edit, a delete, or a
kind this module does not know — bumps the global generation, forgetting everything. A new event
kind is thus safe by default; it only makes the memo less useful until it is classified here.
Transactions that emit nothing and, by what they wrote, change nothing the rules read (a
favourite, a bookmark, a vote: ``db/changes.py`` observes every write) bump nothing. Every write
to the home feeds names the feeds it changed (``Changes.feeds``), and bumps their owners' feed
generation (not their rules' generation: see verdicts below): so an
entry of a reader who follows no account merged when read can be trusted without re-reading its
sources (``quick``), while no follow anywhere may have made such an account of one they follow.

Verdicts. Beside whole pages, the memo keeps what the rules said about each note a reader's pages
held (``verdicts``), under the global generation and the reader's *rules* generation only: a new
feed entry changes which notes a page holds, not what the rules say about the others. A page read
after a new note reached the reader's feed then runs the rules over that new note alone, not over
the whole window again (the everyday case under load: the feeds change between a reader's reads).
A verdict lasts as long as an entry would (``MAX_AGE``, the earliest expiring mute).

Several processes: other processes' commits reach this one through the Redis bus asynchronously,
so a page read here right after a block answered there could be served from before it — unless
each request first applies every write answered before it arrived, which the change log does
(``db/change_log.py``: ``Database.catch_up``, then ``committed`` as for this process's own
writes). ``build_feeds`` creates the memo only where that holds (``Database.coherent``: the
in-process bus, or the change log), and not when timeline pages are read from a replica
(``CORDEE_DATABASE_REPLICA_URL``): a page read there just after a commit may predate it, and
would then be remembered under the generation that follows it. Changes made by another program
on the same database that tells nobody (the CLI without Redis) reach the memo as "forget
everything" within a quarter of a second on a SQLite file, whose serving process watches for them
(``db/outside_writes.py``); with the change log, the CLI's writes come through it like the other
servers'. Elsewhere ``MAX_AGE`` bounds how long such a change can go unnoticed; in both cases it is
only a backstop (a minute: ``max_age``, ``Database.trust_seconds``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cordee.db.changes import Changes
from cordee.db.changes import Key as ChangeKey
from cordee.events.tracking import TrackedMatched
from cordee.events.types import (
    AccountUpdated,
    BlockChanged,
    Event,
    FiltersChanged,
    FollowChanged,
    MuteChanged,
    NotificationCreated,
    StatusCreated,
    TokensRevoked,
)

#: Longest an entry is used (a bound for changes made outside this process, e.g. the CLI).
MAX_AGE = timedelta(seconds=10)
#: Pages kept, and readers with a generation of their own, before everything is dropped at once.
DEFAULT_SIZE = 20_000
#: Renderings kept in entries at most (the least recently used go first): a home page's JSON is
#: ~20–60 KB, so ~40 MB of them at most (measured: RSS after the benchmark's 962 readers +35–56 MiB).
KEPT_RENDERINGS = 1_000

#: Events that change nothing the home rules read beyond the page's sources (compared on each read):
#: a new note reaches homes as a feed entry or as a big account's newest note; the others touch
#: notifications, filters (readers with filters take the general path), tokens (checked per
#: request) or tracked-search matches.
_NO_EFFECT = (StatusCreated, NotificationCreated, FiltersChanged, TokensRevoked, TrackedMatched)

#: The memo's key: the reader, the page's bounds (``below``, ``above``) and its length.
Key = tuple[int, int | None, int | None, int]
#: The entity cache's generation, keys and their versions (``rendering/cache.py``).
Watched = tuple[int, tuple[ChangeKey, ...], tuple[int, ...]]
#: The generations a computation started from: the global one, the reader's rules and feed.
Stamp = tuple[int, int, int]
#: A reader's verdicts are dropped past this many notes (a reader paging far back), then built again.
MAX_VERDICTS = 1_000


@dataclass(slots=True)
class Entry:
    key: Key
    stamp: Stamp
    sources: tuple[Any, ...]
    ids: tuple[int, ...]
    until: datetime
    #: The follow clock when the page was computed, and whether the reader followed no account
    #: merged when read: such an entry may be trusted without re-reading its sources (``quick``).
    follows: int
    quick: bool
    #: What the caller rendered from this very answer (``rendering/home.py``), kept with it and
    #: dropped with it; the caller judges whether it still holds (its own versions).
    rendered: Any = None
    #: For a reader who follows accounts merged when read: the entity cache's generation, those
    #: accounts' keys and their versions as the page was computed (``feeds/home.py``); the entry
    #: is quick while they are unchanged — each of their new notes and boosts moves them.
    watched: Watched | None = None


@dataclass(slots=True)
class Verdicts:
    """Whether the home rules show each of these notes to the reader, as of ``stamp`` (global and
    rules generations) and until ``until``."""

    stamp: tuple[int, int]
    until: datetime
    shown: dict[int, bool]
    #: The accounts the reader follows that are merged when read (``BIG_FOLLOWED``), as of the
    #: follow clock ``follows``: only a follow or an unfollow (``FollowChanged``, which moves the
    #: clock) changes whom the reader follows or how many followers an account has.
    big: tuple[int, ...] | None = None
    follows: int = -1


def _as_is(unwatched: float) -> float:
    return unwatched


class HomeMemo:
    def __init__(self, size: int = DEFAULT_SIZE, trust: Callable[[float], float] = _as_is) -> None:
        self._size = size
        #: Stretches ``MAX_AGE`` where other programs' writes are seen (``Database.trust_seconds``).
        self._trust = trust
        self._generation = 0
        #: Moves with every follow or unfollow anywhere (see ``quick``).
        self.follows = 0
        #: Per reader: their rules' generation, and their feed's (which moves their pages, not verdicts).
        self._readers: dict[int, int] = {}
        self._fed: dict[int, int] = {}
        self._verdicts: OrderedDict[int, Verdicts] = OrderedDict()
        #: What the caller rendered of each reader's notes lately (``rendering/home.py``): kept per
        #: reader, least recently used first, as many readers as renderings.
        self._pieces: OrderedDict[int, Any] = OrderedDict()
        self._entries: OrderedDict[Key, Entry] = OrderedDict()
        #: Entries holding a rendering, least recently used first (by identity: entries are replaced).
        self._rendered: OrderedDict[int, Entry] = OrderedDict()

    def stamp(self, reader: int) -> Stamp:
        """Taken *before* reading anything: an entry computed from reads older than a commit then
        carries the generations from before it, and is never used after that commit's bump."""
        return self._generation, self._readers.get(reader, 0), self._fed.get(reader, 0)

    def verdicts(self, reader: int, stamp: Stamp, now: datetime) -> Verdicts | None:
        """The reader's verdicts if they still hold for a read that took ``stamp``."""
        found = self._verdicts.get(reader)
        if found is None or found.stamp != stamp[:2] or now >= found.until:
            return None
        self._verdicts.move_to_end(reader)
        if len(found.shown) > MAX_VERDICTS:
            found.shown.clear()
        return found

    def start_verdicts(self, reader: int, stamp: Stamp, now: datetime, deadline: datetime | None) -> Verdicts:
        """Fresh verdicts for a read that took ``stamp``; ``deadline``: the reader's earliest mute
        to expire (as for ``put``)."""
        found = self._verdicts[reader] = Verdicts(stamp[:2], self._until(now, deadline), {})
        self._verdicts.move_to_end(reader)
        if len(self._verdicts) > self._size:
            self._verdicts.popitem(last=False)
        return found

    def pieces(self, reader: int) -> Any:
        """What the caller last kept of the reader's rendered notes (``keep_pieces``), or None."""
        found = self._pieces.get(reader)
        if found is not None:
            self._pieces.move_to_end(reader)
        return found

    def keep_pieces(self, reader: int, pieces: Any) -> None:
        self._pieces[reader] = pieces
        self._pieces.move_to_end(reader)
        while len(self._pieces) > KEPT_RENDERINGS:
            self._pieces.popitem(last=False)

    def get(self, key: Key, stamp: Stamp, sources: tuple[Any, ...], now: datetime) -> Entry | None:
        """The page's entry (its note ids, newest first), if remembered from these very ``sources``
        (the feed's window, and what else the page was read from: ``feeds.home``) and still valid."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.stamp != stamp or entry.sources != sources or now >= entry.until:
            self._drop(key)
            return None
        return self._used(entry)

    def quick(self, key: Key, stamp: Stamp, follows: int, now: datetime) -> Entry | None:
        """The page's entry without re-reading its sources, when that is exact: the reader's
        generation moves with every change to their feed (``Changes.feeds``, observed on each write
        to the feeds: ``db/changes.py``), and the reader followed no account merged when read —
        nor can have started to, as no follow anywhere has happened since (an account followed by
        the reader may have crossed the fan-out threshold; its next note would reach no feed) — or
        followed some, whose versions the caller compares (``Entry.watched``)."""
        entry = self._entries.get(key)
        if entry is None or not entry.quick or entry.follows != follows:
            return None
        if entry.stamp != stamp or now >= entry.until:
            return None
        return self._used(entry)

    def _used(self, entry: Entry) -> Entry:
        """Mark an entry (and its rendering) most recently used."""
        self._entries.move_to_end(entry.key)
        if entry.rendered is not None:
            self._rendered.move_to_end(id(entry))
        return entry

    def keep(self, entry: Entry, rendered: Any) -> None:
        """Keep the caller's rendering of ``entry``'s page with it (None: nothing to keep)."""
        if rendered is None or self._entries.get(entry.key) is not entry:
            return  # the entry was dropped or replaced meanwhile: nobody would find it
        entry.rendered = rendered
        self._rendered[id(entry)] = entry
        self._rendered.move_to_end(id(entry))
        while len(self._rendered) > KEPT_RENDERINGS:
            self._rendered.popitem(last=False)[1].rendered = None

    def put(
        self,
        key: Key,
        stamp: Stamp,
        sources: tuple[Any, ...],
        ids: Sequence[int],
        now: datetime,
        deadline: datetime | None,
        *,
        follows: int,
        quick: bool,
        watched: Watched | None = None,
    ) -> Entry:
        """Remember a page the rules gave at ``now``; ``deadline``: when the earliest of the
        reader's expiring mutes ends (the rules' answer may change then); ``follows``: the follow
        clock read before anything else; ``quick``: the reader follows no account merged when read,
        or ``watched`` holds their versions (``Entry.watched``)."""
        self._drop(key)
        entry = self._entries[key] = Entry(
            key, stamp, sources, tuple(ids), self._until(now, deadline), follows, quick, watched=watched
        )
        if len(self._entries) > self._size:
            self._drop(next(iter(self._entries)))
        return entry

    def _drop(self, key: Key) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None and entry.rendered is not None:
            self._rendered.pop(id(entry), None)

    def max_age(self) -> timedelta:
        """Longest an answer lasts for lack of news: ``MAX_AGE``, a backstop's longer bound where
        other programs' writes are seen (``Database.trust_seconds``)."""
        return timedelta(seconds=self._trust(MAX_AGE.total_seconds()))

    def _until(self, now: datetime, deadline: datetime | None) -> datetime:
        """How long an answer computed at ``now`` lasts: ``max_age``, or until the reader's
        earliest expiring mute (``deadline``) if sooner."""
        end = now + self.max_age()
        return end if deadline is None else min(end, deadline)

    def committed(self, events: Sequence[Event], changes: Changes) -> None:
        """One write transaction committed with these events and changes (``Database.committed``)."""
        readers: set[int] = set()
        for event in events:
            if isinstance(event, _NO_EFFECT):
                continue
            if isinstance(event, FollowChanged | BlockChanged | MuteChanged):
                readers.update((event.account_id, event.target_account_id))
                if isinstance(event, FollowChanged):
                    self.follows += 1
            elif isinstance(event, AccountUpdated):
                readers.add(event.account_id)
            else:  # an edit, a delete, or a kind not classified here: forget everything
                self.forget_all()
                return
        if not events and changes.rules:  # a write that tells nothing about itself, beyond marks
            self.forget_all()  # and counters (``db/changes.py``), may have changed anything
            return
        for reader in readers:
            self._readers[reader] = self._readers.get(reader, 0) + 1
        # Whose feeds the write changed (entries added or taken out, a feed rebuilt or trimmed):
        # their pages, not what the rules say of a note (verdicts).
        for reader in changes.feeds:
            self._fed[reader] = self._fed.get(reader, 0) + 1
        if len(self._readers) > self._size or len(self._fed) > self._size:
            self.forget_all()

    def forget_all(self) -> None:
        self._generation += 1
        self._readers.clear()
        self._fed.clear()
        self._verdicts.clear()  # (the pieces stand: the caller checks their versions)
        self._entries.clear()
        self._rendered.clear()
