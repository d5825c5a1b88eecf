"""Creating notifications inside another action's transaction (not an action of its own)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Insert,
    String,
    Table,
    bindparam,
    delete,
    exists,
    func,
    insert,
    select,
)

from cordee.actions.push import deliveries_of, record_deliveries
from cordee.db.engine import Database, Tx
from cordee.db.hot import HotQuery
from cordee.db.hot_writes import Write, riding, run, run_late
from cordee.db.sqlite_driver import deferred
from cordee.db.tables import Account, Follow, Notification, Status
from cordee.db.tables_personal import ConversationMute
from cordee.db.types import UTCDateTime, utcnow
from cordee.events.types import NotificationCreated
from cordee.ids import new_id
from cordee.queries.visibility import blocked_between, muted_by

_RECIPIENT = bindparam("recipient", 0, type_=BigInteger())
_FROM = bindparam("from_account", 0, type_=BigInteger())
_STATUS = bindparam("status", 0, type_=BigInteger())
#: The recipient muted the thread of the note the notification is about: Mastodon then drops
#: every notification with a target status (mentions, replies, favourites, boosts, polls, edits,
#: new notes of subscribed accounts).
_THREAD_MUTED = exists(
    select(ConversationMute.id)
    .join(Status, ConversationMute.conversation_id == func.coalesce(Status.conversation_id, Status.id))
    .where(Status.id == _STATUS, ConversationMute.account_id == _RECIPIENT)
)
_NOW = bindparam("now", type_=UTCDateTime())
#: Whether the recipient gets it: a local account, no block either way, no mute hiding
#: notifications, not about a thread the recipient muted.
_WANTED = (
    Account.domain.is_(None)
    & ~blocked_between(_RECIPIENT, _FROM)
    & ~muted_by(_RECIPIENT, _FROM, notifications=True, now=_NOW)
    & ~_THREAD_MUTED
)
_table = cast(Table, Notification.__table__)


def _inserting_wanted(*also: ColumnElement[bool]) -> Insert:
    """The notification, inserted only if wanted (and ``also`` holds): one statement built once
    (every follow, favourite, boost and mention runs it; asking first and inserting then cost a
    round trip more). Deferred: on SQLite the writer leaves it behind (``db/sqlite_driver.py``),
    and learns whether it went in when it ran (``run_late``) — only its event depends on it, sent
    after commit anyway."""
    return (
        deferred(insert(_table))
        .from_select(
            ["id", "account_id", "from_account_id", "type", "status_id", "created_at"],
            select(
                bindparam("id", type_=BigInteger()),
                _RECIPIENT,
                _FROM,
                bindparam("type", type_=String()),
                bindparam("status_id", type_=BigInteger()),
                _NOW,
            ).where(Account.id == _RECIPIENT, _WANTED, *also),
        )
        .returning(_table.c.id)
    )


_INSERT_WANTED = _inserting_wanted()
_INSERT_WANTED_HOT = HotQuery(_INSERT_WANTED)  # run past the session (``db/hot_writes.py``)
_IF_ROW: dict[str, HotQuery] = {}


def _if_row(table: Table) -> HotQuery:
    """The notification only if ``table`` has the row ``row_id``: on SQLite, for a row inserted
    unless there (a favourite) in the same transaction, without asking first whether it went in
    — a hop under the writers' lock (``db/sqlite_driver.py``)."""
    kept = _IF_ROW.get(table.name)
    if kept is None:
        present = exists().where(table.c.id == bindparam("row_id", type_=BigInteger()))
        kept = _IF_ROW[table.name] = HotQuery(_inserting_wanted(present))
    return kept


#: The same with its push deliveries, in one statement where DML runs in a ``WITH`` (PostgreSQL:
#: a follow, a favourite, a boost, a mention made two round trips for them). Its rows: the
#: notification's id, if it was wanted.
_INSERTED = _INSERT_WANTED.cte("inserted")
_INSERT_WANTED_AND_DELIVERIES = HotQuery(
    select(_INSERTED.c.id).add_cte(deliveries_of(_INSERTED, _RECIPIENT, _NOW))
)


async def notify(
    tx: Tx,
    recipient_id: int,
    from_account_id: int,
    type_: str,
    status_id: int | None = None,
    *,
    include_self: bool = False,
    inserted: Callable[[bool], None] | None = None,
    ahead: Write | None = None,
    if_row: tuple[Table, int] | None = None,
) -> None:
    """Notify a local account, unless it would be notified of its own doing (``include_self``
    allows that, for news about one's own things, such as the end of one's poll), or does not want
    it (blocks, mutes, a muted thread). ``inserted`` is told whether it was, once known: at once
    on PostgreSQL, when the statement ran on SQLite (by the commit at the latest).

    ``ahead``: a write of the same action that goes first — on PostgreSQL in the same statement
    (``hot_writes.riding``: a favourite's, a boost's, a follow's count and its notification were
    a round trip each); it must read nothing the notification writes, nor the reverse.

    ``if_row``: on SQLite, notify only if that table has that row by the time the statement runs
    (a row this transaction inserted unless it was there: ``interactions.favourite``)."""
    if recipient_id == from_account_id and not include_self:
        if ahead is not None:
            await run(tx.session, *ahead)
        if inserted is not None:
            inserted(False)
        return
    # Remote accounts (domain set) get notified by federation, later.
    notification_id = new_id()
    params = {
        "id": notification_id,
        "recipient": recipient_id,
        "from_account": from_account_id,
        "type": type_,
        "status_id": status_id,
        "status": status_id or 0,
        "now": utcnow(),
    }

    def ran(rows: list[Any]) -> None:
        if rows:
            tx.emit(NotificationCreated(notification_id, recipient_id, type_))
        if inserted is not None:
            inserted(bool(rows))

    if tx.session.get_bind().dialect.name == "postgresql":
        if ahead is None:
            ran(await run(tx.session, _INSERT_WANTED_AND_DELIVERIES, params))
        else:
            # The write's options say what the statement changes: no cache renders notifications
            # or their deliveries (``db/changes.py``'s ``_UNRENDERED``).
            assert not ahead.params.keys() & params.keys(), "the two statements' parameters collide"
            query = riding(_INSERT_WANTED_AND_DELIVERIES, ahead.query)
            ran(await run(tx.session, query, {**ahead.params, **params}, ahead.options))
        return
    if ahead is not None:
        await run(tx.session, *ahead)
    if if_row is None:
        await run_late(tx.session, _INSERT_WANTED_HOT, params, ran)
    else:
        await run_late(tx.session, _if_row(if_row[0]), {**params, "row_id": if_row[1]}, ran)
    await record_deliveries(tx, notification_id, recipient_id)  # Web Push, sent after commit


async def notified(
    tx: Tx, recipient_id: int, from_account_id: int, type_: str, status_id: int | None = None
) -> bool:
    """``notify`` (one's own doing included), and whether the notification was wanted, known now
    (on SQLite a hop of its own, at the next statement)."""
    outcome: list[bool] = []
    await notify(
        tx, recipient_id, from_account_id, type_, status_id, include_self=True, inserted=outcome.append
    )
    if not outcome:
        await tx.session.execute(select(1))  # sends what is held back, and hears of it
    return outcome[0]


#: Followers who asked to be notified of an author's notes (a follow's ``notify``), through a
#: partial index of those follows only: for an author nobody subscribed to, one index probe.
_SUBSCRIBERS = HotQuery(
    select(Follow.account_id).where(
        Follow.target_account_id == bindparam("author", type_=BigInteger()), Follow.notify
    )
)


async def subscribers_of(db: Database, author_id: int) -> list[int]:
    """Who gets a ``status`` notification of ``author_id``'s next note. Read on the hot path before
    the note's transaction, not inside it: on SQLite that is one hop less under the write lock for
    every post. A follow changing its ``notify`` in between is a race Mastodon has as well (its
    worker reads them after the post). Kept until a follow changes (``db/subscribers.py``) where
    every write reaches this process's caches."""
    cache = db.subscribers if db.coherent else None
    if cache is not None:
        await db.catch_up()
        kept = cache.get(author_id)
        if kept is not None:
            return list(kept)
        generation = cache.generation
    subscribers = [row[0] for row in await db.hot.rows(_SUBSCRIBERS, author=author_id)]
    if cache is not None:
        cache.put(author_id, tuple(subscribers), generation)
    return subscribers


async def notify_subscribers(tx: Tx, author_id: int, status_id: int, subscribers: list[int]) -> None:
    """A ``status`` notification to each of ``subscribers`` (``subscribers_of``), as Mastodon sends
    it for a note that reaches their home timeline (the caller leaves out boosts, direct notes and
    replies to others). Each is inserted only if still wanted (``notify``: blocks, mutes)."""
    for follower_id in subscribers:
        await notify(tx, follower_id, author_id, "status", status_id)


async def withdraw(
    tx: Tx, recipient_id: int, from_account_id: int, type_: str, status_id: int | None
) -> None:
    """Remove a notification whose cause was undone (an unfavourite, an unfollow…)."""
    query = delete(Notification).where(
        Notification.account_id == recipient_id,
        Notification.from_account_id == from_account_id,
        Notification.type == type_,
    )
    if status_id is not None:
        query = query.where(Notification.status_id == status_id)
    await tx.session.execute(query)
