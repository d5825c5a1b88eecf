"""Following ("listening to"), follow requests for locked accounts, and unfollowing."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import BigInteger, Table, bindparam, delete, insert, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError

from cordee.actions._counters import shift, shifting
from cordee.actions._notify import notify, withdraw
from cordee.actions.errors import Forbidden, NotFound
from cordee.db.engine import Database, Tx
from cordee.db.hot import HotQuery
from cordee.db.hot_writes import inserting_unless_there, run
from cordee.db.sqlite_driver import deferred
from cordee.db.tables import Account, Block, Follow, FollowRequest
from cordee.db.tables_personal import AccountPin
from cordee.db.types import utcnow
from cordee.events.types import FollowChanged
from cordee.ids import new_id

_ACTOR = bindparam("actor", 0, type_=BigInteger())
_TARGET = bindparam("target", 0, type_=BigInteger())
#: What a follow needs to know before it writes, in one statement built once: the target (absent:
#: no row), whether it is locked, a block either way, and an existing follow or request.
_BEFORE = select(
    Account.locked.label("locked"),
    select(Block.id)
    .where(
        ((Block.account_id == _ACTOR) & (Block.target_account_id == _TARGET))
        | ((Block.account_id == _TARGET) & (Block.target_account_id == _ACTOR))
    )
    .limit(1)
    .scalar_subquery()
    .label("block_id"),
    select(Follow.id)
    .where(Follow.account_id == _ACTOR, Follow.target_account_id == _TARGET)
    .scalar_subquery()
    .label("follow_id"),
    select(FollowRequest.id)
    .where(FollowRequest.account_id == _ACTOR, FollowRequest.target_account_id == _TARGET)
    .scalar_subquery()
    .label("request_id"),
).where(Account.id == _TARGET)
_BEFORE_FOLLOW = HotQuery(_BEFORE)
_follows = cast(Table, Follow.__table__)
_ROW = ("id", "account_id", "target_account_id", "show_reblogs", "notify", "languages", "created_at")


def _follow_unless_prevented() -> HotQuery:
    """``_BEFORE_FOLLOW``, and the follow inserted when nothing it reads prevents it (the target
    there and unlocked, no block, no follow or request yet) and the pair is not there (a concurrent
    follow's): its id as a fifth column, None when not inserted. PostgreSQL only (a ``WITH`` that
    writes): one round trip where the check and the insert took two."""
    before = _BEFORE.cte("before_follow")
    # The row's values in ``_ROW``'s order: the actor and the target as the check names them.
    row = select(
        bindparam("id", type_=_follows.c.id.type),
        _ACTOR,
        _TARGET,
        *(bindparam(name, type_=_follows.c[name].type) for name in _ROW[3:]),
    ).where(
        before.c.locked.is_(False),
        before.c.block_id.is_(None),
        before.c.follow_id.is_(None),
        before.c.request_id.is_(None),
    )
    inserted = (
        postgresql.insert(_follows)
        .from_select(list(_ROW), row)
        .on_conflict_do_nothing()
        .returning(_follows.c.id)
        .cte("inserted_follow")
    )
    # ``add_cte``: named at the top, where the statement's observer looks for what it writes.
    return HotQuery(select(before, select(inserted.c.id).scalar_subquery()).add_cte(inserted))


_FOLLOW_UNLESS_PREVENTED = _follow_unless_prevented()
#: No row back when a concurrent writer inserted the same pair first (PostgreSQL runs writers side
#: by side; the unique constraint settles it).
_INSERT_FOLLOW = inserting_unless_there(_follows, _ROW)
#: On SQLite, after ``_BEFORE_FOLLOW`` found no follow in the same transaction: SQLite's one writer
#: at a time (the group commit's lock) leaves no one to insert the pair in between, so nobody needs
#: the insert's result, and the writer leaves it behind (``db/sqlite_driver.py``).
_INSERT_CHECKED_FOLLOW = deferred(insert(_follows))


async def _inserted(tx: Tx, row: Follow | FollowRequest) -> bool:
    """Insert the row in a savepoint; False when a concurrent writer inserted the same pair first
    (PostgreSQL runs writers side by side; the unique constraint settles it)."""
    try:
        async with tx.session.begin_nested():
            tx.session.add(row)
            await tx.session.flush()
    except IntegrityError:
        return False
    return True


async def _count_follow(
    tx: Tx, actor_id: int, target_id: int, delta: int, *, notifying: bool = False
) -> None:
    """Move both counters, locking the two account rows in id order so that crossing follows
    (A→B and B→A at once) cannot deadlock; with ``notifying``, the target's notification of the
    new follow rides with the second (one statement on PostgreSQL)."""
    changes = {actor_id: "following_count", target_id: "followers_count"}
    first, second = sorted(changes)
    await shift(tx.session, Account, changes[first], first, delta)
    last = shifting(Account, changes[second], second, delta)
    if notifying:
        await notify(tx, target_id, actor_id, "follow", ahead=last)
    else:
        await run(tx.session, *last)


def _follow_row(
    actor_id: int, target_id: int, show_reblogs: bool, notify_posts: bool, languages: str | None
) -> dict[str, Any]:
    return {
        "id": new_id(),
        "account_id": actor_id,
        "target_account_id": target_id,
        "show_reblogs": show_reblogs,
        "notify": notify_posts,
        "languages": languages,
        "created_at": utcnow(),
    }


async def _add_follow(tx: Tx, row: dict[str, Any], *, checked: bool = False) -> bool:
    """Insert the follow (``row``), count it and notify its target; False when the pair was
    there (inserted concurrently). ``checked``: this transaction read that it was not there."""
    dialect = tx.session.get_bind().dialect.name
    if checked and dialect == "sqlite":
        await tx.session.execute(_INSERT_CHECKED_FOLLOW, row)
    elif not await run(tx.session, _INSERT_FOLLOW[dialect], row):
        return False
    await _counted(tx, row["account_id"], row["target_account_id"])
    return True


async def _counted(tx: Tx, actor_id: int, target_id: int) -> None:
    """A follow just inserted: its event, its counters and its target's notification."""
    tx.emit(FollowChanged(actor_id, target_id, following=True))
    await _count_follow(tx, actor_id, target_id, +1, notifying=True)


async def remove_follow(tx: Tx, actor_id: int, target_id: int) -> bool:
    """End a follow inside a transaction (unfollow, block); returns whether there was one."""
    result = await tx.session.execute(
        delete(Follow).where(Follow.account_id == actor_id, Follow.target_account_id == target_id)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    await _count_follow(tx, actor_id, target_id, -1)
    # Only followed accounts can be endorsed (Mastodon's ``Follow#remove_endorsements``).
    await tx.session.execute(
        delete(AccountPin).where(AccountPin.account_id == actor_id, AccountPin.target_account_id == target_id)
    )
    await withdraw(tx, target_id, actor_id, "follow", None)
    tx.emit(FollowChanged(actor_id, target_id, following=False))
    return True


async def follow(
    db: Database,
    actor_id: int,
    target_id: int,
    *,
    reblogs: bool | None = None,
    notify_posts: bool | None = None,
    languages: list[str] | None = None,
) -> None:
    """Follow an account, or ask to when it is locked; calling again updates the options."""
    if actor_id == target_id:
        raise Forbidden("You cannot follow yourself")
    langs = " ".join(languages) if languages else None
    row = _follow_row(actor_id, target_id, True if reblogs is None else reblogs, bool(notify_posts), langs)
    async with db.write() as tx:
        before = {"actor": actor_id, "target": target_id}
        # On PostgreSQL the follow is inserted by the same statement when nothing prevents it.
        at_once = tx.session.get_bind().dialect.name == "postgresql"
        found = await run(
            tx.session,
            _FOLLOW_UNLESS_PREVENTED if at_once else _BEFORE_FOLLOW,
            {**before, **row} if at_once else before,
        )
        if not found:
            raise NotFound()
        locked, blocked, follow_id, request_id, *inserted = found[0]
        if blocked is not None:
            raise Forbidden("This action is not allowed")
        existing: Follow | FollowRequest | None = None
        if follow_id is not None:
            existing = await tx.session.get(Follow, follow_id)
        elif request_id is not None:
            existing = await tx.session.get(FollowRequest, request_id)
        if existing is not None:
            if reblogs is not None:
                existing.show_reblogs = reblogs
            if notify_posts is not None:
                existing.notify = notify_posts
            if languages is not None:
                existing.languages = langs
            return
        if locked:
            request = FollowRequest(
                account_id=actor_id,
                target_account_id=target_id,
                show_reblogs=row["show_reblogs"],
                notify=row["notify"],
                languages=langs,
            )
            if await _inserted(tx, request):  # else asked a moment ago by a concurrent call
                await notify(tx, target_id, actor_id, "follow_request")
            return
        if not at_once:
            await _add_follow(tx, row, checked=True)
        elif inserted[0] is not None:  # else followed a moment ago by a concurrent call
            await _counted(tx, actor_id, target_id)


async def unfollow(db: Database, actor_id: int, target_id: int) -> None:
    """Stop following, or withdraw a pending request (a no-op when neither exists)."""
    async with db.write() as tx:
        if await tx.session.get(Account, target_id) is None:
            raise NotFound()
        if not await remove_follow(tx, actor_id, target_id):
            result = await tx.session.execute(
                delete(FollowRequest).where(
                    FollowRequest.account_id == actor_id, FollowRequest.target_account_id == target_id
                )
            )
            if result.rowcount:  # type: ignore[attr-defined]
                await withdraw(tx, target_id, actor_id, "follow_request", None)


async def _take_request(tx: Tx, target_id: int, requester_id: int) -> FollowRequest:
    request = await tx.session.scalar(
        select(FollowRequest).where(
            FollowRequest.account_id == requester_id, FollowRequest.target_account_id == target_id
        )
    )
    if request is None:
        raise NotFound()
    await tx.session.delete(request)
    await withdraw(tx, target_id, requester_id, "follow_request", None)
    return request


async def authorize_follow_request(db: Database, target_id: int, requester_id: int) -> None:
    """The locked account accepts: the request becomes a follow."""
    async with db.write() as tx:
        request = await _take_request(tx, target_id, requester_id)
        row = _follow_row(requester_id, target_id, request.show_reblogs, request.notify, request.languages)
        await _add_follow(tx, row)


async def reject_follow_request(db: Database, target_id: int, requester_id: int) -> None:
    async with db.write() as tx:
        await _take_request(tx, target_id, requester_id)
