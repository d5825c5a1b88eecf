"""What the in-memory matcher needs to know of notes (``search.match.NoteFacts``), loaded in a
fixed handful of statements for a batch of notes."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.api.mastodon.serializers.accounts import acct_of
from cordee.db.tables import Account, Mention, Status, StatusTag, Tag
from cordee.db.tables_media import MediaAttachment
from cordee.search.match import NoteFacts


async def note_facts(session: AsyncSession, status_ids: Sequence[int]) -> dict[int, NoteFacts]:
    ids = list(dict.fromkeys(status_ids))
    if not ids:
        return {}
    rows = (
        await session.execute(
            select(
                Status.id,
                Status.text,
                Status.spoiler_text,
                Status.language,
                Status.created_at,
                Account.username,
                Account.domain,
            )
            .join(Account, Account.id == Status.account_id)
            .where(Status.id.in_(ids))
        )
    ).all()
    tags: dict[int, set[str]] = {i: set() for i in ids}
    for status_id, name in await session.execute(
        select(StatusTag.status_id, Tag.name)
        .join(Tag, Tag.id == StatusTag.tag_id)
        .where(StatusTag.status_id.in_(ids))
    ):
        tags[status_id].add(name)
    mentions: dict[int, set[str]] = {i: set() for i in ids}
    for status_id, username, domain in await session.execute(
        select(Mention.status_id, Account.username, Account.domain)
        .join(Account, Account.id == Mention.account_id)
        .where(Mention.status_id.in_(ids))
    ):
        mentions[status_id].add(acct_of(username, domain).lower())
    media = set(
        await session.scalars(
            select(MediaAttachment.status_id).where(MediaAttachment.status_id.in_(ids)).distinct()
        )
    )
    return {
        r.id: NoteFacts(
            text=r.text,
            language=r.language,
            tags=frozenset(tags[r.id]),
            author=acct_of(r.username, r.domain).lower(),
            created_at=r.created_at,
            has_media=r.id in media,
            mentions=frozenset(mentions[r.id]),
            spoiler_text=r.spoiler_text,
        )
        for r in rows
    }
