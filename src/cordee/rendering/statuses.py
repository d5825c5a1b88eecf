"""Status entities, exactly as Mastodon shapes them: one place for the API, streaming and (later)
the web pages and widget.

Rendered in three layers, so that a note is built once and served to every reader:

1. the **body** — everything that depends only on the note's version (``cache.py``), built from the
   database on a miss, in batch;
2. the **live** fields — counters of the note and of its author, read fresh with the page's rows
   (``Live``);
3. the **reader's** fields — favourited, reblogged, bookmarked, pinned, filtered, poll votes, the
   application (shown to the author only) — from one small query per page (``FLAGS``).

Two entry points share the layers: ``render_statuses`` for pages already loaded as ORM rows (every
endpoint but the hottest), and ``render_live`` for the hot path, which has only ids and live rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, bindparam, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.api.mastodon.serializers.accounts import acct, render_account
from cordee.api.mastodon.serializers.common import iso, iso_day
from cordee.api.mastodon.serializers.filters import apply_filters
from cordee.api.mastodon.serializers.media import media_by_status
from cordee.api.mastodon.serializers.polls import polls_by_status
from cordee.config import Settings
from cordee.db.engine import Database
from cordee.db.hot import HotQuery, slots
from cordee.db.tables import Account, Application, Favourite, Mention, Status, StatusTag, Tag
from cordee.db.tables_personal import Bookmark, StatusPin
from cordee.db.tables_polls import Poll
from cordee.queries.accounts import load_many as load_accounts
from cordee.queries.pages import Live
from cordee.rendering.cache import EntityCache

#: Ids per reader-flags query (a page and its boosted originals: at most 2 × 40).
FLAG_SLOTS = 80


def status_url(settings: Settings, account: Account, status_id: int) -> str:
    return f"{settings.base_url}/@{account.username}/{status_id}"


def status_uri(settings: Settings, account: Account, status_id: int) -> str:
    return f"{settings.base_url}/users/{account.username}/statuses/{status_id}"


def tag_entity(settings: Settings, display_name: str) -> dict[str, Any]:
    return {"name": display_name.casefold(), "url": f"{settings.base_url}/tags/{display_name.casefold()}"}


def live_of(status: Status, author: Account) -> Live:
    """The live fields of a note loaded as an ORM row, with its author's."""
    return Live(
        status.id,
        status.account_id,
        status.reblog_of_id,
        status.edited_at,
        status.replies_count,
        status.reblogs_count,
        status.favourites_count,
        author.followers_count,
        author.following_count,
        author.statuses_count,
        author.last_status_at,
    )


_viewer: Any = bindparam("viewer", 0, type_=BigInteger())


def _flag(kind: str, column: Any, owner: Any) -> Any:
    return select(literal(kind), column).where(owner == _viewer, column.in_(slots("ids", FLAG_SLOTS)))


#: The reader's own marks on a page of notes, in one statement.
FLAGS = HotQuery(
    union_all(
        _flag("f", Favourite.status_id, Favourite.account_id),
        _flag("r", Status.reblog_of_id, Status.account_id),
        _flag("b", Bookmark.status_id, Bookmark.account_id),
        _flag("p", StatusPin.status_id, StatusPin.account_id),
    ),
    lists={"ids": FLAG_SLOTS},
)


@dataclass
class Marks:
    favourited: set[int]
    reblogged: set[int]
    bookmarked: set[int]
    pinned: set[int]


def _chunks(ids: Sequence[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


async def reader_marks(
    db: Database | None, session: AsyncSession | None, viewer: int, ids: Sequence[int]
) -> Marks:
    """What the reader favourited, boosted, bookmarked and pinned among ``ids``."""
    marks = Marks(set(), set(), set(), set())
    found = {"f": marks.favourited, "r": marks.reblogged, "b": marks.bookmarked, "p": marks.pinned}
    for chunk in _chunks(list(dict.fromkeys(ids)), FLAG_SLOTS):
        if db is not None:
            rows = await db.hot.rows(FLAGS, viewer=viewer, ids=chunk)
        else:
            assert session is not None
            rows = list(await session.execute(FLAGS.statement, FLAGS.bind(viewer=viewer, ids=chunk)))
        for kind, status_id in rows:
            found[kind].add(status_id)
    return marks


async def _render_bodies(
    session: AsyncSession, settings: Settings, statuses: Sequence[Status]
) -> dict[int, dict[str, Any]]:
    """The viewer-independent bodies of these notes (boosts' inner notes not included)."""
    ids = [s.id for s in statuses]
    mentions: dict[int, list[int]] = defaultdict(list)
    for status_id, account_id in await session.execute(
        select(Mention.status_id, Mention.account_id).where(Mention.status_id.in_(ids))
    ):
        mentions[status_id].append(account_id)
    mentioned = await load_accounts(session, [a for ms in mentions.values() for a in ms])
    authors = await load_accounts(session, [s.account_id for s in statuses])
    tags: dict[int, list[str]] = defaultdict(list)
    for status_id, display in await session.execute(
        select(StatusTag.status_id, Tag.display_name)
        .join(Tag, Tag.id == StatusTag.tag_id)
        .where(StatusTag.status_id.in_(ids))
    ):
        tags[status_id].append(display)
    app_ids = {s.application_id for s in statuses if s.application_id is not None}
    apps = (
        {a.id: a for a in await session.scalars(select(Application).where(Application.id.in_(app_ids)))}
        if app_ids
        else {}
    )
    media = await media_by_status(session, settings, ids)
    with_poll = set(await session.scalars(select(Poll.status_id).where(Poll.status_id.in_(ids))))
    bodies: dict[int, dict[str, Any]] = {}
    for status in statuses:
        author = authors[status.account_id]
        app = apps.get(status.application_id) if status.application_id else None
        bodies[status.id] = {
            "id": str(status.id),
            "uri": status_uri(settings, author, status.id),
            "url": status_url(settings, author, status.id),
            "created_at": iso(status.created_at),
            "edited_at": iso(status.edited_at),
            "content": status.content,
            "visibility": status.visibility,
            "sensitive": status.sensitive,
            "spoiler_text": status.spoiler_text,
            "media_attachments": media.get(status.id, []),
            "mentions": [
                {
                    "id": str(a.id),
                    "username": a.username,
                    "acct": acct(settings, a),
                    "url": f"{settings.base_url}/@{a.username}",
                }
                for a in (mentioned[i] for i in mentions.get(status.id, []) if i in mentioned)
            ],
            "tags": [tag_entity(settings, t) for t in tags.get(status.id, [])],
            "emojis": [],
            "quotes_count": 0,
            "in_reply_to_id": str(status.in_reply_to_id) if status.in_reply_to_id else None,
            "in_reply_to_account_id": str(status.in_reply_to_account_id)
            if status.in_reply_to_account_id
            else None,
            "card": None,
            "language": status.language,
            # Kept out of the entity, used per reader:
            "_application": {"name": app.name, "website": app.website} if app is not None else None,
            "_poll": status.id in with_poll,
        }
    return bodies


async def _bodies(
    session: AsyncSession,
    settings: Settings,
    cache: EntityCache | None,
    lives: Iterable[Live],
    loaded: dict[int, Status] | None = None,
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
        rows = [loaded[i] for i in missing if loaded and i in loaded]
        to_load = [i for i in missing if not loaded or i not in loaded]
        if to_load:
            rows += list(await session.scalars(select(Status).where(Status.id.in_(to_load))))
        built = await _render_bodies(session, settings, rows)
        for status_id, body in built.items():
            bodies[status_id] = body
            if cache is not None:
                cache.put_status(status_id, missing[status_id].edited_at, body)
    return bodies


async def _account_bodies(
    session: AsyncSession, settings: Settings, cache: EntityCache | None, ids: Iterable[int]
) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    missing = []
    for account_id in set(ids):
        body = cache.account(account_id) if cache is not None else None
        if body is None:
            missing.append(account_id)
        else:
            found[account_id] = body
    if missing:
        for account_id, account in (await load_accounts(session, missing)).items():
            body = render_account(settings, account)
            found[account_id] = body
            if cache is not None:
                cache.put_account(account_id, body)
    return found


def _assemble(
    viewer_id: int | None,
    live: Live,
    body: dict[str, Any],
    account: dict[str, Any],
    reblog: dict[str, Any] | None,
    marks: Marks | None,
    polls: dict[int, dict[str, Any]],
    filtered: dict[int, list[dict[str, Any]]],
) -> dict[str, Any]:
    entity = {k: v for k, v in body.items() if k[0] != "_"}
    entity["account"] = {
        **account,
        "followers_count": live.followers_count,
        "following_count": live.following_count,
        "statuses_count": live.statuses_count,
        "last_status_at": iso_day(live.last_status_at),
    }
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
            muted=False,
            bookmarked=live.id in marks.bookmarked,
        )
        if live.account_id == viewer_id and live.reblog_of_id is None:
            entity["pinned"] = live.id in marks.pinned
    return entity


async def _render(
    db: Database | None,
    session: AsyncSession,
    settings: Settings,
    viewer_id: int | None,
    lives: Sequence[Live],
    originals: dict[int, Live],
    loaded: dict[int, Status] | None = None,
    filtered: dict[int, list[dict[str, Any]]] | None = None,
) -> list[dict[str, Any]]:
    cache: EntityCache | None = session.info.get("entities")
    every = [*lives, *originals.values()]
    bodies = await _bodies(session, settings, cache, every, loaded)
    accounts = await _account_bodies(session, settings, cache, (x.account_id for x in every))
    ids = [x.id for x in every]
    marks = await reader_marks(db, session if db is None else None, viewer_id, ids) if viewer_id else None
    poll_ids = [i for i in ids if bodies[i]["_poll"]]
    polls = await polls_by_status(session, viewer_id, poll_ids) if poll_ids else {}
    filtered = filtered or {}

    def one(live: Live, reblog: dict[str, Any] | None) -> dict[str, Any]:
        return _assemble(
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
) -> list[dict[str, Any]]:
    """Status entities for ``viewer_id``, of notes the caller loaded (and was allowed to read).
    With ``filter_context`` (home, notifications, public, thread, account), the viewer's filters
    apply: ``hide`` leaves notes out, others fill ``filtered``."""
    filtered: dict[int, list[dict[str, Any]]] = {}
    if filter_context is not None and viewer_id is not None:
        statuses, filtered = await apply_filters(session, viewer_id, statuses, filter_context)
    if not statuses:
        return []
    original_ids = {s.reblog_of_id for s in statuses if s.reblog_of_id is not None}
    loaded = {s.id: s for s in statuses}
    if original_ids:
        loaded.update(
            {s.id: s for s in await session.scalars(select(Status).where(Status.id.in_(original_ids)))}
        )
    authors = await load_accounts(session, [s.account_id for s in loaded.values()])
    lives = [live_of(s, authors[s.account_id]) for s in statuses]
    originals = {i: live_of(loaded[i], authors[loaded[i].account_id]) for i in original_ids}
    rendered = await _render(None, session, settings, viewer_id, lives, originals, loaded, filtered)
    if with_source_text:
        for entity, status in zip(rendered, statuses, strict=True):
            entity["text"] = status.text
    return rendered


async def render_status(
    session: AsyncSession, settings: Settings, viewer_id: int | None, status: Status, **kw: Any
) -> dict[str, Any]:
    return (await render_statuses(session, settings, viewer_id, [status], **kw))[0]


async def render_live(
    db: Database, settings: Settings, viewer_id: int | None, lives: Sequence[Live], originals: dict[int, Live]
) -> list[dict[str, Any]]:
    """Status entities for rows of the hot path (no filters: its callers leave readers who have
    filters to ``render_statuses``). A session is opened only on a cache miss or for polls."""
    async with db.read() as session:
        return await _render(db, session, settings, viewer_id, lives, originals)
