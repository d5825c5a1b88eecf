"""Tag and FeaturedTag entities, with usage history and the viewer's following/featuring flags."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cordee.api.mastodon.serializers.common import iso_day
from cordee.config import Settings
from cordee.db.tables import Account, Tag
from cordee.db.tables_curation import FeaturedTag
from cordee.queries import tags as tag_queries


def tag_url(settings: Settings, name: str) -> str:
    return f"{settings.base_url}/tags/{name.casefold()}"


async def render_tags(
    session: AsyncSession, settings: Settings, viewer_id: int | None, tags: Sequence[Tag]
) -> list[dict[str, Any]]:
    """Tag entities in four queries whatever their number."""
    return await for_viewer(session, viewer_id, await tag_bodies(session, settings, tags))


async def tag_bodies(session: AsyncSession, settings: Settings, tags: Sequence[Tag]) -> list[dict[str, Any]]:
    """Tag entities as an anonymous reader sees them (one query for their histories)."""
    history = await tag_queries.histories(session, [t.id for t in tags])
    return [
        {
            "id": str(tag.id),
            "name": tag.name,  # lowered, like the tags of Status entities
            "url": tag_url(settings, tag.name),
            "history": history[tag.id],
        }
        for tag in tags
    ]


async def for_viewer(
    session: AsyncSession, viewer_id: int | None, bodies: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """``tag_bodies``' entities with the viewer's ``following`` and ``featuring`` (none for an
    anonymous reader)."""
    if viewer_id is None:
        return list(bodies)
    ids = [int(body["id"]) for body in bodies]
    following = await tag_queries.followed_tag_ids(session, viewer_id, ids)
    featuring = await tag_queries.featured_tag_ids(session, viewer_id, ids)
    return [
        {**body, "following": int(body["id"]) in following, "featuring": int(body["id"]) in featuring}
        for body in bodies
    ]


def unused_tag(settings: Settings, name: str, signed_in: bool) -> dict[str, Any]:
    """A valid hashtag nobody used yet (Mastodon answers it too, with an empty id)."""
    entity: dict[str, Any] = {
        "id": "",
        "name": name.casefold(),
        "url": tag_url(settings, name),
        "history": tag_queries.history_entries(tag_queries.day_starts(), [(0, 0)] * tag_queries.HISTORY_DAYS),
    }
    if signed_in:
        entity.update(following=False, featuring=False)
    return entity


async def render_featured_tags(
    session: AsyncSession, settings: Settings, account: Account, rows: Sequence[tuple[FeaturedTag, Tag]]
) -> list[dict[str, Any]]:
    uses = await tag_queries.featured_uses(session, account.id, [tag.id for _, tag in rows])
    return [
        {
            "id": str(featured.id),
            "name": tag.name,
            "url": f"{settings.base_url}/@{account.username}/tagged/{tag.name}",
            "statuses_count": str(uses[tag.id].statuses_count),
            "last_status_at": iso_day(uses[tag.id].last_status_at),
        }
        for featured, tag in rows
    ]
