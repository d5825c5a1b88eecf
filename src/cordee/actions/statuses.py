"""Posting, deleting and reblogging notes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, cast

from sqlalchemy import BigInteger, Integer, Table, bindparam, delete, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError

from cordee.actions._counters import shift, shifted, shifting
from cordee.actions._notify import notify, notify_subscribers, subscribers_of, withdraw
from cordee.actions.conversations import record_direct_status
from cordee.actions.errors import Forbidden, NotFound, ValidationFailed
from cordee.actions.media import attach_media, check_media_ids, claim_media
from cordee.actions.polls import NewPoll, check_poll, create_poll
from cordee.config import Settings
from cordee.db.changes import touching
from cordee.db.engine import Database, Tx
from cordee.db.hot import HotQuery
from cordee.db.hot_writes import inserting, riding, run, run_late
from cordee.db.sqlite_driver import deferred
from cordee.db.tables import Account, IdempotencyKey, Mention, Status, StatusTag, Tag
from cordee.db.types import UTCDateTime, utcnow
from cordee.domain.notes import WrittenNote
from cordee.domain.text import Entity, extract_entities, normalize_tag, render_html, weighted_length
from cordee.events.types import StatusCreated, StatusDeleted
from cordee.ids import new_id
from cordee.queries.visibility import VISIBILITIES, visible_to
from cordee.search import index as search_index


@dataclass(frozen=True)
class NewStatus:
    text: str
    visibility: str = "public"
    in_reply_to_id: int | None = None
    spoiler_text: str = ""
    sensitive: bool = False
    language: str | None = None
    #: Unattached media of the author's, in display order (a note with media may have no text).
    media_ids: tuple[int, ...] = ()
    poll: NewPoll | None = None


def profile_url(settings: Settings, username: str) -> str:
    return f"{settings.base_url}/@{username}"


def tag_url(settings: Settings, name: str) -> str:
    return f"{settings.base_url}/tags/{name}"


class Mentioned(NamedTuple):
    """A local account a note mentions: what its content and its answer show of it."""

    id: int
    username: str
    domain: str | None


_ACCOUNT_BY_KEY = HotQuery(
    select(Account.id, Account.username, Account.domain).where(
        Account.username_key == bindparam("key"), Account.domain.is_(None)
    )
)


async def mentioned_accounts(
    db: Database, settings: Settings, entities: list[Entity]
) -> dict[str, Mentioned]:
    """Local accounts named by the mentions (``@user`` or ``@user@<our domain>``), by lowered
    value. Read before a write transaction, on the hot path: accounts are never deleted nor
    renamed (a disabled one stays, and is mentioned as before), so they are still there inside it.
    Read inside it, they were a statement of the transaction: on SQLite a hop to its thread under
    the writers' lock, which every other post then waited for."""
    keys = {
        e.username.lower()
        for e in entities
        if e.kind == "mention" and (e.domain is None or e.domain.lower() == settings.domain.lower())
    }
    found: dict[str, Mentioned] = {}
    for key in sorted(keys):
        rows = await db.hot.rows(_ACCOUNT_BY_KEY, key=key)
        if rows:
            found[key] = Mentioned(*rows[0])
    return found


def compose_content(
    settings: Settings, text: str, entities: list[Entity], mentioned: dict[str, Mentioned]
) -> str:
    """A note's HTML, linking the local accounts it mentions (``mentioned_accounts``) and its tags."""

    def mention_url(e: Entity) -> str | None:
        account = mentioned.get(e.username.lower())
        local = e.domain is None or e.domain.lower() == settings.domain.lower()
        return profile_url(settings, account.username) if account is not None and local else None

    return render_html(text, entities, mention_url, lambda name: tag_url(settings, name))


async def tag_ids(tx: Tx, names: list[str]) -> list[int]:
    """The ids of the tags named (as written in a note), created when new."""
    return [tag_id for tag_id, _ in await tags_named(tx, names)]


#: Built once: building it on each post cost ~200 µs of CPU (cProfile), tags or none.
_TAG_BY_NAME = select(Tag.id, Tag.display_name).where(Tag.name == bindparam("name"))
_TAG_BY_NAME_HOT = HotQuery(_TAG_BY_NAME)
#: A note's tag, past the ORM's unit of work (its flush was a statement of its own, and on SQLite
#: a hop under the writers' lock); deferred: it rides with the note's other writes.
_INSERT_STATUS_TAG = HotQuery(deferred(inserting(cast(Table, StatusTag.__table__), ("status_id", "tag_id"))))
#: A note's mention, likewise.
_INSERT_MENTION = HotQuery(
    deferred(inserting(cast(Table, Mention.__table__), ("id", "status_id", "account_id")))
)


async def known_tags(db: Database, names: list[str]) -> dict[str, tuple[int, str]]:
    """The tags named that exist already, by normalised name: read before a write transaction
    (tags are never renamed or deleted, so they are still there inside it), where each lookup was
    a statement of the transaction — on SQLite a hop to its thread under the writers' lock, which
    every other post then waited for: measured in-process, posts with two hashtags ran at 220/s
    against 396/s without."""
    found: dict[str, tuple[int, str]] = {}
    for key in dict.fromkeys(normalize_tag(name) for name in names):
        rows = await db.hot.rows(_TAG_BY_NAME_HOT, name=key)
        if rows:
            found[key] = (rows[0][0], rows[0][1])
    return found


async def tags_named(
    tx: Tx, names: list[str], known: dict[str, tuple[int, str]] | None = None
) -> list[tuple[int, str]]:
    """The tags named (as written in a note), created when new: (id, display name of the tag).
    ``known``: those read already (``known_tags``), not looked up again."""
    found: dict[int, str] = {}
    by_name = _TAG_BY_NAME
    for display in dict.fromkeys(names):
        key = normalize_tag(display)
        row: Row[int, str] | tuple[int, str] | None = (known or {}).get(key)
        if row is None:
            row = (await tx.session.execute(by_name, {"name": key})).first()
        if row is None:
            try:
                async with tx.session.begin_nested():
                    tag = Tag(name=key, display_name=display)
                    tx.session.add(tag)
                    await tx.session.flush()
                    row = (tag.id, display)
            except IntegrityError:  # created concurrently by another writer
                row = (await tx.session.execute(by_name, {"name": key})).first()
        if row is not None:
            found.setdefault(row[0], row[1])
    return list(found.items())


_DELTA = bindparam("delta", 0, type_=Integer())
_ACCOUNT = bindparam("account_id", 0, type_=BigInteger())
# Built once (every post and delete runs one of these), on the table: a Core UPDATE with
# parameters, not the ORM's bulk UPDATE by primary key.
_table = cast(Table, Account.__table__)
_accounts = _table.c
_COUNT_POST = deferred(
    update(_table)
    .where(_accounts.id == _ACCOUNT)
    .values(
        statuses_count=shifted(_accounts.statuses_count, _DELTA),
        last_status_at=bindparam("now", type_=UTCDateTime()),
    )
)
#: The same, returning the author's counters as they stand after it (``Posted.author_counters``;
#: the last note's time is the one it sets). Integers only: rows handed over by SQLite's thread
#: come as the driver gives them, without SQLAlchemy's result processing.
_COUNT_POST_RETURNING = HotQuery(
    _COUNT_POST.returning(_accounts.followers_count, _accounts.following_count, _accounts.statuses_count)
)
_COUNT_DELETE = (
    update(_table)
    .where(_accounts.id == _ACCOUNT)
    .values(statuses_count=shifted(_accounts.statuses_count, _DELTA))
)


#: What every new note's row (a post's, a boost's) starts with: no counts, no edit, no boost.
_NEW_NOTE: dict[str, Any] = {
    "reblog_of_id": None,
    "replies_count": 0,
    "reblogs_count": 0,
    "favourites_count": 0,
    "edited_at": None,
}
#: Deferred: sent with the author's count in one hop (``db/sqlite_driver.py``).
_INSERT_STATUS = HotQuery(
    deferred(
        inserting(
            cast(Table, Status.__table__),
            (
                *("id", "account_id", "text", "content", "spoiler_text", "visibility", "sensitive"),
                *("language", "in_reply_to_id", "in_reply_to_account_id", "reblog_of_id"),
                *("application_id", "replies_count", "reblogs_count", "favourites_count"),
                *("created_at", "edited_at", "conversation_id"),
            ),
        )
    )
)


async def _bump_account(
    tx: Tx, account_id: int, delta: int, counted: Callable[[list[Any]], None] | None = None
) -> None:
    """Move an account's note count; ``counted`` (a post's) is handed the counters it leaves
    (followers, following, notes, last note's time), once the statement ran (by the commit at the
    latest, on SQLite)."""
    options = touching(("a", account_id))
    if delta > 0:
        params = {"account_id": account_id, "delta": delta, "now": utcnow()}
        if counted is not None:
            now = params["now"]
            await run_late(
                tx.session,
                _COUNT_POST_RETURNING,
                params,
                lambda rows: counted([(*row, now) for row in rows]),
                options,
            )
        else:
            await tx.session.execute(_COUNT_POST, params, execution_options=options)
    else:
        await tx.session.execute(
            _COUNT_DELETE, {"account_id": account_id, "delta": delta}, execution_options=options
        )


#: On PostgreSQL, a counted note's row and its search row go as ``WITH``s ahead of its author's
#: count (DML in a ``WITH`` runs once, read or not, and none of the three reads what another
#: writes): one round trip for the three, as on SQLite they ride in one hop. Only the count locks a
#: row (the author's), as it did alone.
_INSERT_COUNTED_NOTE = riding(_COUNT_POST_RETURNING, _INSERT_STATUS, search_index.INSERT_NOTE)


async def _insert_note(
    tx: Tx, status: Status, row: dict[str, Any], counted: Callable[[list[Any]], None]
) -> bool:
    """Insert a new note (``row``, as ``status`` has it) and index it; on PostgreSQL, a note that
    counts for its author moves the count in the same statement, handing ``counted`` the counters
    it leaves (``_bump_account``) — True then. Core INSERTs: the ORM's unit of work cost ~2 ms a
    note."""
    options = touching(("s", status.id), ("a", status.account_id), rules=True)
    if tx.session.get_bind().dialect.name == "postgresql" and _counts_for_author(status.visibility):
        now = utcnow()
        params = {**row, **search_index.new_note_row(status), "delta": 1, "now": now}
        counted([(*r, now) for r in await run(tx.session, _INSERT_COUNTED_NOTE, params, options)])
        return True
    await run(tx.session, _INSERT_STATUS, row, options)
    await search_index.note_written(tx, status, new=True)
    return False


@dataclass(frozen=True)
class Posted:
    """A note posted: its id, and what it wrote when its answer can be rendered from that alone
    (None for a retry's first note, and for a note with media or a poll)."""

    id: int
    written: WrittenNote | None
    #: The author's followers, following and note counts and last note's time as the post left
    #: them, from its own update (filled by the time the post returns; empty if it moved none,
    #: as a direct note does): its answer reads nothing back for them.
    author_counters: list[tuple[Any, ...]] = field(default_factory=list)


def _counts_for_author(visibility: str) -> bool:
    return visibility != "direct"  # Mastodon leaves direct messages out of statuses_count


def counted_length(
    settings: Settings, text: str, spoiler_text: str, entities: list[Entity] | None = None
) -> int:
    """How much of ``settings.max_characters`` a note uses: its stripped text and its content
    warning, URLs weighing ``characters_reserved_per_url``, mentions their local part, grapheme
    clusters one each. The web compose box shows this very number (``/web/count``)."""
    url_weight = settings.characters_reserved_per_url
    return weighted_length(text.strip(), url_weight, entities) + weighted_length(spoiler_text, url_weight)


def check_text(
    settings: Settings, text: str, spoiler_text: str, language: str | None, *, blank_ok: bool = False
) -> list[Entity]:
    """The rules a note's (stripped) text follows, when posted, scheduled or edited; returns its
    entities. ``blank_ok``: the note shows something else (media, a poll), its text may be empty."""
    if not text and not blank_ok:
        raise ValidationFailed("Validation failed: Text can't be blank")
    entities = extract_entities(text)
    length = counted_length(settings, text, spoiler_text, entities)
    if length > settings.max_characters:
        raise ValidationFailed(
            f"Validation failed: Text character limit of {settings.max_characters} exceeded "
            f"(this note counts {length})"
        )
    if language is not None and not (2 <= len(language) <= 10):
        raise ValidationFailed("Validation failed: Language is not a valid ISO 639 code")
    return entities


async def post_status(
    db: Database,
    settings: Settings,
    author_id: int,
    new: NewStatus,
    *,
    application_id: int | None = None,
    idempotency_key: str | None = None,
    also: Callable[[Tx], Awaitable[None]] | None = None,
) -> Posted:
    """Publish a note; returns its id (and what it wrote, for its answer). A retry with the same
    ``idempotency_key`` returns the first note's id.

    ``also`` runs first in the same transaction (publishing a scheduled note claims its row there):
    if it raises, nothing is posted."""
    text = new.text.strip()
    if new.visibility not in VISIBILITIES:
        raise ValidationFailed(f"Validation failed: Visibility must be one of {', '.join(VISIBILITIES)}")
    media_ids = check_media_ids(new.media_ids, with_poll=new.poll is not None)
    poll = check_poll(new.poll) if new.poll is not None else None
    entities = check_text(settings, text, new.spoiler_text, new.language, blank_ok=bool(media_ids))
    # Direct notes notify no subscriber (nor count for their author).
    subscribers = await subscribers_of(db, author_id) if _counts_for_author(new.visibility) else []
    tag_names = [e.value for e in entities if e.kind == "hashtag"]
    known = await known_tags(db, tag_names) if tag_names else {}
    mentioned = await mentioned_accounts(db, settings, entities)

    try:
        async with db.write() as tx:
            if also is not None:
                await also(tx)
            if idempotency_key:
                existing = await tx.session.scalar(
                    select(IdempotencyKey.status_id).where(
                        IdempotencyKey.account_id == author_id, IdempotencyKey.key == idempotency_key
                    )
                )
                if existing is not None:
                    return Posted(existing, None)

            reply_to: Status | None = None
            if new.in_reply_to_id is not None:
                reply_to = await tx.session.scalar(
                    select(Status).where(
                        Status.id == new.in_reply_to_id,
                        Status.reblog_of_id.is_(None),
                        visible_to(author_id),
                    )
                )
                if reply_to is None:
                    raise NotFound("The status you are replying to was not found")
            media = await claim_media(tx, author_id, media_ids)

            content = compose_content(settings, text, entities, mentioned)
            status_id = new_id()
            row = {
                "id": status_id,
                "account_id": author_id,
                "text": text,
                "content": content,
                "spoiler_text": new.spoiler_text.strip(),
                "visibility": new.visibility,
                "sensitive": new.sensitive or bool(new.spoiler_text.strip()),
                "language": new.language,
                "in_reply_to_id": reply_to.id if reply_to else None,
                "in_reply_to_account_id": reply_to.account_id if reply_to else None,
                "application_id": application_id,
                "created_at": utcnow(),
                **_NEW_NOTE,
                # A reply joins its parent's thread; any other note starts one (Mastodon's
                # ``conversation_id``, which muting a conversation keys on).
                "conversation_id": (reply_to.conversation_id or reply_to.id) if reply_to else status_id,
            }
            # ``status`` stays a plain object for what follows in this transaction.
            status = Status(**row)
            counters: list[tuple[Any, ...]] = []
            counted = await _insert_note(tx, status, row, counters.extend)
            await attach_media(tx, status.id, media)
            if poll is not None:
                await create_poll(tx, status.id, author_id, poll)

            mentioned_ids = tuple(dict.fromkeys(a.id for a in mentioned.values()))
            for account_id in mentioned_ids:
                params = {"id": new_id(), "status_id": status.id, "account_id": account_id}
                await run(tx.session, _INSERT_MENTION, params, touching(("s", status.id), rules=True))
            tags = await tags_named(tx, tag_names, known)
            for tag_id, _ in tags:
                params = {"status_id": status.id, "tag_id": tag_id}
                await run(tx.session, _INSERT_STATUS_TAG, params, touching(("s", status.id), rules=True))
            if idempotency_key:
                tx.session.add(IdempotencyKey(account_id=author_id, key=idempotency_key, status_id=status.id))
            if _counts_for_author(status.visibility) and not counted:
                await _bump_account(tx, author_id, +1, counters.extend)
            if reply_to is not None:
                await shift(tx.session, Status, "replies_count", reply_to.id, +1)
            await tx.session.flush()
            for account_id in mentioned_ids:
                await notify(tx, account_id, author_id, "mention", status.id)
            if subscribers and status.in_reply_to_account_id in (None, author_id):
                await notify_subscribers(tx, author_id, status.id, subscribers)
            await record_direct_status(tx, status, mentioned_ids)
            tx.emit(
                StatusCreated(
                    status_id=status.id,
                    account_id=author_id,
                    visibility=status.visibility,
                    local=True,
                    reblog_of_id=None,
                    in_reply_to_id=status.in_reply_to_id,
                    mentioned_account_ids=mentioned_ids,
                    tags=tuple(normalize_tag(n) for n in dict.fromkeys(tag_names)),
                )
            )
            written = None
            if not media and poll is None:
                by_id = {a.id: a for a in mentioned.values()}
                written = WrittenNote(
                    id=status.id,
                    account_id=author_id,
                    created_at=status.created_at,
                    content=content,
                    visibility=status.visibility,
                    sensitive=status.sensitive,
                    spoiler_text=status.spoiler_text,
                    language=status.language,
                    in_reply_to_id=status.in_reply_to_id,
                    in_reply_to_account_id=status.in_reply_to_account_id,
                    application_id=application_id,
                    mentions=tuple((i, by_id[i].username, by_id[i].domain) for i in mentioned_ids),
                    tags=tuple(sorted(tags)),  # as a note's parts are read: by the tag's id
                )
            return Posted(status.id, written, counters)
    except IntegrityError:
        if not idempotency_key:
            raise
        # Two requests with the same key at once (PostgreSQL has no single writer): the first to
        # commit wins the unique key, and the other answers with its note, as a retry would.
        async with db.read() as session:
            first = await session.scalar(
                select(IdempotencyKey.status_id).where(
                    IdempotencyKey.account_id == author_id, IdempotencyKey.key == idempotency_key
                )
            )
        if first is None:
            raise
        return Posted(first, None)


async def _mentioned_ids(tx: Tx, status_id: int) -> tuple[int, ...]:
    rows = await tx.session.scalars(select(Mention.account_id).where(Mention.status_id == status_id))
    return tuple(rows)


async def _remove(tx: Tx, status: Status) -> None:
    """Delete one status row and undo the counters it moved; emits ``StatusDeleted``."""
    mentioned = await _mentioned_ids(tx, status.id)
    if _counts_for_author(status.visibility):
        await _bump_account(tx, status.account_id, -1)
    if status.in_reply_to_id is not None:
        await shift(tx.session, Status, "replies_count", status.in_reply_to_id, -1)
    if status.reblog_of_id is not None:
        await shift(tx.session, Status, "reblogs_count", status.reblog_of_id, -1)
        original_author = await tx.session.scalar(
            select(Status.account_id).where(Status.id == status.reblog_of_id)
        )
        if original_author is not None:
            await withdraw(tx, original_author, status.account_id, "reblog", status.reblog_of_id)
    await tx.session.execute(delete(Status).where(Status.id == status.id))
    tx.emit(StatusDeleted(status.id, status.account_id, status.visibility, mentioned))


async def delete_status(db: Database, actor_id: int, status_id: int) -> None:
    """Delete one's own note, its reblogs with it. Replies stay, detached (as in Mastodon)."""
    async with db.write() as tx:
        status = await tx.session.scalar(
            select(Status).where(Status.id == status_id, Status.reblog_of_id.is_(None), visible_to(actor_id))
        )
        if status is None:
            raise NotFound()
        if status.account_id != actor_id:
            raise Forbidden("This action is not allowed")
        reblogs = (await tx.session.scalars(select(Status).where(Status.reblog_of_id == status.id))).all()
        for reblog in reblogs:
            await _remove(tx, reblog)
        await _remove(tx, status)


#: A note as an actor may see it, built once: the rule's statement, built on each favourite,
#: boost, bookmark or pin, was most of their CPU (in-process, favourites 32 at a time: ~6 ms each).
_TARGET = select(Status).where(
    Status.id == bindparam("status_id", type_=BigInteger()),
    visible_to(bindparam("viewer", type_=BigInteger())),
)


async def target_of(tx: Tx, actor_id: int, status_id: int) -> Status:
    """The status an interaction applies to: visible to the actor; a reblog stands for its original."""
    status = await tx.session.scalar(_TARGET, {"status_id": status_id, "viewer": actor_id})
    if status is not None and status.reblog_of_id is not None:
        status = await tx.session.scalar(_TARGET, {"status_id": status.reblog_of_id, "viewer": actor_id})
    if status is None:
        raise NotFound()
    return status


#: A note's row locked as its counters' updates lock it (not its key: rows referring to it may
#: still be inserted meanwhile).
_LOCK_NOTE = HotQuery(
    select(Status.id)
    .where(Status.id == bindparam("status_id", 0, type_=BigInteger()))
    .with_for_update(key_share=True)
)


#: A boost's row but its own ids, visibility, note and time: what the ORM's defaults gave it.
_BOOST_ROW: dict[str, Any] = {
    **dict.fromkeys(("text", "content", "spoiler_text"), ""),
    **dict.fromkeys(("language", "in_reply_to_id", "in_reply_to_account_id", "application_id"), None),
    "sensitive": False,
    **_NEW_NOTE,
}


async def reblog(db: Database, actor_id: int, status_id: int, visibility: str = "public") -> int:
    """Boost a note; returns the reblog's id (the existing one if already boosted)."""
    if visibility not in ("public", "unlisted", "private"):
        raise ValidationFailed("Validation failed: Visibility must be public, unlisted or private")
    async with db.write() as tx:
        original = await target_of(tx, actor_id, status_id)
        if not db.is_sqlite:  # SQLite has one writer at a time
            # Boosts of one note at once (a double tap) wait for each other on the note's row,
            # which a boost's count locks anyway: the later one's check, a statement after the
            # wait, then finds the earlier boost. Without it, six at once made six boosts.
            await run(tx.session, _LOCK_NOTE, {"status_id": original.id})
        existing = await tx.session.scalar(
            select(Status.id).where(Status.reblog_of_id == original.id, Status.account_id == actor_id)
        )
        if existing is not None:
            return existing
        if original.visibility == "direct" or (
            original.visibility == "private" and original.account_id != actor_id
        ):
            raise Forbidden("This action is not allowed")
        # A self-boost of a followers-only note stays followers-only.
        shown_as = "private" if original.visibility == "private" else visibility
        boost_id = new_id()  # a boost is a thread of its own, as in Mastodon
        # Past the ORM's unit of work: its flush was a hop to SQLite's thread under the writers'
        # lock. What it changes, as the flush of a boost says it (``db/changes.py``).
        row = {**_BOOST_ROW, "id": boost_id, "account_id": actor_id, "visibility": shown_as}
        row.update(reblog_of_id=original.id, conversation_id=boost_id, created_at=utcnow())
        keys = (("s", boost_id), ("a", actor_id), ("s", original.id), ("r", actor_id))
        await run(tx.session, _INSERT_STATUS, row, touching(*keys, rules=True))
        await _bump_account(tx, actor_id, +1)
        counted = shifting(Status, "reblogs_count", original.id, +1)
        await notify(tx, original.account_id, actor_id, "reblog", original.id, ahead=counted)
        tx.emit(
            StatusCreated(
                status_id=boost_id,
                account_id=actor_id,
                visibility=shown_as,
                local=True,
                reblog_of_id=original.id,
                in_reply_to_id=None,
                mentioned_account_ids=(),
                tags=(),
            )
        )
        return boost_id


async def unreblog(db: Database, actor_id: int, status_id: int) -> int:
    """Undo a boost; returns the original's id. Undoing a boost that does not exist is a no-op."""
    async with db.write() as tx:
        original = await target_of(tx, actor_id, status_id)
        boost = await tx.session.scalar(
            select(Status).where(Status.reblog_of_id == original.id, Status.account_id == actor_id)
        )
        if boost is not None:
            await _remove(tx, boost)
        return original.id
