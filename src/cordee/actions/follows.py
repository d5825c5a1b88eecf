"""Following ("listening to") and unfollowing."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from cordee.actions._counters import shifted
from cordee.actions._notify import notify, withdraw
from cordee.actions.errors import Forbidden, NotFound
from cordee.db.engine import Database
from cordee.db.tables import Account, Follow
from cordee.events.types import FollowChanged


async def follow(
    db: Database,
    actor_id: int,
    target_id: int,
    *,
    reblogs: bool | None = None,
    notify_posts: bool | None = None,
    languages: list[str] | None = None,
) -> None:
    """Follow an account, or change the options of an existing follow (as Mastodon's API does)."""
    if actor_id == target_id:
        raise Forbidden("You cannot follow yourself")
    async with db.write() as tx:
        if await tx.session.get(Account, target_id) is None:
            raise NotFound()
        existing = await tx.session.scalar(
            select(Follow).where(Follow.account_id == actor_id, Follow.target_account_id == target_id)
        )
        if existing is not None:
            if reblogs is not None:
                existing.show_reblogs = reblogs
            if notify_posts is not None:
                existing.notify = notify_posts
            if languages is not None:
                existing.languages = " ".join(languages) or None
            return
        tx.session.add(
            Follow(
                account_id=actor_id,
                target_account_id=target_id,
                show_reblogs=True if reblogs is None else reblogs,
                notify=bool(notify_posts),
                languages=" ".join(languages) if languages else None,
            )
        )
        await tx.session.execute(
            update(Account).where(Account.id == actor_id).values(following_count=Account.following_count + 1)
        )
        await tx.session.execute(
            update(Account).where(Account.id == target_id).values(followers_count=Account.followers_count + 1)
        )
        await notify(tx, target_id, actor_id, "follow")
        tx.emit(FollowChanged(actor_id, target_id, following=True))


async def unfollow(db: Database, actor_id: int, target_id: int) -> None:
    """Stop following (a no-op when not following)."""
    async with db.write() as tx:
        if await tx.session.get(Account, target_id) is None:
            raise NotFound()
        result = await tx.session.execute(
            delete(Follow).where(Follow.account_id == actor_id, Follow.target_account_id == target_id)
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            return
        await tx.session.execute(
            update(Account)
            .where(Account.id == actor_id)
            .values(following_count=shifted(Account.following_count, -1))
        )
        await tx.session.execute(
            update(Account)
            .where(Account.id == target_id)
            .values(followers_count=shifted(Account.followers_count, -1))
        )
        await withdraw(tx, target_id, actor_id, "follow", None)
        tx.emit(FollowChanged(actor_id, target_id, following=False))
