"""Following ("listening to"), follow requests for locked accounts, and unfollowing."""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from cordee.actions._counters import shifted
from cordee.actions._notify import notify, withdraw
from cordee.actions.errors import Forbidden, NotFound
from cordee.db.engine import Database, Tx
from cordee.db.tables import Account, Block, Follow, FollowRequest
from cordee.events.types import FollowChanged


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


async def _count_follow(tx: Tx, actor_id: int, target_id: int, delta: int) -> None:
    """Move both counters, locking the two account rows in id order so that crossing follows
    (A→B and B→A at once) cannot deadlock."""
    changes = {
        actor_id: {"following_count": shifted(Account.following_count, delta)},
        target_id: {"followers_count": shifted(Account.followers_count, delta)},
    }
    for account_id in sorted(changes):
        await tx.session.execute(
            update(Account).where(Account.id == account_id).values(**changes[account_id])
        )


async def _add_follow(
    tx: Tx, actor_id: int, target_id: int, show_reblogs: bool, notify_posts: bool, languages: str | None
) -> bool:
    follow = Follow(
        account_id=actor_id,
        target_account_id=target_id,
        show_reblogs=show_reblogs,
        notify=notify_posts,
        languages=languages,
    )
    if not await _inserted(tx, follow):
        return False
    await _count_follow(tx, actor_id, target_id, +1)
    tx.emit(FollowChanged(actor_id, target_id, following=True))
    return True


async def remove_follow(tx: Tx, actor_id: int, target_id: int) -> bool:
    """End a follow inside a transaction (unfollow, block); returns whether there was one."""
    result = await tx.session.execute(
        delete(Follow).where(Follow.account_id == actor_id, Follow.target_account_id == target_id)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    await _count_follow(tx, actor_id, target_id, -1)
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
    async with db.write() as tx:
        target = await tx.session.get(Account, target_id)
        if target is None:
            raise NotFound()
        blocked = await tx.session.scalar(
            select(Block.id).where(
                ((Block.account_id == actor_id) & (Block.target_account_id == target_id))
                | ((Block.account_id == target_id) & (Block.target_account_id == actor_id))
            )
        )
        if blocked is not None:
            raise Forbidden("This action is not allowed")
        existing: Follow | FollowRequest | None = await tx.session.scalar(
            select(Follow).where(Follow.account_id == actor_id, Follow.target_account_id == target_id)
        )
        if existing is None:
            existing = await tx.session.scalar(
                select(FollowRequest).where(
                    FollowRequest.account_id == actor_id, FollowRequest.target_account_id == target_id
                )
            )
        if existing is not None:
            if reblogs is not None:
                existing.show_reblogs = reblogs
            if notify_posts is not None:
                existing.notify = notify_posts
            if languages is not None:
                existing.languages = langs
            return
        show_reblogs = True if reblogs is None else reblogs
        if target.locked:
            request = FollowRequest(
                account_id=actor_id,
                target_account_id=target_id,
                show_reblogs=show_reblogs,
                notify=bool(notify_posts),
                languages=langs,
            )
            if await _inserted(tx, request):  # else asked a moment ago by a concurrent call
                await notify(tx, target_id, actor_id, "follow_request")
            return
        if await _add_follow(tx, actor_id, target_id, show_reblogs, bool(notify_posts), langs):
            await notify(tx, target_id, actor_id, "follow")


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
        await _add_follow(
            tx, requester_id, target_id, request.show_reblogs, request.notify, request.languages
        )
        await notify(tx, target_id, requester_id, "follow")


async def reject_follow_request(db: Database, target_id: int, requester_id: int) -> None:
    async with db.write() as tx:
        await _take_request(tx, target_id, requester_id)
