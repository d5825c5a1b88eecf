"""Status entities, rendered for one viewer in a handful of queries per page."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.api.mastodon.serializers.accounts import acct, render_account
from cordee.api.mastodon.serializers.common import iso
from cordee.api.mastodon.serializers.filters import apply_filters
from cordee.api.mastodon.serializers.media import media_by_status
from cordee.api.mastodon.serializers.polls import polls_by_status
from cordee.config import Settings
from cordee.db.tables import Account, Application, Favourite, Mention, Status, StatusTag, Tag
from cordee.queries.accounts import load_many as load_accounts
from cordee.queries.personal import bookmarked_and_pinned


def status_url(settings: Settings, account: Account, status_id: int) -> str:
    return f"{settings.base_url}/@{account.username}/{status_id}"


def status_uri(settings: Settings, account: Account, status_id: int) -> str:
    return f"{settings.base_url}/users/{account.username}/statuses/{status_id}"


def tag_entity(settings: Settings, display_name: str) -> dict[str, Any]:
    return {"name": display_name.casefold(), "url": f"{settings.base_url}/tags/{display_name.casefold()}"}


async def render_statuses(
    session: AsyncSession,
    settings: Settings,
    viewer_id: int | None,
    statuses: Sequence[Status],
    *,
    with_source_text: bool = False,
    filter_context: str | None = None,
) -> list[dict[str, Any]]:
    """Status entities for ``viewer_id``. With ``filter_context`` (home, notifications, public,
    thread, account), the viewer's filters apply: ``hide`` leaves notes out, others fill ``filtered``."""
    filtered: dict[int, list[dict[str, Any]]] = {}
    if filter_context is not None and viewer_id is not None:
        statuses, filtered = await apply_filters(session, viewer_id, statuses, filter_context)
    if not statuses:
        return []
    original_ids = {s.reblog_of_id for s in statuses if s.reblog_of_id is not None}
    originals = (
        {s.id: s for s in await session.scalars(select(Status).where(Status.id.in_(original_ids)))}
        if original_ids
        else {}
    )
    every = [*statuses, *originals.values()]
    ids = [s.id for s in every]

    mentions: dict[int, list[int]] = defaultdict(list)
    for status_id, account_id in await session.execute(
        select(Mention.status_id, Mention.account_id).where(Mention.status_id.in_(ids))
    ):
        mentions[status_id].append(account_id)
    accounts = await load_accounts(
        session, [s.account_id for s in every] + [a for ms in mentions.values() for a in ms]
    )
    tags: dict[int, list[str]] = defaultdict(list)
    for status_id, display in await session.execute(
        select(StatusTag.status_id, Tag.display_name)
        .join(Tag, Tag.id == StatusTag.tag_id)
        .where(StatusTag.status_id.in_(ids))
    ):
        tags[status_id].append(display)
    app_ids = {s.application_id for s in every if s.application_id is not None}
    apps = (
        {a.id: a for a in await session.scalars(select(Application).where(Application.id.in_(app_ids)))}
        if app_ids
        else {}
    )
    media = await media_by_status(session, settings, ids)
    polls = await polls_by_status(session, viewer_id, ids)

    favourited: set[int] = set()
    reblogged: set[int] = set()
    bookmarked: set[int] = set()
    pinned: set[int] = set()
    if viewer_id is not None:
        bookmarked, pinned = await bookmarked_and_pinned(session, viewer_id, ids)
        favourited = set(
            await session.scalars(
                select(Favourite.status_id).where(
                    Favourite.account_id == viewer_id, Favourite.status_id.in_(ids)
                )
            )
        )
        reblogged = set(
            await session.scalars(
                select(Status.reblog_of_id).where(
                    Status.account_id == viewer_id, Status.reblog_of_id.in_(ids)
                )
            )
        )

    def one(status: Status, reblog: dict[str, Any] | None) -> dict[str, Any]:
        author = accounts[status.account_id]
        app = apps.get(status.application_id) if status.application_id else None
        entity: dict[str, Any] = {
            "id": str(status.id),
            "uri": status_uri(settings, author, status.id),
            "url": status_url(settings, author, status.id) if reblog is None else None,
            "created_at": iso(status.created_at),
            "edited_at": iso(status.edited_at),
            "account": render_account(settings, author),
            "content": status.content,
            "visibility": status.visibility,
            "sensitive": status.sensitive,
            "spoiler_text": status.spoiler_text,
            "media_attachments": media.get(status.id, []),
            "application": {"name": app.name, "website": app.website}
            if app is not None and status.account_id == viewer_id
            else None,
            "mentions": [
                {
                    "id": str(a.id),
                    "username": a.username,
                    "acct": acct(settings, a),
                    "url": f"{settings.base_url}/@{a.username}",
                }
                for a in (accounts[i] for i in mentions.get(status.id, []))
            ],
            "tags": [tag_entity(settings, t) for t in tags.get(status.id, [])],
            "emojis": [],
            "reblogs_count": status.reblogs_count,
            "favourites_count": status.favourites_count,
            "replies_count": status.replies_count,
            "quotes_count": 0,
            "in_reply_to_id": str(status.in_reply_to_id) if status.in_reply_to_id else None,
            "in_reply_to_account_id": str(status.in_reply_to_account_id)
            if status.in_reply_to_account_id
            else None,
            "reblog": reblog,
            "poll": polls.get(status.id),
            "card": None,
            "language": status.language,
            "text": status.text if with_source_text else None,
            "filtered": filtered.get(status.id, []),
        }
        if viewer_id is not None:
            entity.update(
                favourited=status.id in favourited,
                reblogged=status.id in reblogged,
                muted=False,
                bookmarked=status.id in bookmarked,
            )
            if status.account_id == viewer_id and status.reblog_of_id is None:
                entity["pinned"] = status.id in pinned
        return entity

    rendered = []
    for status in statuses:
        inner = None
        if status.reblog_of_id is not None:
            inner = one(originals[status.reblog_of_id], None)
        rendered.append(one(status, inner))
    return rendered


async def render_status(
    session: AsyncSession, settings: Settings, viewer_id: int | None, status: Status, **kw: Any
) -> dict[str, Any]:
    return (await render_statuses(session, settings, viewer_id, [status], **kw))[0]
