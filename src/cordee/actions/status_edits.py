"""Editing one's own note, keeping every revision (Mastodon's edit history)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, or_, select, update

from cordee.actions._notify import notify, withdraw
from cordee.actions.errors import Forbidden, NotFound, ValidationFailed
from cordee.actions.media import NOT_READY, attach_media, check_media_ids
from cordee.actions.polls import NewPoll, check_poll, create_poll
from cordee.actions.statuses import Mentioned, check_text, compose_content, mentioned_accounts, tag_ids
from cordee.config import Settings
from cordee.db.engine import Database, Tx
from cordee.db.tables import Mention, Status, StatusTag
from cordee.db.tables_media import MediaAttachment
from cordee.db.tables_personal import StatusEdit
from cordee.db.tables_polls import Poll
from cordee.db.types import utcnow
from cordee.domain.text import normalize_tag
from cordee.events.types import StatusUpdated
from cordee.queries.visibility import visible_to
from cordee.search import index as search_index


@dataclass(frozen=True)
class StatusChanges:
    """The new state of a note: like Mastodon's ``PUT``, a full replacement of the text, the
    content warning, the sensitive flag, the media and the poll; ``language`` None keeps it."""

    text: str
    spoiler_text: str = ""
    sensitive: bool = False
    language: str | None = None
    #: The note's media after the edit, in order: some it has, or unattached ones of the author's.
    media_ids: tuple[int, ...] = ()
    poll: NewPoll | None = None


async def own_status(tx: Tx, actor_id: int, status_id: int) -> Status:
    """One's own note (not a boost), for changing it: 404 if the actor cannot see it, 403 if it is
    someone else's note they can see."""
    status = await tx.session.scalar(
        select(Status).where(Status.id == status_id, Status.reblog_of_id.is_(None), visible_to(actor_id))
    )
    if status is None:
        raise NotFound()
    if status.account_id != actor_id:
        raise Forbidden("This action is not allowed")
    return status


async def _attachments(tx: Tx, status_id: int) -> tuple[list[int] | None, list[str] | None]:
    media = list(
        await tx.session.scalars(
            select(MediaAttachment.id)
            .where(MediaAttachment.status_id == status_id)
            .order_by(MediaAttachment.position, MediaAttachment.id)
        )
    )
    options = await tx.session.scalar(select(Poll.options).where(Poll.status_id == status_id))
    return (media or None), (list(options) if options is not None else None)


async def _replace_media(tx: Tx, status: Status, media_ids: tuple[int, ...]) -> None:
    """Give the note exactly these media, in this order. Those it loses are detached (the
    periodic clean-up removes them after a while); new ones must be the author's and unattached."""
    rows = await tx.session.scalars(
        select(MediaAttachment)
        .where(
            MediaAttachment.id.in_(media_ids),
            MediaAttachment.account_id == status.account_id,
            or_(MediaAttachment.status_id.is_(None), MediaAttachment.status_id == status.id),
        )
        .with_for_update()
    )
    found = {m.id: m for m in rows}
    missing = [str(i) for i in media_ids if i not in found]
    if missing:
        raise ValidationFailed(
            f"Validation failed: Media {', '.join(missing)} not found or already attached to another note"
        )
    if any(m.processing != "complete" for m in found.values()):
        raise ValidationFailed(NOT_READY)  # a video or audio file still being processed
    await tx.session.execute(
        update(MediaAttachment)
        .where(MediaAttachment.status_id == status.id, MediaAttachment.id.not_in(media_ids))
        .values(status_id=None)
    )
    await attach_media(tx, status.id, [found[i] for i in media_ids])


def _same_poll(current: Poll | None, wanted: NewPoll | None) -> bool:
    if current is None or wanted is None:
        return current is None and wanted is None
    return (list(wanted.options), wanted.multiple, wanted.hide_totals) == (
        list(current.options),
        current.multiple,
        current.hide_totals,
    )


async def _replace_poll(tx: Tx, status: Status, current: Poll | None, wanted: NewPoll | None) -> None:
    """A changed poll starts afresh (its votes no longer mean anything), as in Mastodon."""
    if current is not None:
        await tx.session.delete(current)
        await tx.session.flush()
    if wanted is not None:
        await create_poll(tx, status.id, status.account_id, wanted)


async def _snapshot(tx: Tx, status: Status, at: datetime) -> None:
    media_ids, poll_options = await _attachments(tx, status.id)
    tx.session.add(
        StatusEdit(
            status_id=status.id,
            account_id=status.account_id,
            text=status.text,
            content=status.content,
            spoiler_text=status.spoiler_text,
            sensitive=status.sensitive,
            language=status.language,
            media_ids=media_ids,
            poll_options=poll_options,
            created_at=at,
        )
    )
    await tx.session.flush()


async def _replace_mentions(tx: Tx, status: Status, mentioned: dict[str, Mentioned]) -> tuple[int, ...]:
    """Make the note's mentions those of its new text; newly mentioned people are notified, and
    people no longer mentioned lose the notification (and, for a private note, their access)."""
    now_mentioned = tuple(dict.fromkeys(a.id for a in mentioned.values()))
    before = set(await tx.session.scalars(select(Mention.account_id).where(Mention.status_id == status.id)))
    removed = before - set(now_mentioned)
    if removed:
        await tx.session.execute(
            delete(Mention).where(Mention.status_id == status.id, Mention.account_id.in_(removed))
        )
        for account_id in sorted(removed):
            await withdraw(tx, account_id, status.account_id, "mention", status.id)
    added = [a for a in now_mentioned if a not in before]
    tx.session.add_all(Mention(status_id=status.id, account_id=a) for a in added)
    await tx.session.flush()
    for account_id in added:
        await notify(tx, account_id, status.account_id, "mention", status.id)
    return now_mentioned


async def edit_status(
    db: Database, settings: Settings, actor_id: int, status_id: int, changes: StatusChanges
) -> int:
    """Change one's own note; returns its id. Records the revision (and, on the first edit, the
    original), re-reads mentions and tags, tells those who boosted it (an ``update``
    notification), and emits ``StatusUpdated``. Submitting the note unchanged changes nothing."""
    text = changes.text.strip()
    spoiler_text = changes.spoiler_text.strip()
    media_ids = check_media_ids(changes.media_ids, with_poll=changes.poll is not None)
    poll = check_poll(changes.poll) if changes.poll is not None else None
    entities = check_text(settings, text, spoiler_text, changes.language, blank_ok=bool(media_ids))
    mentioned = await mentioned_accounts(db, settings, entities)
    async with db.write() as tx:
        status = await own_status(tx, actor_id, status_id)
        current_media, _ = await _attachments(tx, status.id)
        current_poll = await tx.session.scalar(select(Poll).where(Poll.status_id == status.id))
        media_changed = list(media_ids) != (current_media or [])
        poll_changed = not _same_poll(current_poll, poll)
        sensitive = changes.sensitive or bool(spoiler_text)
        language = changes.language or status.language
        if (
            not media_changed
            and not poll_changed
            and (text, spoiler_text, sensitive, language)
            == (
                status.text,
                status.spoiler_text,
                status.sensitive,
                status.language,
            )
        ):
            return status.id

        now = utcnow()
        has_history = await tx.session.scalar(
            select(StatusEdit.id).where(StatusEdit.status_id == status.id).limit(1)
        )
        if has_history is None:
            await _snapshot(tx, status, status.created_at)

        if media_changed:
            await _replace_media(tx, status, media_ids)
        if poll_changed:
            await _replace_poll(tx, status, current_poll, poll)
        content = compose_content(settings, text, entities, mentioned)
        status.text, status.content, status.spoiler_text = text, content, spoiler_text
        status.sensitive, status.language, status.edited_at = sensitive, language, now
        await tx.session.flush()
        await search_index.note_written(tx, status, new=False)
        mentioned_ids = await _replace_mentions(tx, status, mentioned)

        tag_names = [e.value for e in entities if e.kind == "hashtag"]
        await tx.session.execute(delete(StatusTag).where(StatusTag.status_id == status.id))
        tx.session.add_all(StatusTag(status_id=status.id, tag_id=t) for t in await tag_ids(tx, tag_names))
        await _snapshot(tx, status, now)

        # As in Mastodon: those who boosted the note hear of the change (favourites do not).
        boosters = await tx.session.scalars(
            select(Status.account_id).where(Status.reblog_of_id == status.id).distinct()
        )
        for account_id in sorted(boosters):
            await notify(tx, account_id, actor_id, "update", status.id)
        tx.emit(
            StatusUpdated(
                status_id=status.id,
                account_id=status.account_id,
                visibility=status.visibility,
                local=True,
                in_reply_to_id=status.in_reply_to_id,
                mentioned_account_ids=mentioned_ids,
                tags=tuple(normalize_tag(n) for n in dict.fromkeys(tag_names)),
            )
        )
        return status.id
