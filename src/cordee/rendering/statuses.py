"""Status entities, exactly as Mastodon shapes them: one place for the API, streaming and (later)
the web pages and widget.

Rendered in three layers, so that a note is built once and served to every reader:

1. the **body** — everything that depends only on the note's version (``cache.py``), built from the
   database on a miss, in batch;
2. the **live** fields — counters of the note and of its author, read fresh with the page's rows
   (``Live``);
3. the **reader's** fields — favourited, reblogged, muted, bookmarked, pinned, filtered, poll votes,
   the application (shown to the author only) — from one small query per page (``rendering/marks.py``).

Two entry points share the layers: ``render_statuses`` for pages already loaded as ORM rows (every
endpoint but the hottest), and ``render_live`` for the hot path, which has only ids and live rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import AsyncExitStack
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    String,
    bindparam,
    cast,
    literal,
    null,
    select,
    text,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.actions.errors import NotFound
from cordee.api.mastodon.serializers.accounts import acct_of, profile_url, render_account
from cordee.api.mastodon.serializers.common import iso, iso_day
from cordee.api.mastodon.serializers.filters import apply_filters
from cordee.api.mastodon.serializers.media import media_by_status
from cordee.api.mastodon.serializers.polls import polls_by_status
from cordee.api.mastodon.serializers.tags import tag_url
from cordee.config import Settings
from cordee.db.engine import Database
from cordee.db.hot import HotQueries, HotQuery, HotReader, slots
from cordee.db.tables import Account, Application, Mention, Status, StatusTag, Tag
from cordee.db.tables_media import MediaAttachment
from cordee.db.tables_polls import Poll
from cordee.queries.pages import Live, live_rows
from cordee.queries.timelines import LIVE_BY_ID, live_visible
from cordee.rendering.cache import EntityCache
from cordee.rendering.marks import FLAG_SLOTS, Marks, reader_marks


def status_url(settings: Settings, username: str, status_id: int) -> str:
    """The note's page (Mastodon's ``url``)."""
    return f"{settings.base_url}/@{username}/{status_id}"


def status_uri(settings: Settings, username: str, status_id: int) -> str:
    """The note's identifier (Mastodon's ``uri``; its ActivityPub id once federation exists)."""
    return f"{settings.base_url}/users/{username}/statuses/{status_id}"


def tag_entity(settings: Settings, display_name: str) -> dict[str, Any]:
    return {"name": display_name.casefold(), "url": tag_url(settings, display_name)}


_viewer: Any = bindparam("viewer", 0, type_=BigInteger())

#: Gives the session a rendering needs only on a cache miss or for polls (opened on first use).
SessionOpener = Callable[[], Awaitable[AsyncSession]]


def _opened(session: AsyncSession) -> SessionOpener:
    async def give() -> AsyncSession:
        return session

    return give


def _chunks(ids: Sequence[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


#: What a note's body is made of, for notes not in the cache (one statement each, by id).
def _notes(width: int) -> HotQuery:
    return HotQuery(
        select(
            Status.id,
            Account.username,
            Status.created_at,
            Status.edited_at,
            Status.content,
            Status.visibility,
            Status.sensitive,
            Status.spoiler_text,
            Status.in_reply_to_id,
            Status.in_reply_to_account_id,
            Status.language,
            Application.name,
            Application.website,
        )
        .join(Account, Account.id == Status.account_id)
        .outerjoin(Application, Application.id == Status.application_id)
        .where(Status.id.in_(slots("ids", width))),
        lists={"ids": width},
    )


def _parts(width: int) -> HotQuery:
    """A note's mentions ("m": account id, username, domain; in the order written), tags ("t":
    display name), and whether it carries media ("x") or a poll ("p"): one statement where there
    were three, for every note rendered afresh (a post's answer, a page's new notes)."""
    ids = slots("ids", width)
    no_id, no_text = cast(null(), BigInteger), cast(null(), String)
    return HotQuery(
        union_all(
            select(
                literal("m").label("kind"),
                Mention.status_id,
                Account.id,
                Account.username,
                Account.domain,
                Mention.id.label("position"),
            )
            .join(Account, Account.id == Mention.account_id)
            .where(Mention.status_id.in_(ids)),
            select(literal("t"), StatusTag.status_id, no_id, Tag.display_name, no_text, Tag.id)
            .join(Tag, Tag.id == StatusTag.tag_id)
            .where(StatusTag.status_id.in_(ids)),
            select(literal("x"), MediaAttachment.status_id, no_id, no_text, no_text, literal(0))
            .where(MediaAttachment.status_id.in_(ids))
            .distinct(),
            select(literal("p"), Poll.status_id, no_id, no_text, no_text, literal(0)).where(
                Poll.status_id.in_(ids)
            ),
        ).order_by(text("kind"), text("position")),
        lists={"ids": width},
    )


def _accounts(width: int) -> HotQuery:
    return HotQuery(select(Account).where(Account.id.in_(slots("ids", width))), lists={"ids": width})


#: One note (a status's page, the answer to a post), or a page of them.
_WIDTHS = (1, FLAG_SLOTS)
_NOTES = HotQueries(_notes, _WIDTHS)
_PARTS = HotQueries(_parts, _WIDTHS)
_ACCOUNTS = HotQueries(_accounts, _WIDTHS)


def mention_entity(settings: Settings, account_id: int, username: str, domain: str | None) -> dict[str, Any]:
    return {
        "id": str(account_id),
        "username": username,
        "acct": acct_of(username, domain),
        "url": profile_url(settings, username),
    }


def note_body(
    settings: Settings,
    status_id: int,
    username: str,
    created_at: datetime,
    edited_at: datetime | None,
    content: str,
    visibility: str,
    sensitive: bool,
    spoiler_text: str,
    in_reply_to_id: int | None,
    in_reply_to_account_id: int | None,
    language: str | None,
    application: dict[str, Any] | None,
    *,
    media: tuple[dict[str, Any], ...],
    mentions: tuple[dict[str, Any], ...],
    tags: Iterable[str],
    poll: bool,
) -> dict[str, Any]:
    """A note's viewer-independent body (what the cache keeps), whether read or just written."""
    return {
        "id": str(status_id),
        "uri": status_uri(settings, username, status_id),
        "url": status_url(settings, username, status_id),
        "created_at": iso(created_at),
        "edited_at": iso(edited_at),
        "content": content,
        "visibility": visibility,
        "sensitive": sensitive,
        "spoiler_text": spoiler_text,
        # Tuples (JSON arrays all the same): a body of atomic values and tuples is untracked by the
        # garbage collector after its first pass, and the cache keeps tens of thousands (lists
        # were ~40 % of the objects every full collection walked).
        "media_attachments": media,
        "mentions": mentions,
        "tags": tuple(tag_entity(settings, t) for t in tags),
        "emojis": (),
        "quotes_count": 0,
        "in_reply_to_id": str(in_reply_to_id) if in_reply_to_id else None,
        "in_reply_to_account_id": str(in_reply_to_account_id) if in_reply_to_account_id else None,
        "card": None,
        "language": language,
        # Kept out of the entity, used per reader:
        "_application": application,
        "_poll": poll,
    }


async def _render_bodies(
    hot: HotReader, session: SessionOpener, settings: Settings, ids: Sequence[int]
) -> dict[int, dict[str, Any]]:
    """The viewer-independent bodies of these notes (boosts' inner notes not included)."""
    bodies: dict[int, dict[str, Any]] = {}
    for chunk in _chunks(list(ids), FLAG_SLOTS):
        mentions: dict[int, list[dict[str, Any]]] = defaultdict(list)
        tags: dict[int, list[str]] = defaultdict(list)
        with_media: list[int] = []
        with_poll: set[int] = set()
        count = len(chunk)
        for kind, status_id, account_id, name, domain, _ in await hot.rows(_PARTS.fitting(count), ids=chunk):
            if kind == "m":
                mentions[status_id].append(mention_entity(settings, account_id, name, domain))
            elif kind == "t":
                tags[status_id].append(name)
            elif kind == "x":
                with_media.append(status_id)
            else:
                with_poll.add(status_id)
        media = await media_by_status(await session(), settings, with_media) if with_media else {}
        for row in await hot.rows(_NOTES.fitting(count), ids=chunk):
            (status_id, username, created, edited, content, visibility, sensitive) = row[:7]
            spoiler, reply_to, reply_to_account, language, app_name, app_website = row[7:]
            bodies[status_id] = note_body(
                settings,
                status_id,
                username,
                created,
                edited,
                content,
                visibility,
                bool(sensitive),
                spoiler,
                reply_to,
                reply_to_account,
                language,
                {"name": app_name, "website": app_website} if app_name is not None else None,
                media=tuple(media.get(status_id, ())),
                mentions=tuple(mentions.get(status_id, ())),
                tags=tags.get(status_id, ()),
                poll=status_id in with_poll,
            )
    return bodies


async def _bodies(
    hot: HotReader,
    session: SessionOpener,
    settings: Settings,
    cache: EntityCache | None,
    lives: Iterable[Live],
) -> dict[int, dict[str, Any]]:
    """Bodies of these notes, from the cache where it has their version, else built (and kept)."""
    bodies: dict[int, dict[str, Any]] = {}
    missing: dict[int, Live] = {}
    for live in lives:
        body = cache.status(live.id, live.edited_at) if cache is not None else None
        if body is None:
            missing[live.id] = live
        else:
            bodies[live.id] = body
    if missing:
        for status_id, body in (await _render_bodies(hot, session, settings, list(missing))).items():
            bodies[status_id] = body
            if cache is not None:
                cache.put_status(status_id, missing[status_id].edited_at, body)
    return bodies


async def account_bodies(
    hot: HotReader, settings: Settings, cache: EntityCache | None, ids: Iterable[int]
) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    missing = []
    for account_id in set(ids):
        body = cache.account(account_id) if cache is not None else None
        if body is None:
            missing.append(account_id)
        else:
            found[account_id] = body
    columns = [c.key for c in Account.__table__.columns]
    for chunk in _chunks(missing, FLAG_SLOTS):
        for row in await hot.rows(_ACCOUNTS.fitting(len(chunk)), ids=chunk):
            account = Account(**dict(zip(columns, row, strict=True)))  # transient: never added to a session
            body = render_account(settings, account)
            found[account.id] = body
            if cache is not None:
                cache.put_account(account.id, body)
    return found


def with_counters(
    account: dict[str, Any], followers: int, following: int, statuses: int, last_status_at: datetime | None
) -> dict[str, Any]:
    """An account's entity as notes show it: its body (cached) and its counters (read fresh)."""
    return {
        **account,
        "followers_count": followers,
        "following_count": following,
        "statuses_count": statuses,
        "last_status_at": iso_day(last_status_at),
    }


def assemble(
    viewer_id: int | None,
    live: Live,
    body: dict[str, Any],
    account: dict[str, Any],
    reblog: dict[str, Any] | None,
    marks: Marks | None,
    polls: dict[int, dict[str, Any]],
    filtered: dict[int, list[dict[str, Any]]],
) -> dict[str, Any]:
    entity = body.copy()  # a C-level copy; the two private keys are then dropped
    del entity["_application"], entity["_poll"]
    entity["account"] = with_counters(
        account, live.followers_count, live.following_count, live.statuses_count, live.last_status_at
    )
    if reblog is not None:
        entity["url"] = None
    entity.update(
        reblogs_count=live.reblogs_count,
        favourites_count=live.favourites_count,
        replies_count=live.replies_count,
        reblog=reblog,
        poll=polls.get(live.id),
        application=body["_application"] if live.account_id == viewer_id else None,
        text=None,
        filtered=filtered.get(live.id, []),
    )
    if viewer_id is not None and marks is not None:
        entity.update(
            favourited=live.id in marks.favourited,
            reblogged=live.id in marks.reblogged,
            muted=live.id in marks.muted,
            bookmarked=live.id in marks.bookmarked,
        )
        if live.account_id == viewer_id and live.reblog_of_id is None:
            entity["pinned"] = live.id in marks.pinned
    return entity


async def _render(
    session: SessionOpener,
    cache: EntityCache | None,
    hot: HotReader,
    settings: Settings,
    viewer_id: int | None,
    lives: Sequence[Live],
    originals: dict[int, Live],
    filtered: dict[int, list[dict[str, Any]]] | None = None,
    marks: Marks | None = None,
) -> list[dict[str, Any]]:
    """``marks``: the reader's, when the caller read them already (over these notes at least)."""
    every = [*lives, *originals.values()]
    bodies = await _bodies(hot, session, settings, cache, every)
    accounts = await account_bodies(hot, settings, cache, (x.account_id for x in every))
    ids = [x.id for x in every]
    if marks is None and viewer_id:
        marks = await reader_marks(hot, viewer_id, ids)
    poll_ids = [i for i in ids if bodies[i]["_poll"]]
    polls = await polls_by_status(await session(), viewer_id, poll_ids) if poll_ids else {}
    filtered = filtered or {}

    def one(live: Live, reblog: dict[str, Any] | None) -> dict[str, Any]:
        return assemble(
            viewer_id, live, bodies[live.id], accounts[live.account_id], reblog, marks, polls, filtered
        )

    rendered = []
    for live in lives:
        inner = None
        if live.reblog_of_id is not None:
            inner = one(originals[live.reblog_of_id], None)
        rendered.append(one(live, inner))
    return rendered


async def render_statuses(
    session: AsyncSession,
    settings: Settings,
    viewer_id: int | None,
    statuses: Sequence[Status],
    *,
    with_source_text: bool = False,
    filter_context: str | None = None,
    any_reader: bool = False,
) -> list[dict[str, Any]]:
    """Status entities for ``viewer_id``, of notes the caller loaded (and was allowed to read);
    the notes boosts carry are read through the visibility rule for ``viewer_id`` (a boost whose
    note the reader may not see is left out), unless ``any_reader``: a rendering for no reader in
    particular, whose caller (the streaming hub) asks the rule for each recipient.
    With ``filter_context`` (home, notifications, public, thread, account), the viewer's filters
    apply: ``hide`` leaves notes out, others fill ``filtered``."""
    filtered: dict[int, list[dict[str, Any]]] = {}
    if filter_context is not None and viewer_id is not None:
        statuses, filtered = await apply_filters(session, viewer_id, statuses, filter_context)
    if not statuses:
        return []
    hot: HotReader = session.info["hot"]
    lives = [Live(*row) for row in await live_rows(hot, [s.id for s in statuses], LIVE_BY_ID, {})]
    by_id = {x.id: x for x in lives}
    original_ids = [x.reblog_of_id for x in lives if x.reblog_of_id is not None]
    if any_reader:
        original_rows = await live_rows(hot, original_ids, LIVE_BY_ID, {})
    else:
        original_rows = await live_rows(hot, original_ids, *live_visible(viewer_id))
    originals = {x.id: x for x in (Live(*row) for row in original_rows)}
    # The caller's order; a note deleted since the caller read it is left out, as is a boost
    # whose original is gone.
    shown = [by_id[s.id] for s in statuses if s.id in by_id]
    lives = [x for x in shown if x.reblog_of_id is None or x.reblog_of_id in originals]
    rendered = await _render(
        _opened(session), session.info.get("entities"), hot, settings, viewer_id, lives, originals, filtered
    )
    if with_source_text:
        texts = {s.id: s.text for s in statuses}
        for entity in rendered:
            entity["text"] = texts[int(entity["id"])]
    return rendered


async def render_status(
    session: AsyncSession, settings: Settings, viewer_id: int | None, status: Status, **kw: Any
) -> dict[str, Any]:
    """One note's entity; NotFound if it was deleted since the caller read it."""
    rendered = await render_statuses(session, settings, viewer_id, [status], **kw)
    if not rendered:
        raise NotFound("Record not found")
    return rendered[0]


async def render_live(
    db: Database,
    settings: Settings,
    viewer_id: int | None,
    lives: Sequence[Live],
    originals: dict[int, Live],
    marks: Marks | None = None,
) -> list[dict[str, Any]]:
    """Status entities for rows of the hot path (no filters: its callers leave readers who have
    filters to ``render_statuses``). A session is opened only on a cache miss or for polls:
    opening and closing one costs more than the rest of a cached page's rendering. ``marks``:
    the reader's, if the caller read them already."""
    opened: AsyncSession | None = None
    async with AsyncExitStack() as stack:

        async def session() -> AsyncSession:
            nonlocal opened
            if opened is None:
                opened = await stack.enter_async_context(db.read())
            return opened

        return await _render(session, db.entities, db.hot, settings, viewer_id, lives, originals, marks=marks)


async def render_page(
    db: Database, settings: Settings, viewer_id: int | None, lives: Sequence[Live], originals: dict[int, Live]
) -> list[dict[str, Any]]:
    """``render_live`` for a page of a list (a timeline, a thread, notifications, favourites): the
    reader's marks from those kept per reader (``rendering/marks.py``: all of them read once, kept
    while the reader marks nothing) where this process's caches hear of every write."""
    marks = None
    if viewer_id is not None and db.coherent:
        marks = await db.marks.of(db.hot, viewer_id, [*(x.id for x in lives), *originals])
    return await render_live(db, settings, viewer_id, lives, originals, marks)


async def render_filtered(
    db: Database, settings: Settings, viewer_id: int, ids: Sequence[int], context: str
) -> list[dict[str, Any]]:
    """Entities of the notes ``ids``, in that order (a hot path's page: its rule decided them for
    the reader), rendered through the reader's filters for ``context`` — ``hide`` leaves notes
    out — as the general path renders them. A note deleted meanwhile is left out."""
    async with db.read() as session:
        found = {s.id: s for s in await session.scalars(select(Status).where(Status.id.in_(ids)))}
        statuses = [found[i] for i in ids if i in found]
        return await render_statuses(session, settings, viewer_id, statuses, filter_context=context)
