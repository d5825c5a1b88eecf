"""Following hashtags (their public notes join one's home timeline) and featuring them on one's profile."""

from __future__ import annotations

from sqlalchemy import delete, func, select

from cordee.actions.errors import NotFound, ValidationFailed
from cordee.actions.statuses import tag_ids
from cordee.db.engine import Database, Tx
from cordee.db.tables import Tag
from cordee.db.tables_curation import FeaturedTag, TagFollow
from cordee.domain.text import normalize_tag
from cordee.queries.tags import valid_tag_name

MAX_FEATURED_TAGS = 10


def checked_name(name: str) -> str:
    name = name.strip().removeprefix("#")
    if not valid_tag_name(name):
        raise ValidationFailed(f"Validation failed: {name!r} is not a valid hashtag")
    return name


async def ensure_tag(tx: Tx, name: str) -> int:
    """The id of the tag named so, created on first use (as posting a note with it would)."""
    [tag_id] = await tag_ids(tx, [name])
    return tag_id


async def follow_tag(db: Database, actor_id: int, name: str) -> int:
    """Follow a hashtag (again: no-op); returns the tag's id."""
    name = checked_name(name)
    async with db.write() as tx:
        tag_id = await ensure_tag(tx, name)
        followed = await tx.session.scalar(
            select(TagFollow.id).where(TagFollow.account_id == actor_id, TagFollow.tag_id == tag_id)
        )
        if followed is None:
            tx.session.add(TagFollow(account_id=actor_id, tag_id=tag_id))
        return tag_id


async def unfollow_tag(db: Database, actor_id: int, name: str) -> int:
    """Stop following a hashtag; an unknown hashtag is not found."""
    async with db.write() as tx:
        tag_id = await tx.session.scalar(select(Tag.id).where(Tag.name == normalize_tag(checked_name(name))))
        if tag_id is None:
            raise NotFound()
        await tx.session.execute(
            delete(TagFollow).where(TagFollow.account_id == actor_id, TagFollow.tag_id == tag_id)
        )
        return tag_id


async def feature_tag(db: Database, actor_id: int, name: str, *, again_ok: bool = False) -> int:
    """Feature a hashtag on one's profile; returns the FeaturedTag id. Featuring it twice is
    refused, as in Mastodon (``again_ok`` makes it a no-op, for ``POST /tags/:name/feature``)."""
    name = checked_name(name)
    async with db.write() as tx:
        tag_id = await ensure_tag(tx, name)
        existing = await tx.session.scalar(
            select(FeaturedTag.id).where(FeaturedTag.account_id == actor_id, FeaturedTag.tag_id == tag_id)
        )
        if existing is not None:
            if again_ok:
                return existing
            raise ValidationFailed("Validation failed: Tag has already been featured")
        count = await tx.session.scalar(
            select(func.count(FeaturedTag.id)).where(FeaturedTag.account_id == actor_id)
        )
        if (count or 0) >= MAX_FEATURED_TAGS:
            raise ValidationFailed(
                f"Validation failed: You cannot feature more than {MAX_FEATURED_TAGS} hashtags"
            )
        row = FeaturedTag(account_id=actor_id, tag_id=tag_id)
        tx.session.add(row)
        await tx.session.flush()
        return row.id


async def unfeature(db: Database, actor_id: int, featured_id: int) -> None:
    async with db.write() as tx:
        result = await tx.session.execute(
            delete(FeaturedTag).where(FeaturedTag.id == featured_id, FeaturedTag.account_id == actor_id)
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            raise NotFound()


async def unfeature_tag(db: Database, actor_id: int, name: str) -> int:
    """Stop featuring a hashtag, by name; returns the tag id (a no-op when it was not featured)."""
    async with db.write() as tx:
        tag_id = await tx.session.scalar(select(Tag.id).where(Tag.name == normalize_tag(checked_name(name))))
        if tag_id is None:
            raise NotFound()
        await tx.session.execute(
            delete(FeaturedTag).where(FeaturedTag.account_id == actor_id, FeaturedTag.tag_id == tag_id)
        )
        return tag_id
