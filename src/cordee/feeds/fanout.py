"""Fan-out on write: committed changes become home-feed updates.

Where it runs depends on the store (``FeedStore.transactional``):

- SQL store: inside the writing transaction (``Database.before_commit``). The feed rows commit
  with the note, or not at all: durable without a retry queue, and each note costs one
  ``INSERT … SELECT`` over the author's followers, never a row per follower built in Python.
- Redis store: once the transaction committed (``Database.after_commit``), in the writing process
  only (every process receives bus events; fan-out must happen once), pipelined. The work is
  recorded in the transaction first (``outbox.py``): a process that dies between the commit and
  Redis leaves it to be replayed, so no committed note is lost from its followers' feeds. A new
  note's entries are read inside its transaction (``_read_in_transaction`` says when that is
  exact), so that after commit only Redis is written.

Hybrid fan-out: an author with ``fanout_follower_threshold`` followers or more is written only to
their own feed; followers' home timelines merge such authors' notes in when read
(``queries.timelines.home_feed_query``). So a post costs the same to write whoever writes it.

Feeds hold candidates; the home query re-checks every rule when reading, so what fan-out filters
here (reblogs a follower hides, replies to strangers, direct notes) only keeps feeds small.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any, Protocol, TypeGuard, runtime_checkable

from sqlalchemy import (
    BigInteger,
    BindParameter,
    ColumnElement,
    Integer,
    bindparam,
    exists,
    literal,
    or_,
    select,
    union,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from cordee.config import Settings
from cordee.db.engine import Database, Tx
from cordee.db.tables import Account, Follow, Status, StatusTag
from cordee.db.tables_curation import TagFollow
from cordee.db.types import UTCDateTime, utcnow
from cordee.events.types import (
    BlockChanged,
    Event,
    FollowChanged,
    MuteChanged,
    StatusCreated,
    StatusDeleted,
)
from cordee.feeds import outbox
from cordee.feeds.base import Entries, FeedStore, Owners, owners_by_status
from cordee.queries.tags import tag_follower_entries
from cordee.queries.timelines import home_query
from cordee.redis_client import ScriptCall

log = logging.getLogger(__name__)


@runtime_checkable
class SplitPush(Protocol):
    """A store outside the database whose ``push`` reads the entries, then writes them: the
    write apart, so that the read can happen inside the writing transaction."""

    async def write(self, by_status: Mapping[int, Sequence[int]]) -> Owners: ...

    def calls(self, by_status: Mapping[int, Sequence[int]]) -> tuple[list[ScriptCall], Owners]: ...


def _read_in_transaction(event: Event) -> TypeGuard[StatusCreated | FollowChanged]:
    """Whether a change's feed entries may be read inside its own transaction rather than after
    it committed: a new note, not direct, with no hashtag, or a new follow. Both transactions
    updated the author's row before this read (``statuses_count``, ``followers_count``), so a
    note and a follow of its author are serialised by that row's lock: whichever writes second
    waits for the first to commit, and its read (a statement after the wait, in READ COMMITTED)
    sees the first — the follow's merge sees the note, or the note's followers include the new
    one. A direct note's or a tag's readers, an unmute's merge, take no such lock: those are read
    after commit, as before."""
    if isinstance(event, FollowChanged):
        return event.following
    return isinstance(event, StatusCreated) and event.visibility != "direct" and not event.tags


_RELEVANT = (StatusCreated, StatusDeleted, FollowChanged, BlockChanged, MuteChanged)


def _id(value: int) -> BindParameter[int]:
    return literal(value, BigInteger)


def _param(name: str) -> BindParameter[int]:
    return bindparam(name, 0, type_=BigInteger())


def _followers_of(status_id: Any, *, reblog: bool) -> Entries:
    replied_follow = aliased(Follow)
    query: Entries = (
        select(Follow.account_id, Status.id, Status.account_id)
        .select_from(Status)
        .join(Follow, Follow.target_account_id == Status.account_id)
        .where(
            Status.id == status_id,
            or_(
                Status.in_reply_to_account_id.is_(None),
                Status.in_reply_to_account_id == Status.account_id,
                Status.in_reply_to_account_id == Follow.account_id,
                exists(
                    select(replied_follow.id).where(
                        replied_follow.account_id == Follow.account_id,
                        replied_follow.target_account_id == Status.in_reply_to_account_id,
                    )
                ),
            ),
        )
    )
    if reblog:
        query = query.where(Follow.show_reblogs.is_(True))
    else:
        query = query.where(_language_wanted(Follow.languages))
    return query


def _language_wanted(languages: Any) -> Any:
    """A follow's ``languages`` (space separated; NULL: all) admit the note's language, or the note
    has none: Mastodon's home filter (FeedManager), applied when notes enter feeds, not when they
    are read. A wildcard in a note's language could only let the note into a follower's feed,
    where every rule is checked again when read."""
    padded = literal(" ") + languages + literal(" ")
    return or_(
        languages.is_(None),
        Status.language.is_(None),
        padded.like(literal("% ") + Status.language + literal(" %")),
    )


# Built once: every post runs these (``FeedStore.push`` with parameters reuses its statement).
_OWN = select(_param("author_id"), _param("status_id"), _param("author_id"))
_FOLLOWERS = {False: _followers_of(_param("status_id"), reblog=False)}
_FOLLOWERS[True] = _followers_of(_param("status_id"), reblog=True)
#: A direct note reaches the followers it mentions (``mentioned``: an expanding parameter).
_DIRECT = _FOLLOWERS[False].where(Follow.account_id.in_(bindparam("mentioned", expanding=True)))
#: A public note reaches the feeds of those who follow one of its hashtags.
_TAG_FOLLOWERS = tag_follower_entries(_param("status_id"))
_FOLLOWERS_COUNT = select(Account.followers_count).where(Account.id == _param("account_id"))
_THRESHOLD = bindparam("threshold", 0, type_=Integer())


def _fanned_out(author_id: Any) -> ColumnElement[bool]:
    """The author has fewer followers than ``CORDEE_FANOUT_FOLLOWER_THRESHOLD`` (hybrid fan-out:
    bigger authors' notes are merged in when home timelines are read). In the statement itself,
    not a statement of its own: a post or a follow costs one round trip less."""
    return select(Account.followers_count).where(Account.id == author_id).scalar_subquery() < _THRESHOLD


def _with_followers(reblog: bool) -> Entries:
    """A new note's entries: its author's own feed, and their followers' feeds when fanned out."""
    both = union_all(_OWN, _FOLLOWERS[reblog].where(_fanned_out(_param("author_id")))).subquery()
    return select(both.c[0], both.c[1], both.c[2])


#: One ``INSERT … SELECT`` per note (own feed and followers' feeds), built once.
_NOTE = {reblog: _with_followers(reblog) for reblog in (False, True)}


def rebuild_entries(account_id: Any, size: Any, author_id: Any = None, now: Any = None) -> Entries:
    """A feed's content computed from the database: the newest ``size`` notes of its home timeline
    (or only ``author_id``'s, to merge a newly followed account in), by the rules at ``now``
    (default: the time of the call). The arguments may be bind parameters (``_MERGE`` below is
    built once, and takes the time of each merge)."""

    # The candidates first, by index (the newest notes of the accounts that can be in this feed, and
    # of the hashtags it follows), then the home rules over those ids only, joined from them: left
    # to itself, the planner walks every public note of the instance for the rules' OR branches.
    def newest(where: Any) -> Any:
        return select(Status.id.label("id")).where(where).order_by(Status.id.desc()).limit(size).subquery()

    if author_id is not None:
        sources = [newest(Status.account_id == author_id)]
    else:
        followed = select(Follow.target_account_id).where(Follow.account_id == account_id)
        followed_tags = select(TagFollow.tag_id).where(TagFollow.account_id == account_id)
        tagged = (
            select(StatusTag.status_id.label("id"))
            .where(StatusTag.tag_id.in_(followed_tags))
            .order_by(StatusTag.status_id.desc())
            .limit(size)
            .subquery()
        )
        sources = [newest(or_(Status.account_id == account_id, Status.account_id.in_(followed))), tagged]
    candidates = union(*(select(source.c.id) for source in sources)).subquery()
    query = home_query(account_id, now).join(candidates, candidates.c.id == Status.id)
    # Only the languages asked for, for each followed author (as fan-out does).
    chosen = aliased(Follow)
    query = query.where(
        ~exists(
            select(chosen.id).where(
                chosen.account_id == account_id,
                chosen.target_account_id == Status.account_id,
                ~_language_wanted(chosen.languages),
            )
        )
    )
    return (
        query.with_only_columns(
            account_id if isinstance(account_id, BindParameter) else _id(account_id),
            Status.id,
            Status.account_id,
        )
        .order_by(Status.id.desc())
        .limit(size)
    )


#: A whole feed computed again (a new reader, one back after a long absence, a Redis emptied):
#: built once, not per rebuild — building the home rules' statement took ~6 ms of CPU, on the event
#: loop, for every feed rebuilt (measured; after a Redis restart every reader's first read rebuilds).
REBUILD = rebuild_entries(
    _param("account_id"),
    bindparam("size", 1, type_=Integer()),
    now=bindparam("now", None, type_=UTCDateTime()),
)


def rebuild_params(account_id: int, settings: Settings) -> dict[str, Any]:
    """``REBUILD``'s parameters for one feed, by the rules at the time of the call."""
    return {"account_id": account_id, "size": settings.feed_size, "now": utcnow()}


#: Every follow (and unmute) merges the author's notes into one feed: built once, not per follow
#: (building and caching the home rules' statement took most of a follow's time, measured).
_MERGE = rebuild_entries(
    _param("account_id"),
    bindparam("size", 1, type_=Integer()),
    _param("author_id"),
    bindparam("now", None, type_=UTCDateTime()),
).where(_fanned_out(_param("author_id")))


class FanOut:
    def __init__(self, db: Database, settings: Settings, store: FeedStore) -> None:
        self._db = db
        self._settings = settings
        self.store = store
        #: The store, when its push splits in two (read, then write): told once, not per post.
        self._split: SplitPush | None = store if isinstance(store, SplitPush) else None
        self.done_rows = outbox.DoneRows(db)

    def attach(self) -> None:
        """Hook into the database's write path (idempotent)."""
        if self.store.transactional:
            if self._in_transaction not in self._db.before_commit:
                self._db.before_commit.append(self._in_transaction)
            return
        if self._record not in self._db.before_commit:
            self._db.before_commit.append(self._record)
        if self._after_commit not in self._db.after_commit:
            self._db.after_commit.append(self._after_commit)

    def detach(self) -> None:
        for hook in (self._in_transaction, self._record):
            if hook in self._db.before_commit:
                self._db.before_commit.remove(hook)
        if self._after_commit in self._db.after_commit:
            self._db.after_commit.remove(self._after_commit)

    async def _in_transaction(self, tx: Tx) -> None:
        if any(isinstance(e, _RELEVANT) for e in tx.events):
            await self.apply(tx.session, tx.events)

    async def _record(self, tx: Tx) -> None:
        relevant = [e for e in tx.events if isinstance(e, _RELEVANT)]
        if not relevant:
            return
        readable = [e for e in relevant if _read_in_transaction(e)]
        if self._split is None or len(readable) < len(relevant):
            tx.outbox.append(await outbox.record(tx.session, relevant))
            return
        # New notes and follows: their entries are read here, in their own transaction, so that
        # after commit only the store is written — no second transaction (a pool checkout, BEGIN,
        # the read, ROLLBACK; in the post profile on PostgreSQL, BEGIN/COMMIT/ROLLBACK were 22 %
        # of the server's own time, for three transactions a post then). The first read carries
        # the outbox's row (one round trip for both on PostgreSQL).
        (first, first_params), *others = [read for change in readable for read in self._entries_of(change)]
        entry_id, rows = await outbox.record_with(tx.session, relevant, first, first_params)
        tx.outbox.append(entry_id)
        for entries, params in others:
            rows = [*rows, *(await tx.session.execute(entries, params))]
        tx.feed_entries = owners_by_status(rows)

    async def _after_commit(self, tx: Tx) -> None:
        relevant = [e for e in tx.events if isinstance(e, _RELEVANT)]
        if not relevant:
            return
        if tx.feed_entries is not None and self._split is not None:
            if self._db.change_log is not None:
                # Sent with the transaction's change-log entry, one round trip for both
                # (``Database.write``); the outbox row is done once they ran.
                calls, written = self._split.calls(tx.feed_entries)
                tx.redis_ahead.extend(calls)
                tx.feeds_written.update(written)
                tx.redis_ran.append(partial(self.done_rows.add, tx.outbox))
                return
            written = await self._split.write(tx.feed_entries)
        else:
            async with self._db.read() as session:
                written = await self.apply(session, relevant)
        tx.feeds_written.update(written)  # announced with the transaction's own entry
        self.done_rows.add(tx.outbox)

    async def replay(self, older_than_seconds: float) -> int:
        """Do the recorded work of changes whose process died before doing it; returns how many."""
        count = 0
        for entry_id, events in await outbox.pending(self._db, older_than_seconds):
            async with self._db.read() as session:
                written = await self.apply(session, events)
            await self._db.feeds_written(written)
            await outbox.done(self._db, [entry_id])
            count += 1
        return count

    async def _is_big(self, session: AsyncSession, account_id: int) -> bool:
        count = await session.scalar(_FOLLOWERS_COUNT, {"account_id": account_id})
        return (count or 0) >= self._settings.fanout_follower_threshold

    def _entries_of(self, event: StatusCreated | FollowChanged) -> list[tuple[Entries, dict[str, Any]]]:
        if isinstance(event, FollowChanged):
            return [(_MERGE, self._merge_params(event.account_id, event.target_account_id))]
        return self._note_entries(event)

    def _merge_params(self, account_id: int, author_id: int) -> dict[str, Any]:
        return {
            "account_id": account_id,
            "author_id": author_id,
            "size": self._settings.feed_size,
            "threshold": self._settings.fanout_follower_threshold,
            "now": utcnow(),
        }

    def _note_entries(self, event: StatusCreated) -> list[tuple[Entries, dict[str, Any]]]:
        """The statements (and parameters) giving a new note's entries, but a direct note's."""
        found: list[tuple[Entries, dict[str, Any]]] = []
        if event.visibility != "direct":
            ids = {
                "status_id": event.status_id,
                "author_id": event.account_id,
                "threshold": self._settings.fanout_follower_threshold,
            }
            found.append((_NOTE[event.reblog_of_id is not None], ids))
        # Those who follow one of a public note's hashtags.
        if event.tags and event.visibility == "public" and event.reblog_of_id is None:
            found.append((_TAG_FOLLOWERS, {"status_id": event.status_id}))
        return found

    async def merge(self, session: AsyncSession, account_id: int, author_id: int) -> Owners:
        """Bring an author's recent notes into one feed (after a follow or an unmute)."""
        return await self.store.push(session, _MERGE, self._merge_params(account_id, author_id))

    async def apply(self, session: AsyncSession, events: Sequence[Event]) -> Owners:
        """Do the feed work of these events; returns the owners of the feeds changed (those to
        announce: none for a transactional store, see ``FeedStore.transactional``)."""
        store = self.store
        written: Owners = set()
        for event in events:
            if isinstance(event, StatusCreated):
                if event.visibility == "direct":
                    ids = {"status_id": event.status_id, "author_id": event.account_id}
                    written |= await store.push(session, _OWN, ids)
                    if not await self._is_big(session, event.account_id):
                        written |= await store.push(
                            session, _DIRECT, {**ids, "mentioned": event.mentioned_account_ids}
                        )
                for entries, params in self._note_entries(event):
                    written |= await store.push(session, entries, params)
            elif isinstance(event, StatusDeleted):
                owners = {event.account_id, *event.mentioned_account_ids}
                if not store.transactional and not await self._is_big(session, event.account_id):
                    owners.update(
                        await session.scalars(
                            select(Follow.account_id).where(Follow.target_account_id == event.account_id)
                        )
                    )
                written |= await store.remove_statuses(session, sorted(owners), [event.status_id])
            elif isinstance(event, FollowChanged):
                if event.following:
                    written |= await self.merge(session, event.account_id, event.target_account_id)
                else:
                    written |= await store.remove_authors(
                        session, event.account_id, [event.target_account_id]
                    )
            elif isinstance(event, BlockChanged):
                if event.blocking:
                    written |= await store.remove_authors(
                        session, event.account_id, [event.target_account_id]
                    )
                    written |= await store.remove_authors(
                        session, event.target_account_id, [event.account_id]
                    )
            elif isinstance(event, MuteChanged):
                if event.muting:
                    written |= await store.remove_authors(
                        session, event.account_id, [event.target_account_id]
                    )
                else:
                    written |= await self.merge(session, event.account_id, event.target_account_id)
        return written
