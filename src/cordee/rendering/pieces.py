"""Notes rendered for one reader, kept as JSON and served again while they hold; their authors
rendered once for every reader.

A note on a page is the same bytes from one read to the next unless something it shows changed:
its body or counters, its boosted note, its poll, the reader's marks on it (the versions of
``rendering/cache.py``). Its author's account is the exception: every note of an author shows the
author's ``statuses_count`` and ``last_status_at``, which move with each of the author's posts.
So a *piece* holds the note's JSON cut around its accounts (the note's own and, for a boost, the
boosted note's), and the accounts' JSON is laid in when the page is served — rendered once per
version of the account for all readers (``EntityCache.account_json``). A new post then renders
one account again, not every note of its author on every reader's page.

Most of a note's piece is the same for every reader: only the reader's marks on it (favourited,
boosted, bookmarked, in a muted thread) and its author's own view (the app's name, pinned) differ.
So a piece rendered for a reader who has no mark on the note and wrote none of it is kept once
more, *shared* (``EntityCache.shared_piece``), and given as it is to the next such reader whose
page shows the note while it holds: a note new on the pages of its author's 120 followers is
rendered once, not 120 times (the marks are read for the page first, one statement as before).
Notes with a poll are never shared (a poll shows the reader's own votes).

The cut is structural, not a marker in the text: a note's JSON is written without ``account`` and
``reblog`` and those two keys are appended (``{…,"account":`` ACCOUNT ``,"reblog":null}``), so no
user text can be taken for a cut.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from cordee.config import Settings
from cordee.db.changes import Key
from cordee.db.engine import Database
from cordee.db.hot import HotReader
from cordee.db.types import utcnow
from cordee.queries.pages import Live
from cordee.queries.timelines import ACCOUNT_LIVE
from cordee.rendering.cache import EntityCache, Mark
from cordee.rendering.marks import Marks
from cordee.rendering.statuses import account_bodies, render_live, with_counters

_ACCOUNT = b',"account":'


@dataclass(slots=True)
class Piece:
    """One note as rendered for its reader: its JSON around its accounts (``segments`` has one
    more item than ``accounts``), and the versions of what else it shows."""

    segments: tuple[bytes, ...]
    accounts: tuple[int, ...]
    generation: int
    keys: tuple[Key, ...]
    versions: tuple[int, ...]
    #: When a poll on the note ends (its entity says ``expired``), if one does.
    until: datetime | None

    def holds(self, cache: EntityCache, now: datetime) -> bool:
        return cache.unchanged(self.generation, self.keys, self.versions) and (
            self.until is None or now < self.until
        )


def _cut(entity: dict[str, Any]) -> tuple[list[bytes], list[dict[str, Any]]]:
    """The entity's JSON cut around its accounts, and those accounts' entities."""
    account, reblog = entity.pop("account"), entity.pop("reblog")
    head = orjson.dumps(entity)[:-1] + _ACCOUNT
    if reblog is None:
        return [head, b',"reblog":null}'], [account]
    inner = reblog.pop("account")
    reblog.pop("reblog")  # None: a boost carries a note, never a boost
    middle = b',"reblog":' + orjson.dumps(reblog)[:-1] + _ACCOUNT
    return [head, middle, b',"reblog":null}}'], [account, inner]


def cut(
    cache: EntityCache,
    mark: Mark,
    viewer: int,
    live: Live,
    original: Live | None,
    entity: dict[str, Any],
    accounts: dict[int, bytes],
) -> tuple[Piece, bool]:
    """The piece of a note rendered since ``mark`` (``entity`` is consumed), and whether it may be
    kept (nothing it shows changed since the mark). Its accounts' JSON goes into ``accounts``, and
    into the cache for every reader when they may be kept."""
    polls = (entity["poll"], None if entity["reblog"] is None else entity["reblog"]["poll"])
    segments, shown = _cut(entity)
    owners = (live.account_id,) if original is None else (live.account_id, original.account_id)
    for owner, account in zip(owners, shown, strict=True):
        if owner not in accounts:
            accounts[owner] = orjson.dumps(account)
            cache.put_account_json(mark, owner, accounts[owner])
    keys: list[Key] = [("r", viewer), ("s", live.id)]
    if original is not None:
        keys.append(("s", original.id))
    until = None
    for poll in polls:
        if poll is not None:
            keys.append(("p", int(poll["id"])))
            if poll["expires_at"] is not None and not poll["expired"]:
                ends = datetime.fromisoformat(poll["expires_at"])
                until = ends if until is None else min(until, ends)
    versions = cache.versions(mark, keys)
    piece = Piece(tuple(segments), owners, mark[0], tuple(keys), versions or (), until)
    return piece, versions is not None


def cut_all(
    cache: EntityCache,
    mark: Mark,
    viewer: int,
    lives: Sequence[Live],
    originals: dict[int, Live],
    entities: Sequence[dict[str, Any]],
    accounts: dict[int, bytes],
) -> list[tuple[Piece, bool]]:
    """``cut`` for each note of a page rendered since ``mark`` (``entities``, consumed, in the
    order of ``lives``; a boost's note in ``originals``)."""
    cuts = []
    for live, entity in zip(lives, entities, strict=True):
        original = originals[live.reblog_of_id] if live.reblog_of_id is not None else None
        cuts.append(cut(cache, mark, viewer, live, original, entity, accounts))
    return cuts


def _shared_key(
    viewer: int | None, live: Live, original: Live | None, marks: Marks | None
) -> tuple[int, bool] | None:
    """The key of the note's piece shared between readers, or None when this reader sees the note
    their own way: they wrote it or the note it boosts (the app's name, pinned), or marked either."""
    if viewer is None:
        return live.id, True
    if viewer == live.account_id or (original is not None and viewer == original.account_id):
        return None
    if marks is not None:
        for status_id in (live.id,) if original is None else (live.id, original.id):
            if (
                status_id in marks.favourited
                or status_id in marks.reblogged
                or status_id in marks.bookmarked
                or status_id in marks.muted
            ):
                return None
    return live.id, False


async def render_pieces(
    db: Database,
    settings: Settings,
    mark: Mark,
    viewer: int | None,
    lives: Sequence[Live],
    originals: dict[int, Live],
    accounts: dict[int, bytes],
) -> list[tuple[Piece, bool]]:
    """The piece of each note of a page read since ``mark`` for ``viewer`` (None: anonymous), and
    whether it may be kept: the note's shared piece where the reader sees it as anyone does and it
    holds, else rendered (``cut``) and shared where it may be. The accounts of the notes rendered
    go into ``accounts``; those of shared pieces are the caller's to lay in (``account_jsons``)."""
    cache, now = db.entities, utcnow()
    marks = None
    if viewer is not None and lives:  # read once for the page, whether its notes are shared or not
        marks = await db.marks.of(db.hot, viewer, [*(x.id for x in lives), *originals])
    reader: Key = ("r", viewer or 0)
    reader_version = cache.versions(mark, (reader,))  # None: the reader's marks moved since the mark
    found: dict[int, tuple[Piece, bool]] = {}
    shared_keys: dict[int, tuple[int, bool]] = {}
    for live in lives:
        original = originals[live.reblog_of_id] if live.reblog_of_id is not None else None
        key = _shared_key(viewer, live, original, marks)
        if key is None or reader_version is None:
            continue
        shared = cache.shared_piece(key, now)
        if shared is None:
            shared_keys[live.id] = key
            continue
        keys, versions = (reader, *shared.keys), (*reader_version, *shared.versions)
        found[live.id] = (
            Piece(shared.segments, shared.accounts, shared.generation, keys, versions, None),
            True,
        )
    rest = [x for x in lives if x.id not in found]
    if rest:
        wanted = {x.reblog_of_id for x in rest}
        boosted = {i: x for i, x in originals.items() if i in wanted}
        entities = await render_live(db, settings, viewer, rest, boosted, marks=marks)
        cuts = cut_all(cache, mark, viewer or 0, rest, boosted, entities, accounts)
        for live, (piece, keep) in zip(rest, cuts, strict=True):
            found[live.id] = (piece, keep)
            key = shared_keys.get(live.id)
            # A piece's first key is its reader's (``cut``); a poll's key means per-reader votes.
            if key is not None and keep and all(kind != "p" for kind, _ in piece.keys):
                shared = Piece(
                    piece.segments, piece.accounts, piece.generation, piece.keys[1:], piece.versions[1:], None
                )
                cache.put_shared_piece(key, shared)
    return [found[x.id] for x in lives]


async def account_jsons(
    hot: HotReader, settings: Settings, cache: EntityCache, ids: Iterable[int], known: dict[int, bytes]
) -> dict[int, bytes]:
    """The JSON of these accounts as every note shows them (``known``, else the cache, else built
    from their body and fresh counters: one statement for all that are missing)."""
    mark = cache.mark()  # before the counters are read: see rendering/cache.py
    missing = []
    for account_id in ids:
        if account_id not in known:
            found = cache.account_json(account_id)
            if found is None:
                missing.append(account_id)
            else:
                known[account_id] = found
    if missing:
        bodies = await account_bodies(hot, settings, cache, missing)
        for account_id, *counters in await hot.rows(ACCOUNT_LIVE, ids=missing):
            known[account_id] = orjson.dumps(with_counters(bodies[account_id], *counters))
            cache.put_account_json(mark, account_id, known[account_id])
    return known


def page_json(pieces: Sequence[Piece], accounts: dict[int, bytes]) -> bytes:
    """A page's JSON array from its pieces, their accounts laid in."""
    parts = [b"["]
    for n, piece in enumerate(pieces):
        if n:
            parts.append(b",")
        segments = piece.segments
        parts.append(segments[0])
        for i, owner in enumerate(piece.accounts, 1):
            parts.append(accounts[owner])
            parts.append(segments[i])
    parts.append(b"]")
    return b"".join(parts)
