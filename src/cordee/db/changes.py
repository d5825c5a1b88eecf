"""What a write transaction changed, for the caches of rendered pages (``rendering/cache.py``).

Caches that keep whole rendered pages must drop a page when anything it shows changes: a counter,
an edit, the reader's own favourite or bookmark, a poll vote. Asking every action to say so would
be a rule kept in many places, and one forgotten call would serve a stale page for good. So the
changes are *observed*, in one place, on the session every action writes through:

- every object the ORM flushes is turned into keys by its kind (``_flushed``): a note, its author,
  the note a boost or a reply points at, the note a favourite/bookmark/pin/mention/medium belongs
  to, a poll;
- every Core ``INSERT``/``UPDATE``/``DELETE`` — or ``SELECT`` whose ``WITH`` writes (``writes_of``)
  — either carries its keys (``touching``: the counters, the hot paths' statements built once), or
  writes a table known to change nothing a rendered page shows (``_UNRENDERED``), or a table whose
  effect on pages the home memo already tracks (``_MEMO_TRACKED``: follows, blocks, mutes, feeds…
  — see ``feeds/memo.py``);
- anything else — a Core statement on another table without keys, a textual ``UPDATE`` or
  ``WITH`` — marks the transaction ``unknown``, and the caches forget everything when it commits.
  A new write path is thus safe by default: it only makes the caches less useful until it says
  what it touches.

``rules`` tells the home memo whether a transaction that emitted no event may have changed what
the home rules read: a favourite, a bookmark or a vote does not, and need not forget every page.

Keys: ``("s", status_id)``, ``("a", account_id)``, ``("p", poll_id)``, ``("r", reader_id)`` (a
reader's own marks: a muted thread, and every favourite, boost, bookmark and pin, which move the
note's key too — the reader's marks are kept under it: ``rendering/marks.py``). Apart from the keys, the
home feeds a write changed (``feeds``: only the home memo reads them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import CTE, Delete, Select, event
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.sql.dml import UpdateBase

Key = tuple[str, int]

#: Tables whose rows no rendered note, account or poll shows, and that decide nothing about which
#: notes a home page holds beyond what the memo reads again (the feed entries themselves).
_UNRENDERED = frozenset(
    {
        "oauth_authorization_codes",
        "oauth_access_tokens",
        "notifications",
        "idempotency_keys",
        "feed_outbox",
        "markers",
        "preferences",
        "push_subscriptions",
        "push_deliveries",
        "push_server_keys",
        "status_search",
        "account_search",
        "web_sessions",
        "two_factor",
        "two_factor_recovery_codes",
        "email_tokens",
        "audit_log",
        "id_workers",
        "tracked_searches",
        "tracked_search_members",
        "tracked_matches",
        "sentiment_corrections",
        "reports",
        "suggestion_dismissals",
        "scheduled_statuses",
        "scheduled_status_media",
        "account_notes",
        "account_pins",
        "featured_tags",
        "conversations",
        "conversation_statuses",
        "account_conversations",
        "follow_requests",
        "users",  # a disabled login is refused per request; what it reads is its own
        "invites",
        "applications",  # a note names its app, which is never renamed
        # Campaigns show their notes on walls and pages of their own, not in home timelines.
        "campaigns",
        "campaign_organisers",
        "chapters",
        "chapter_organisers",
        "ledger_entries",
        "ticket_tiers",
        "tickets",
        "ticket_checkins",
        "raffles",
        "raffle_tickets",
        "wall_decisions",
        "campaign_messages",
    }
)
#: Tables that change which notes a home page holds, not how a note looks: the home memo bumps
#: its generations for them (``feeds/memo.py``), and a rendered page is kept only under its memo
#: entry. (Their counters — followers, following — move through ``touching`` statements.)
_MEMO_TRACKED = frozenset(
    {
        "follows",
        "blocks",
        "mutes",
        "account_domain_blocks",
        "lists",
        "list_accounts",
        "tag_follows",
        "filters",
        "filter_keywords",
        "filter_statuses",
    }
)
#: Home feeds: every write to them names the feeds it changed (``touching(feeds=…)``, ``feeds_recorder``
#: in ``feeds/sql.py``; the home memo drops the pages of a feed that changed), or is unknown.
_FEEDS = frozenset({"home_feeds", "home_feed_entries"})
_IGNORED = _UNRENDERED | _MEMO_TRACKED
_OPTION = "cordee_changes"
_RULES = "cordee_changes_rules"
_FEEDS_OPTION = "cordee_changes_feeds"
#: What a textual statement that writes starts with (``WITH``: a CTE may write, or precede a write).
_TEXT_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "WITH")
#: Tables a token's caller is read from (``api/mastodon/callers.py``; ``preferences``: the posting
#: defaults); deleting a row of ``_AUTH_CASCADES`` deletes some of theirs (``ON DELETE CASCADE``).
_AUTH = frozenset({"oauth_access_tokens", "users", "filters", "preferences"})
_AUTH_CASCADES = frozenset({"accounts", "applications"})


#: A reader's own marks on notes: shown on rendered notes, read by no rule of who sees what.
_MARKS = frozenset({"favourites", "bookmarks", "status_pins", "poll_votes", "conversation_mutes"})
#: Those kept per reader (``rendering/marks.py``): each write of one moves its note's version and
#: its reader's (``("r", account)``; boosts too, as their own rows in ``statuses``).
_READER_MARKS = frozenset({"favourites", "bookmarks", "status_pins"})


@dataclass
class Changes:
    keys: set[Key] = field(default_factory=set)
    #: A write the keys may not describe: caches of rendered pages forget everything.
    unknown: bool = False
    #: A write that may change what the home rules read (``feeds/memo.py``): anything but the
    #: reader's marks, counters, and the tables no page shows.
    rules: bool = False
    #: Owners of the home feeds whose entries changed.
    feeds: set[int] = field(default_factory=set)
    #: A write that may change who a token's holder is (``api/mastodon/callers.py``): tokens,
    #: users, filters (a flag every request carries), preferences (its posting defaults), a
    #: deletion that cascades to them, or any write whose table is not known (a textual one).
    auth: bool = False
    #: Writes may have been missed (``db/change_log.py``): every cache forgets all it kept, even
    #: what events alone invalidate (accounts' bodies).
    missed: bool = False
    #: A write to the follows table (``db/subscribers.py``: who is notified of whose notes).
    follows: bool = False

    def add(self, keys: Iterable[Key]) -> None:
        self.keys.update(keys)

    @property
    def empty(self) -> bool:
        """Nothing any cache keeps was changed (a marker, a notification's read mark…)."""
        return not (
            self.keys or self.unknown or self.rules or self.feeds or self.auth or self.missed or self.follows
        )

    @classmethod
    def everything(cls) -> Changes:
        """What to tell caches that may have missed writes: anything may have changed."""
        return cls(unknown=True, rules=True, auth=True, missed=True, follows=True)

    def to_wire(self) -> dict[str, Any]:
        """JSON-ready (``db/change_log.py`` carries it to the other processes)."""
        return {
            "keys": sorted(self.keys),
            "unknown": self.unknown,
            "rules": self.rules,
            "feeds": sorted(self.feeds),
            "auth": self.auth,
            "missed": self.missed,
            "follows": self.follows,
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Changes:
        return cls(
            keys={(str(kind), int(key)) for kind, key in data["keys"]},
            unknown=bool(data["unknown"]),
            rules=bool(data["rules"]),
            feeds={int(owner) for owner in data["feeds"]},
            auth=bool(data["auth"]),
            missed=bool(data.get("missed")),
            # An entry from a process that did not say (an older one, in a rolling upgrade): may.
            follows=bool(data.get("follows", True)),
        )


def touching(*keys: Key, rules: bool = False, feeds: tuple[int, ...] = ()) -> dict[str, Any]:
    """Execution options for a Core write that changes exactly what ``keys`` name: counters or the
    reader's marks, unless ``rules`` (the write may change what the home rules read); or the home
    feeds of ``feeds``."""
    return {_OPTION: keys, _RULES: rules, _FEEDS_OPTION: feeds}


def feeds_recorder(session: Any) -> Callable[[Sequence[Sequence[Any]]], None]:
    """Where to add the feeds known only once a write ran (the rows of an ``INSERT … RETURNING``
    owner, perhaps handed over after the writer left: ``sqlite_driver.execute_late``): the
    transaction running on ``session`` now. The write itself carries ``touching()`` so that it is
    not taken for an unknown one."""
    changes = _changes_of(session)

    def record(rows: Sequence[Sequence[Any]]) -> None:
        if changes is not None:
            changes.feeds.update(row[0] for row in rows)

    return record


#: Where a session holds a weak reference to the transaction running on it (``db/tx.py``).
TX_KEY = "cordee.tx"


def _changes_of(session: Any) -> Changes | None:
    ref = session.info.get(TX_KEY)
    tx = ref() if ref is not None else None
    return tx.changes if tx is not None else None


def _table_name(statement: Any) -> str | None:
    return getattr(getattr(statement, "table", None), "name", None)


#: What a statement writes: ``(table, whether it deletes)`` pairs, or None (a read).
Writes = list[tuple[str | None, bool]] | None


def writes_of(statement: Any) -> Writes:
    """The tables a statement writes, each with whether it deletes (None: a table it cannot name),
    or None when it writes nothing (for a statement built once, to work out once)."""
    if isinstance(statement, UpdateBase):  # INSERT, UPDATE, DELETE, and what its WITHs write
        return [(_table_name(statement), isinstance(statement, Delete)), *_written_by_ctes(statement)]
    text = getattr(statement, "text", None)  # a textual statement: BEGIN and SAVEPOINT are fine
    if text is not None:
        return [(None, False)] if text.lstrip()[:7].upper().startswith(_TEXT_WRITES) else None
    if not isinstance(statement, Select):
        return None
    return _written_by_ctes(statement) or None


def _written_by_ctes(statement: Select[Any] | UpdateBase) -> list[tuple[str | None, bool]]:
    return [
        (_table_name(cte.element), isinstance(cte.element, Delete))
        for cte in _top_ctes(statement)
        if isinstance(cte.element, UpdateBase)
    ]


def _top_ctes(statement: Select[Any] | UpdateBase) -> Iterable[CTE]:
    """The CTEs a statement names at its top — where PostgreSQL takes writes in a WITH: added alone
    (``add_cte``), or a SELECT's FROM or its columns' table. Read from the statement's own
    attributes: ``get_final_froms`` cost 0.2–2.5 ms a statement (every ORM select of a write
    transaction)."""
    yield from statement._independent_ctes
    if not isinstance(statement, Select):
        return
    for element in (*statement._from_obj, *statement._raw_columns):
        for candidate in (element, getattr(element, "table", None)):
            if isinstance(candidate, CTE):
                yield candidate


def _executed(state: ORMExecuteState) -> None:
    observe(state.session, state.statement, state.execution_options)


def observe(session: Any, statement: Any, options: Mapping[str, Any]) -> None:
    """Note what ``statement``, run with execution ``options`` on ``session``, changes (every
    statement a session runs is observed so; one run past the session says so itself:
    ``db/hot_writes.py``)."""
    if _changes_of(session) is not None:  # first: reads outside a write transaction cost no more
        observe_writes(session, writes_of(statement), options)


def observe_writes(session: Any, written: Writes, options: Mapping[str, Any]) -> None:
    """``observe``, with what the statement writes worked out already (``writes_of``)."""
    changes = _changes_of(session)
    if changes is None or written is None:
        return
    for table, deletes in written:
        if table is None or table in _AUTH or (deletes and table in _AUTH_CASCADES):
            changes.auth = True
        if table is None or table == "follows":
            changes.follows = True
    declared = options.get(_OPTION)
    if declared is not None:
        changes.add(declared)
        changes.rules = changes.rules or bool(options.get(_RULES))
        changes.feeds.update(options.get(_FEEDS_OPTION, ()))
        return
    for table, _ in written:
        if table in _MEMO_TRACKED:
            changes.rules = True
        elif table not in _UNRENDERED:
            changes.unknown = changes.rules = True


def _keys_of(obj: Any, new: bool) -> Iterable[Key] | None:
    """The keys a flushed object changes; None when its kind is not known here."""
    table = obj.__tablename__
    if table == "statuses":
        keys = [("s", obj.id), ("a", obj.account_id)]
        keys += [("s", i) for i in (obj.reblog_of_id, obj.in_reply_to_id) if i is not None]
        if obj.reblog_of_id is not None:  # a boost is its author's mark on the note it carries
            keys.append(("r", obj.account_id))
        return keys
    if table in _READER_MARKS:
        return [("s", obj.status_id), ("r", obj.account_id)]
    if table == "accounts":
        return [("a", obj.id)]
    if table == "polls":
        return [("p", obj.id), ("s", obj.status_id)]
    if table == "conversation_mutes":
        return [("r", obj.account_id)]
    if table in _IGNORED or (table == "tags" and new):  # a new tag is on no note rendered yet
        return ()
    if hasattr(obj, "status_id"):  # a note's part or mark (no note: e.g. a medium not attached yet)
        return [("s", obj.status_id)] if obj.status_id is not None else []
    if hasattr(obj, "poll_id"):
        return [("p", obj.poll_id)]
    return None


def _flushed(session: Session, _context: Any) -> None:
    changes = _changes_of(session)
    if changes is None:
        return
    new, deleted = session.new, session.deleted
    for obj in (*new, *session.dirty, *deleted):
        table = obj.__tablename__
        if table in _AUTH or (table in _AUTH_CASCADES and obj in deleted):
            changes.auth = True
        if table == "follows":
            changes.follows = True
        if table in _FEEDS:
            changes.feeds.add(obj.account_id)
            continue
        if table not in _MARKS and table not in _UNRENDERED:
            changes.rules = True
        keys = _keys_of(obj, obj in new)
        if keys is None:
            changes.unknown = True
            return
        changes.add(keys)


_installed = False


def install() -> None:
    """Observe every session's writes (once per process; sessions without a ``Tx`` are skipped)."""
    global _installed
    if not _installed:
        event.listen(Session, "do_orm_execute", _executed)
        event.listen(Session, "after_flush", _flushed)
        _installed = True
