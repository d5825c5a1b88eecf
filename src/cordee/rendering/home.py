"""One page of a home timeline as status entities: the hot path when it can answer, else the general
path. Shared by ``GET /api/v1/timelines/home`` and the web app's ``/home``, so both read the same
timeline the same way (one rule, one place).

A page rendered on the hot path is kept in the home memo's entry for it (``feeds/memo.py``: the
same reader, bounds and feed window, nothing the home rules read changed), with the versions of
what it shows (``rendering/cache.py``: its notes and their counters, their authors, their polls,
the reader's own marks). The next read of that page, while both hold, costs the feed window's
reads and no rendering at all: the entities and their JSON are served as they were.

When the page changed — under load, nearly every read: someone the reader follows posted — each
note the reader's last page showed is served as it was rendered if nothing it shows changed
(``rendering/pieces.py``), and only the new or changed notes are read and rendered; the rules
ran over the new notes only (the memo's verdicts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import exists, select

from cordee.api.mastodon.pagination import Page
from cordee.config import Settings
from cordee.db.changes import Key
from cordee.db.engine import Database
from cordee.db.tables import Status
from cordee.db.tables_curation import Filter
from cordee.db.types import utcnow
from cordee.feeds.home import HomeRead, HomeTimeline
from cordee.feeds.memo import HomeMemo
from cordee.queries import timelines as tl
from cordee.queries.pages import with_originals
from cordee.rendering.cache import EntityCache, Mark
from cordee.rendering.pieces import Piece, account_jsons, page_json, render_pieces
from cordee.rendering.statuses import render_filtered, render_live, render_statuses


class HomePage:
    """Status entities of one page and their ids, for paging. A kept page holds only its JSON
    (bytes, far smaller than the dicts); the web app, which wants entities, parses it again."""

    __slots__ = ("ids", "_entities", "_json")

    def __init__(
        self, ids: list[int], entities: list[dict[str, Any]] | None, json: bytes | None = None
    ) -> None:
        self.ids = ids
        self._entities = entities
        self._json = json

    @property
    def entities(self) -> list[dict[str, Any]]:
        if self._entities is None:
            self._entities = orjson.loads(self.json())
        return self._entities

    def json(self) -> bytes:
        if self._json is None:
            self._json = orjson.dumps(self._entities)
        return self._json


@dataclass(slots=True)
class KeptPage:
    """A whole page kept (with its home memo entry, or as an account's page: ``profile_pages``):
    its JSON, with the versions of all it shows merged (its accounts' too: one check serves the
    page as it was)."""

    ids: list[int]
    json: bytes
    generation: int
    keys: tuple[Key, ...]
    versions: tuple[int, ...]
    until: datetime | None

    def holds(self, cache: EntityCache) -> bool:
        return cache.unchanged(self.generation, self.keys, self.versions) and (
            self.until is None or utcnow() < self.until
        )


async def has_filters(db: Database, account_id: int) -> bool:
    """Whether the reader has filters (they send a home page to the general path)."""
    async with db.read() as session:
        return bool(await session.scalar(select(exists().where(Filter.account_id == account_id))))


async def home_page(
    db: Database,
    settings: Settings,
    timeline: HomeTimeline | None,
    account_id: int,
    page: Page,
    *,
    filters: bool,
) -> HomePage:
    """The entities of one page of ``account_id``'s home timeline and their ids (for paging)."""
    if timeline is None:  # an app built without feeds: the same timeline, straight from the database
        return await _general(db, settings, account_id, page, tl.HOME_GENERAL, None, {})
    above = page.above
    found = await _hot(db, settings, timeline, account_id, page.max_id, above, page.limit, filters)
    # A page asked with ``min_id`` is the notes just above it, oldest first; when fewer than
    # a page are there, they are the newest ones above it too: the hot path's page (how a
    # client polls for what is new, with the newest id it has). A short page read every feed
    # entry above the bound, and a trimmed feed keeps ``feed_size`` entries, far more than a
    # page: a short page never stops at the feed's trimmed end, as a full one might.
    if found is not None and (page.min_id is None or len(found.ids) < page.limit):
        return found
    ids = await timeline.candidate_ids(account_id, below=page.max_id, above=above)
    feed = {"feed_ids": ids, "threshold": settings.fanout_follower_threshold}
    # A feed keeps the newest notes only (CORDEE_FEED_SIZE): older pages come from the database.
    return await _general(db, settings, account_id, page, tl.HOME_FROM_FEED, tl.HOME_GENERAL, feed)


async def _hot(
    db: Database,
    settings: Settings,
    timeline: HomeTimeline,
    account_id: int,
    below: int | None,
    above: int | None,
    limit: int,
    filters: bool,
) -> HomePage | None:
    """The newest ``limit`` notes of the home timeline between the bounds, on the hot path; None
    when it cannot answer (``HomeTimeline.page``). A reader with ``filters`` has the page's notes
    rendered through them (no kept page: those are rendered without filters)."""
    await db.catch_up()  # the memo and kept pages hear of other processes' writes first
    cache = db.entities
    mark = cache.mark()  # before anything is read: see rendering/cache.py
    holds = None if filters else lambda kept: kept.holds(cache)
    read = await timeline.page(account_id, below=below, above=above, limit=limit, holds=holds)
    if read is None:
        return None
    if filters:
        assert read.ids is not None  # no kept page is asked for
        # ``hide`` leaves notes out, as on the general path (the ids, for paging, are all of them).
        return HomePage(read.ids, await render_filtered(db, settings, account_id, read.ids, "home"))
    if read.ids is None:
        assert read.entry is not None
        kept: KeptPage = read.entry.rendered
        return HomePage(kept.ids, None, kept.json)
    if timeline.memo is None:  # several processes: nothing kept (see rendering/cache.py)
        assert not read.rows.keys() ^ set(read.ids)
        hot = await with_originals(db.hot, list(read.rows.values()), viewer=account_id)
        entities = await render_live(db, settings, account_id, hot.lives, hot.originals)
        return HomePage([x.id for x in hot.lives], entities)
    return await _hot_page(db, settings, timeline.memo, account_id, read, mark)


async def _hot_page(
    db: Database, settings: Settings, memo: HomeMemo, viewer: int, read: HomeRead, mark: Mark
) -> HomePage:
    """The page of a hot read: each note the reader's last pages showed, unchanged since (its
    versions), is served as it was rendered (``rendering/pieces.py``); the others are rendered
    from their live rows — those the read judged, else read again through ``visible_to``."""
    assert read.ids is not None
    cache, now = db.entities, utcnow()
    before: dict[int, Piece] = memo.pieces(viewer) or {}
    pieces = {i: piece for i in read.ids if (piece := before.get(i)) is not None and piece.holds(cache, now)}
    rows = [read.rows[i] for i in read.ids if i not in pieces and i in read.rows]
    unread = [i for i in read.ids if i not in pieces and i not in read.rows]
    if unread:  # judged by an earlier read: its rows, under the rule of who may see a note
        statement, params = tl.live_visible(viewer)
        rows += await db.hot.rows(statement, ids=unread, **params)
    rows.sort(key=lambda row: row[0], reverse=True)
    hot = await with_originals(db.hot, rows, viewer=viewer)
    accounts: dict[int, bytes] = {}
    kept = dict(pieces)
    complete = True
    cuts = await render_pieces(db, settings, mark, viewer, hot.lives, hot.originals, accounts)
    for live, (piece, keep) in zip(hot.lives, cuts, strict=True):
        pieces[live.id] = piece
        if keep:
            kept[live.id] = pieces[live.id]
        complete = complete and keep
    ids = [i for i in read.ids if i in pieces]  # a note deleted meanwhile has no row
    shown = [pieces[i] for i in ids]
    owners = {owner for piece in shown for owner in piece.accounts}
    await account_jsons(db.hot, settings, cache, owners, accounts)
    memo.keep_pieces(viewer, kept)
    body = page_json(shown, accounts)
    if read.entry is not None and complete and ids == read.ids:
        memo.keep(read.entry, kept_page(cache, ids, shown, owners, body, mark))
    return HomePage(ids, None, body)


def kept_page(
    cache: EntityCache, ids: list[int], pieces: list[Piece], account_ids: set[int], body: bytes, mark: Mark
) -> KeptPage | None:
    """A whole page (``body``) from its pieces, all holding, and its accounts: their keys and
    versions merged (a key shared by two pieces has the same version in both, as both hold); None
    if an account changed since ``mark`` (its JSON in ``body`` may be from before). The page keeps
    its bytes, not its pieces: served again as they are, they need no joining (~10 µs a read)."""
    versions: dict[Key, int] = {}
    until = None
    for piece in pieces:
        versions.update(zip(piece.keys, piece.versions, strict=True))
        if piece.until is not None:
            until = piece.until if until is None else min(until, piece.until)
    owners = [("a", owner) for owner in account_ids]
    current = cache.versions(mark, owners)
    if current is None:
        return None
    versions.update(zip(owners, current, strict=True))
    return KeptPage(ids, body, mark[0], tuple(versions), tuple(versions.values()), until)


async def _general(
    db: Database,
    settings: Settings,
    account_id: int,
    page: Page,
    query: Any,
    older: Any,
    params: dict[str, Any],
) -> HomePage:
    """The page from ``query`` (then ``older`` below it when short), statements built once: run
    with the reader, the time and ``params``."""
    reader = {"viewer": account_id, "now": utcnow()}
    async with db.read() as session:
        rows = page.arrange(list(await session.scalars(page.apply(query, Status.id), {**reader, **params})))
        if older is not None and len(rows) < page.limit and page.min_id is None and page.since_id is None:
            bounds = [r.id for r in rows] + ([page.max_id] if page.max_id is not None else [])
            below = Page(max_id=min(bounds) if bounds else None, limit=page.limit - len(rows))
            rows += list(await session.scalars(below.apply(older, Status.id), reader))
        body = await render_statuses(session, settings, account_id, rows, filter_context="home")
    return HomePage([s.id for s in rows], body)
