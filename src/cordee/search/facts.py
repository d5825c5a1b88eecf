"""``NoteFacts`` of notes in the database, in one batch (for live columns and for tests that check
the matcher against the database search)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.db.tables import Account, Mention, Status, StatusTag, Tag
from cordee.db.tables_media import MediaAttachment
from cordee.search.match import NoteFacts


def acct_of(username: str, domain: str | None) -> str:
    """The acct the query language uses: ``user`` locally, ``user@domain`` for a remote account."""
    return f"{username.lower()}@{domain.lower()}" if domain else username.lower()


async def note_facts(session: AsyncSession, status_ids: Iterable[int]) -> dict[int, NoteFacts]:
    """The facts of these notes (missing ids and boosts are left out); four statements."""
    ids = set(status_ids)
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
            .where(Status.id.in_(ids), Status.reblog_of_id.is_(None))
        )
    ).all()
    tags: dict[int, set[str]] = defaultdict(set)
    for status_id, name in await session.execute(
        select(StatusTag.status_id, Tag.name)
        .join(Tag, Tag.id == StatusTag.tag_id)
        .where(StatusTag.status_id.in_(ids))
    ):
        tags[status_id].add(name)
    mentions: dict[int, set[str]] = defaultdict(set)
    for status_id, username, domain in await session.execute(
        select(Mention.status_id, Account.username, Account.domain)
        .join(Account, Account.id == Mention.account_id)
        .where(Mention.status_id.in_(ids))
    ):
        mentions[status_id].add(acct_of(username, domain))
    with_media = set(
        await session.scalars(
            select(MediaAttachment.status_id).where(MediaAttachment.status_id.in_(ids)).distinct()
        )
    )
    return {
        r.id: NoteFacts(
            text=r.text,
            language=r.language,
            tags=frozenset(tags[r.id]),
            author=acct_of(r.username, r.domain),
            created_at=r.created_at,
            has_media=r.id in with_media,
            mentions=frozenset(mentions[r.id]),
            spoiler_text=r.spoiler_text,
        )
        for r in rows
    }
