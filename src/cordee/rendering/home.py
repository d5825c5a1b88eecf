"""One page of a home timeline as status entities: the hot path when it can answer, else the general
path. Shared by ``GET /api/v1/timelines/home`` and the web app's ``/home``, so both read the same
timeline the same way (one rule, one place).

A page rendered on the hot path is kept in the home memo's entry for it (``feeds/memo.py``: the
same reader, bounds and feed window, nothing the home rules read changed), with the versions of
what it shows (``rendering/cache.py``: its notes and their counters, their authors, their polls,
the reader's own marks). The next read of that page, while both hold, costs the feed window's
reads and no rendering at all: the entities and their JSON are served as they were.
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
from cordee.feeds.home import HomeTimeline
from cordee.queries import timelines as tl
from cordee.queries.pages import LivePage
from cordee.rendering.cache import EntityCache, Mark
from cordee.rendering.statuses import render_live, render_statuses


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
class _Kept:
    ids: list[int]
    json: bytes
    generation: int
    keys: tuple[Key, ...]
    versions: tuple[int, ...]
    #: When a poll on the page ends (its entity says ``expired``), if one does.
    until: datetime | None


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
        return await _general(db, settings, account_id, page, tl.home_query(account_id), None)
    if page.min_id is None and not filters:  # filters apply on the general path
        cache = db.entities
        mark = cache.mark()  # before anything is read: see rendering/cache.py

        def holds(kept: _Kept) -> bool:
            return cache.unchanged(kept.generation, kept.keys, kept.versions) and (
                kept.until is None or utcnow() < kept.until
            )

        read = await timeline.page(
            account_id, below=page.max_id, above=page.since_id, limit=page.limit, holds=holds
        )
        if read is not None:
            if read.page is None:
                assert read.entry is not None
                kept: _Kept = read.entry.rendered
                return HomePage(kept.ids, None, kept.json)  # its own: a caller may parse it
            hot = read.page
            body = HomePage(
                [x.id for x in hot.lives],
                await render_live(db, settings, account_id, hot.lives, hot.originals),
            )
            if read.entry is not None and timeline.memo is not None:
                timeline.memo.keep(read.entry, _keep(cache, mark, account_id, hot, body))
            return body
    lower = [b for b in (page.since_id, page.min_id) if b is not None]
    ids = await timeline.candidate_ids(account_id, below=page.max_id, above=max(lower) if lower else None)
    query = tl.home_feed_query(account_id, ids, settings.fanout_follower_threshold)
    # A feed keeps the newest notes only (CORDEE_FEED_SIZE): older pages come from the database.
    return await _general(db, settings, account_id, page, query, tl.home_query(account_id))


def _keep(cache: EntityCache, mark: Mark, viewer: int, hot: LivePage, body: HomePage) -> _Kept | None:
    """What to keep of a page rendered since ``mark``, or None if something it shows changed since."""
    keys: list[Key] = [("r", viewer)]
    for live in (*hot.lives, *hot.originals.values()):
        keys += (("s", live.id), ("a", live.account_id))
    until = None
    for entity in body.entities:
        for shown in (entity, entity["reblog"]):
            poll = shown["poll"] if shown is not None else None
            if poll is not None:
                keys.append(("p", int(poll["id"])))
                if poll["expires_at"] is not None and not poll["expired"]:
                    ends = datetime.fromisoformat(poll["expires_at"])
                    until = ends if until is None else min(until, ends)
    versions = cache.versions(mark, keys)
    if versions is None:
        return None
    return _Kept(body.ids, body.json(), mark[0], tuple(keys), versions, until)


async def _general(
    db: Database, settings: Settings, account_id: int, page: Page, query: Any, older: Any
) -> HomePage:
    async with db.read() as session:
        rows = page.arrange(list(await session.scalars(page.apply(query, Status.id))))
        if older is not None and len(rows) < page.limit and page.min_id is None and page.since_id is None:
            bounds = [r.id for r in rows] + ([page.max_id] if page.max_id is not None else [])
            below = Page(max_id=min(bounds) if bounds else None, limit=page.limit - len(rows))
            rows += list(await session.scalars(below.apply(older, Status.id)))
        body = await render_statuses(session, settings, account_id, rows, filter_context="home")
    return HomePage([s.id for s in rows], body)
