"""Blocks, mutes and per-user domain blocks."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, delete, or_, select

from cordee.actions.errors import Forbidden, NotFound, ValidationFailed
from cordee.actions.follows import remove_follow
from cordee.db.engine import Database
from cordee.db.tables import Account, AccountDomainBlock, Block, FollowRequest, Mute, Notification
from cordee.db.types import utcnow
from cordee.events.types import BlockChanged, MuteChanged

MAX_MUTE_SECONDS = 10 * 365 * 24 * 3600


async def block(db: Database, actor_id: int, target_id: int) -> None:
    """Block an account: follows and follow requests both ways end, and neither sees the other."""
    if actor_id == target_id:
        raise Forbidden("You cannot block yourself")
    async with db.write() as tx:
        if await tx.session.get(Account, target_id) is None:
            raise NotFound()
        exists_ = await tx.session.scalar(
            select(Block.id).where(Block.account_id == actor_id, Block.target_account_id == target_id)
        )
        if exists_ is not None:
            return
        tx.session.add(Block(account_id=actor_id, target_account_id=target_id))
        await remove_follow(tx, actor_id, target_id)
        await remove_follow(tx, target_id, actor_id)
        await tx.session.execute(
            delete(FollowRequest).where(
                or_(
                    and_(FollowRequest.account_id == actor_id, FollowRequest.target_account_id == target_id),
                    and_(FollowRequest.account_id == target_id, FollowRequest.target_account_id == actor_id),
                )
            )
        )
        # What the blocked account caused no longer shows in the blocker's notifications.
        await tx.session.execute(
            delete(Notification).where(
                Notification.account_id == actor_id, Notification.from_account_id == target_id
            )
        )
        tx.emit(BlockChanged(actor_id, target_id, blocking=True))


async def unblock(db: Database, actor_id: int, target_id: int) -> None:
    async with db.write() as tx:
        if await tx.session.get(Account, target_id) is None:
            raise NotFound()
        result = await tx.session.execute(
            delete(Block).where(Block.account_id == actor_id, Block.target_account_id == target_id)
        )
        if result.rowcount:  # type: ignore[attr-defined]
            tx.emit(BlockChanged(actor_id, target_id, blocking=False))


async def mute(
    db: Database, actor_id: int, target_id: int, *, notifications: bool = True, duration: int = 0
) -> None:
    """Mute an account (its notes leave your timelines); ``duration`` in seconds, 0 = forever.
    Muting again updates the options, as Mastodon does."""
    if actor_id == target_id:
        raise Forbidden("You cannot mute yourself")
    if duration < 0 or duration > MAX_MUTE_SECONDS:
        raise ValidationFailed("Validation failed: duration must be between 0 and ten years (in seconds)")
    expires_at = utcnow() + timedelta(seconds=duration) if duration else None
    async with db.write() as tx:
        if await tx.session.get(Account, target_id) is None:
            raise NotFound()
        existing = await tx.session.scalar(
            select(Mute).where(Mute.account_id == actor_id, Mute.target_account_id == target_id)
        )
        if existing is None:
            tx.session.add(
                Mute(
                    account_id=actor_id,
                    target_account_id=target_id,
                    hide_notifications=notifications,
                    expires_at=expires_at,
                )
            )
        else:
            existing.hide_notifications = notifications
            existing.expires_at = expires_at
        tx.emit(MuteChanged(actor_id, target_id, muting=True))


async def unmute(db: Database, actor_id: int, target_id: int) -> None:
    async with db.write() as tx:
        if await tx.session.get(Account, target_id) is None:
            raise NotFound()
        result = await tx.session.execute(
            delete(Mute).where(Mute.account_id == actor_id, Mute.target_account_id == target_id)
        )
        if result.rowcount:  # type: ignore[attr-defined]
            tx.emit(MuteChanged(actor_id, target_id, muting=False))


def _normalize_domain(domain: str) -> str:
    value = domain.strip().lower().removeprefix("https://").removeprefix("http://").strip("/")
    if not value or "/" in value or " " in value or "." not in value:
        raise ValidationFailed("Validation failed: domain must be a domain name such as example.org")
    return value


async def block_domain(db: Database, actor_id: int, domain: str) -> None:
    value = _normalize_domain(domain)
    async with db.write() as tx:
        found = await tx.session.scalar(
            select(AccountDomainBlock.id).where(
                AccountDomainBlock.account_id == actor_id, AccountDomainBlock.domain == value
            )
        )
        if found is None:
            tx.session.add(AccountDomainBlock(account_id=actor_id, domain=value))


async def unblock_domain(db: Database, actor_id: int, domain: str) -> None:
    value = _normalize_domain(domain)
    async with db.write() as tx:
        await tx.session.execute(
            delete(AccountDomainBlock).where(
                AccountDomainBlock.account_id == actor_id, AccountDomainBlock.domain == value
            )
        )
