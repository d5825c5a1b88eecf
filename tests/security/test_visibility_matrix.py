"""The visibility matrix: notes of every visibility (and boosts of them, and a reply) × viewers in
every relation to their author × every read surface of the API and every stream → no leak, and
every denial byte-identical to the answer for an id that does not exist.

What each viewer should see is computed here from a small table (``sees``, ``home`` …), not from
the server's rule, with Mastodon's semantics:

- public and unlisted notes are for everyone (unlisted ones stay off the public and tag timelines);
  private notes for the author, their followers and the accounts they mention; direct notes for
  the author and the accounts they mention;
- a block, either way, hides everything both ways — including the blocked author's note carried
  by a third account's boost (finding 6 of the hardening issue), and notifications between them;
- a mute hides the muted account's notes (and boosts of them) from timelines, lists, search,
  streams and notifications, but not from a direct fetch, a profile or a thread (Cordée, like a
  direct fetch, keeps them in threads; Mastodon's context would drop them: no leak either way);
  being muted by the author changes nothing for the viewer;
- a boost is seen when both the boost and the note it carries are; the author's boost of their
  own followers-only note stays followers-only (and its mentions do not come with it);
- a public reply to a private note is public; the private parent stays out of its thread for
  those who may not see it.

The graph is built once (SQLite, one app); relations are set after a first round of notes (so
stale bookmarks, favourites, notifications, conversations and follows are tested) and a second
round is posted while every viewer has every stream open on an in-process hub.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import pytest_asyncio

from cordee.actions import oauth as oauth_actions
from cordee.actions.accounts import Registration, create_local_account
from cordee.app import build_app
from cordee.config import Settings
from cordee.db.engine import Database
from cordee.events.types import Event
from cordee.streaming.channels import channel_for
from cordee.streaming.connections import Connection
from cordee.streaming.hub import Hub
from tests.conftest import BASE_URL

pytestmark = pytest.mark.asyncio(loop_scope="module")

ANON = "anonymous"
AUTHOR, FOLLOWER, STRANGER, MENTIONED = "author", "follower", "stranger", "mentioned"
BLOCKED, BLOCKER, MUTER, MUTED, BOOSTER = "blocked", "blocker", "muter", "muted", "booster"
ACCOUNTS = (AUTHOR, FOLLOWER, STRANGER, MENTIONED, BLOCKED, BLOCKER, MUTER, MUTED, BOOSTER)
VIEWERS = (ANON, *ACCOUNTS)

# The relations, once set (before that, the blocked and the blocker followed the author).
FOLLOW_AUTHOR = {FOLLOWER, MUTER, MUTED, BOOSTER}
FOLLOW_AUTHOR_BEFORE = FOLLOW_AUTHOR | {BLOCKED, BLOCKER}
IN_BLOCK = {BLOCKED, BLOCKER}  # the author blocks BLOCKED; BLOCKER blocks the author
MUTES_AUTHOR = {MUTER}  # and the author mutes MUTED
NOTE_MENTIONS = (MENTIONED, BLOCKED, BLOCKER)  # every note by the author mentions these


@dataclass
class Note:
    key: str
    author: str
    visibility: str
    round: int
    reblog_of: str | None = None
    reply_to: str | None = None
    mentions: tuple[str, ...] = ()
    tagged: bool = True
    id: str = ""
    poll_id: str | None = None


@dataclass
class World:
    client: httpx.AsyncClient
    users: dict[str, tuple[str, dict[str, str]]]  # name → (account id, headers)
    notes: dict[str, Note]
    lists: dict[str, str]  # owner → list id
    bookmarked: dict[str, set[str]]
    frames: dict[tuple[str, str], list[tuple[str, Any]]]  # (viewer, stream) → (event, payload)
    cells: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    absent: dict[tuple[str, str], httpx.Response] = field(default_factory=dict)  # answers for MISSING

    def headers(self, viewer: str) -> dict[str, str]:
        return {} if viewer == ANON else self.users[viewer][1]

    def account(self, name: str) -> str:
        return self.users[name][0]

    def key_of(self, status_id: str) -> str:
        return next(n.key for n in self.notes.values() if n.id == status_id)


# -- the table: who sees what ----------------------------------------------------------------------


def in_block(viewer: str, author: str, *, before: bool = False) -> bool:
    return not before and {viewer, author} & {AUTHOR} == {AUTHOR} and {viewer, author} & IN_BLOCK != set()


def follows(viewer: str, author: str, *, before: bool = False) -> bool:
    return author == AUTHOR and viewer in (FOLLOW_AUTHOR_BEFORE if before else FOLLOW_AUTHOR)


def mutes(viewer: str, author: str) -> bool:
    return author == AUTHOR and viewer in MUTES_AUTHOR


def sees_itself(viewer: str, note: Note, *, before: bool = False) -> bool:
    if viewer == ANON:
        return note.visibility in ("public", "unlisted")
    if in_block(viewer, note.author, before=before):
        return False
    if viewer == note.author or note.visibility in ("public", "unlisted"):
        return True
    if note.visibility == "private":
        return follows(viewer, note.author, before=before) or viewer in note.mentions
    return viewer in note.mentions  # direct


def sees(w: World, viewer: str, note: Note, *, before: bool = False) -> bool:
    carried = w.notes[note.reblog_of] if note.reblog_of else None
    return sees_itself(viewer, note, before=before) and (
        carried is None or sees_itself(viewer, carried, before=before)
    )


def shown(w: World, viewer: str, note: Note) -> bool:
    """Not left out of the viewer's lists by a mute (or a block with the boosted author)."""
    if viewer == ANON:
        return True
    carried = w.notes[note.reblog_of] if note.reblog_of else None
    return not mutes(viewer, note.author) and not (
        carried is not None and (mutes(viewer, carried.author) or in_block(viewer, carried.author))
    )


def home(w: World, viewer: str, note: Note) -> bool:
    if viewer == ANON or not (note.author == viewer or follows(viewer, note.author)):
        return False
    if note.reply_to is not None:
        answered = w.notes[note.reply_to].author
        if answered not in (viewer, note.author) and not follows(viewer, answered):
            return False
    return sees(w, viewer, note) and shown(w, viewer, note)


def public(w: World, viewer: str, note: Note) -> bool:
    return (
        note.visibility == "public"
        and note.reblog_of is None
        and sees(w, viewer, note)
        and shown(w, viewer, note)
    )


def in_list(w: World, viewer: str, note: Note) -> bool:
    """Lists (replies policy "list") hold the author only."""
    if viewer not in w.lists or note.author != AUTHOR:
        return False
    return sees(w, viewer, note) and shown(w, viewer, note)


def thread(w: World, viewer: str, note: Note) -> set[str]:
    """Ids in the note's context: the reply and its private parent, each if the viewer sees it."""
    around = [n for n in w.notes.values() if n.reply_to == note.key]
    if note.reply_to is not None:
        around.append(w.notes[note.reply_to])
    return {n.id for n in around if sees(w, viewer, n)}


# -- building the graph ----------------------------------------------------------------------------


async def _ok(r: httpx.Response) -> Any:
    assert r.status_code == 200, (r.request.method, r.request.url, r.status_code, r.text)
    return r.json()


async def _post_round(w: World, rnd: int) -> None:
    c = w.client
    mention_text = " ".join(f"@{name}" for name in NOTE_MENTIONS)
    for vis, key in (("public", "pub"), ("unlisted", "unl"), ("private", "priv"), ("direct", "dm")):
        data: dict[str, Any] = {"status": f"{key}{rnd} {mention_text} #matrix", "visibility": vis}
        if rnd == 1 and vis in ("public", "private"):
            data.update({"poll[options][]": ["yes", "no"], "poll[expires_in]": "86400"})
        body = await _ok(await c.post("/api/v1/statuses", data=data, headers=w.headers(AUTHOR)))
        note = Note(f"{key}{rnd}", AUTHOR, vis, rnd, mentions=NOTE_MENTIONS, id=body["id"])
        note.poll_id = body["poll"]["id"] if body.get("poll") else None
        w.notes[note.key] = note
    for key, booster in (("pub", BOOSTER), ("unl", BOOSTER), ("priv", AUTHOR)):
        original = w.notes[f"{key}{rnd}"]
        r = await c.post(f"/api/v1/statuses/{original.id}/reblog", headers=w.headers(booster))
        boost = await _ok(r)
        visibility = "private" if key == "priv" else "public"
        w.notes[f"b{key}{rnd}"] = Note(
            f"b{key}{rnd}", booster, visibility, rnd, reblog_of=original.key, tagged=False, id=boost["id"]
        )
    parent = w.notes[f"priv{rnd}"]
    data = {"status": f"rep{rnd} an answer #matrix", "in_reply_to_id": parent.id}
    body = await _ok(await c.post("/api/v1/statuses", json=data, headers=w.headers(FOLLOWER)))
    w.notes[f"rep{rnd}"] = Note(f"rep{rnd}", FOLLOWER, "public", rnd, reply_to=parent.key, id=body["id"])


async def _build(client: httpx.AsyncClient, db: Database, settings: Settings) -> World:
    users = {}
    for name in ACCOUNTS:
        account_id, user_id = await create_local_account(
            db,
            settings,
            Registration(name, f"{name}@example.org", "correct horse battery"),
            enforce_mode=False,
        )
        scopes = "read write follow push"
        app = await oauth_actions.create_application(db, "tests", ["urn:ietf:wg:oauth:2.0:oob"], scopes, None)
        token = await oauth_actions.issue_user_token(db, app, user_id, frozenset(scopes.split()))
        users[name] = (str(account_id), {"Authorization": f"Bearer {token.access_token}"})
    w = World(client, users, {}, {}, defaultdict(set), defaultdict(list))
    author_id = w.account(AUTHOR)
    for name in FOLLOW_AUTHOR_BEFORE:
        await _ok(await client.post(f"/api/v1/accounts/{author_id}/follow", headers=w.headers(name)))
        lst = await _ok(await client.post("/api/v1/lists", json={"title": "a"}, headers=w.headers(name)))
        r = await client.post(
            f"/api/v1/lists/{lst['id']}/accounts", json={"account_ids": [author_id]}, headers=w.headers(name)
        )
        await _ok(r)
        w.lists[name] = lst["id"]
    await _post_round(w, 1)
    for key in ("pub1", "priv1"):
        await _ok(await client.post(f"/api/v1/statuses/{w.notes[key].id}/pin", headers=w.headers(AUTHOR)))
    # Before the relations: everyone bookmarks and favourites what they may see then.
    for viewer in ACCOUNTS:
        for note in w.notes.values():
            if note.reblog_of is None and sees(w, viewer, note, before=True):
                for verb in ("bookmark", "favourite"):
                    await _ok(
                        await client.post(f"/api/v1/statuses/{note.id}/{verb}", headers=w.headers(viewer))
                    )
                w.bookmarked[viewer].add(note.key)
    # The relations.
    await _ok(await client.post(f"/api/v1/accounts/{w.account(BLOCKED)}/block", headers=w.headers(AUTHOR)))
    await _ok(await client.post(f"/api/v1/accounts/{author_id}/block", headers=w.headers(BLOCKER)))
    await _ok(await client.post(f"/api/v1/accounts/{author_id}/mute", headers=w.headers(MUTER)))
    await _ok(await client.post(f"/api/v1/accounts/{w.account(MUTED)}/mute", headers=w.headers(AUTHOR)))
    return w


STREAMS = ("user", "public", "public:local", "hashtag", "direct", "user:notification", "list")


async def _second_round_on_streams(w: World, db: Database, settings: Settings) -> None:
    """Every viewer with every stream open on a hub of its own; the second round of notes posted."""
    events: list[Event] = []

    async def record(batch: Any) -> None:
        events.extend(batch)

    db.bus.subscribe(record)
    hub = Hub(db, settings)
    opened: list[tuple[str, str, Connection]] = []
    for viewer in ACCOUNTS:
        account_id = int(w.account(viewer))
        for stream in STREAMS:
            if stream == "list" and viewer not in w.lists:
                continue
            params = {"tag": "matrix"} if stream == "hashtag" else {}
            if stream == "list":
                params = {"list": w.lists[viewer]}
            connection = await hub.connect(account_id, "ws")
            hub.subscribe(connection, channel_for(stream, params, account_id))
            opened.append((viewer, stream, connection))
    await _post_round(w, 2)
    await hub.process(events)
    for viewer, stream, connection in opened:
        while not connection.queue.empty():
            raw = connection.queue.get_nowait()
            assert raw is not None, f"{viewer}'s {stream} stream was closed"
            message = orjson.loads(raw)
            payload = orjson.loads(message["payload"]) if "payload" in message else None
            w.frames[(viewer, stream)].append((message["event"], payload))
        hub.disconnect(connection)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    tmp = tmp_path_factory.mktemp("matrix")
    shutil.copy(template_db, tmp / "cordee.sqlite3")
    db = Database(f"sqlite+aiosqlite:///{tmp / 'cordee.sqlite3'}")
    settings = Settings(base_url=BASE_URL, data_dir=tmp / "data", secret_key="test-secret")
    app = build_app(settings, database=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client:
        w = await _build(client, db, settings)
        await _second_round_on_streams(w, db, settings)
        yield w
        total = sum(w.cells.values())
        print(f"\nvisibility matrix: {total} cells checked, 0 leaks ({dict(w.cells)})")
    await db.dispose()


# -- checking --------------------------------------------------------------------------------------


async def _get(w: World, viewer: str, path: str, **params: Any) -> httpx.Response:
    r = await w.client.get(path, params=params, headers=w.headers(viewer))
    assert r.status_code < 500, f"server error on {path} for {viewer}: {r.status_code} {r.text}"
    return r


def _ids(entities: Iterable[dict[str, Any]]) -> set[str]:
    """Every note id in these entities, boosted ones included."""
    found = set()
    for entity in entities:
        if entity is None:
            continue
        found.add(entity["id"])
        if entity.get("reblog"):
            found.add(entity["reblog"]["id"])
    return found


def _expect_ids(w: World, surface: str, viewer: str, got: set[str], expected: Iterable[Note]) -> None:
    """``got`` (ids of notes and of the notes boosts carry) is exactly ``expected`` and what its
    boosts carry: a note beyond it is a leak, a note short of it a broken surface."""
    expected = list(expected)
    want = {n.id for n in expected}
    carried = {w.notes[n.reblog_of].id for n in expected if n.reblog_of}
    for note in w.notes.values():
        w.cells[surface] += 1
        if note.id in got and note.id not in want | carried:
            raise AssertionError(f"LEAK: {surface} shows {note.key} to {viewer}")
    missing = {w.key_of(i) for i in want - got}
    assert not missing, f"{surface} hides {sorted(missing)} from {viewer}"


def _no_leak(w: World, surface: str, viewer: str, got: set[str]) -> None:
    allowed = {n.id for n in w.notes.values() if sees(w, viewer, n)}
    w.cells[surface] += len(w.notes)
    leaked = sorted(w.key_of(i) for i in got - allowed if any(n.id == i for n in w.notes.values()))
    assert not leaked, f"LEAK: {surface} carries {leaked} to {viewer}"


async def _denied_like_missing(w: World, viewer: str, path: str, missing_path: str, surface: str) -> None:
    r = await _get(w, viewer, path)
    absent = w.absent.get((viewer, missing_path))
    if absent is None:
        absent = w.absent[(viewer, missing_path)] = await _get(w, viewer, missing_path)
    assert absent.status_code == 404
    assert (r.status_code, r.content) == (absent.status_code, absent.content), (
        f"LEAK: {surface} {path} for {viewer} answers {r.status_code} {r.text[:200]}"
    )


MISSING = "1"  # no note, no poll has this id


@pytest.mark.parametrize("viewer", VIEWERS)
async def test_single_note_surfaces(world: World, viewer: str) -> None:
    """GET the note, its context, favourited_by/reblogged_by, history, source and poll."""
    w = world
    for note in w.notes.values():
        visible = sees(w, viewer, note)
        base = f"/api/v1/statuses/{note.id}"
        surfaces = ["", "/context", "/favourited_by", "/reblogged_by", "/history"]
        if viewer != ANON:
            surfaces.append("/source")
        for suffix in surfaces:
            surface = f"status{suffix}"
            w.cells[surface] += 1
            original_only = suffix in ("/history", "/source") and note.reblog_of is not None
            if not visible or original_only:
                await _denied_like_missing(
                    w, viewer, base + suffix, f"/api/v1/statuses/{MISSING}{suffix}", surface
                )
                continue
            r = await _get(w, viewer, base + suffix)
            if suffix == "/source" and viewer != note.author:
                assert r.status_code == 403, (surface, note.key, viewer, r.text)
                continue
            body = await _ok(r)
            if suffix == "":
                assert _ids([body]) == {note.id} | ({w.notes[note.reblog_of].id} if note.reblog_of else set())
            elif suffix == "/context":
                got = _ids(body["ancestors"]) | _ids(body["descendants"])
                assert got == thread(w, viewer, note), (note.key, viewer, body)
            elif suffix in ("/favourited_by", "/reblogged_by"):
                shown_ids = {a["id"] for a in body}
                hidden = {w.account(AUTHOR)} if viewer in IN_BLOCK else set()
                if viewer == AUTHOR:
                    hidden = {w.account(x) for x in IN_BLOCK}
                assert not shown_ids & hidden, f"LEAK: {surface} of {note.key} shows a blocked account"
        if note.poll_id is not None:
            w.cells["poll"] += 1
            path = f"/api/v1/polls/{note.poll_id}"
            if visible:
                assert (await _ok(await _get(w, viewer, path)))["id"] == note.poll_id
            else:
                await _denied_like_missing(w, viewer, path, f"/api/v1/polls/{MISSING}", "poll")


@pytest.mark.parametrize("viewer", VIEWERS)
async def test_lists_of_notes(world: World, viewer: str) -> None:
    """?id[]=, profiles and pins, every timeline, search, bookmarks and favourites."""
    w = world
    notes = list(w.notes.values())
    many = await _ok(await _get(w, viewer, "/api/v1/statuses", **{"id[]": [n.id for n in notes][:40]}))
    _expect_ids(w, "statuses?id[]", viewer, _ids(many), [n for n in notes if sees(w, viewer, n)])

    for owner in (AUTHOR, BOOSTER, FOLLOWER):
        path = f"/api/v1/accounts/{w.account(owner)}/statuses"
        expected = [n for n in notes if n.author == owner and sees(w, viewer, n)]
        for params in ({}, {"exclude_replies": "true"}, {"limit": "40"}):
            got = _ids(await _ok(await _get(w, viewer, path, **params)))
            keep = [n for n in expected if not (params.get("exclude_replies") and n.reply_to)]
            _expect_ids(w, "account statuses", viewer, got, keep)
        pinned = await _ok(await _get(w, viewer, path, pinned="true"))
        want = [n for n in expected if n.key in ("pub1", "priv1")]
        _expect_ids(w, "pinned", viewer, _ids(pinned), want)

    timelines: dict[str, tuple[str, dict[str, str], Any]] = {
        "public": ("/api/v1/timelines/public", {}, public),
        "local": ("/api/v1/timelines/public", {"local": "true"}, public),
        "tag": ("/api/v1/timelines/tag/matrix", {}, public),
    }
    if viewer != ANON:
        timelines["home"] = ("/api/v1/timelines/home", {}, home)
    if viewer in w.lists:
        timelines["list"] = (f"/api/v1/timelines/list/{w.lists[viewer]}", {}, in_list)
    for surface, (path, params, rule) in timelines.items():
        got = _ids(await _ok(await _get(w, viewer, path, limit="40", **params)))
        _expect_ids(w, surface, viewer, got, [n for n in notes if rule(w, viewer, n)])

    found = await _ok(await _get(w, viewer, "/api/v2/search", q="matrix", type="statuses", limit="40"))
    expected = [n for n in notes if n.reblog_of is None and sees(w, viewer, n) and shown(w, viewer, n)]
    _expect_ids(w, "search", viewer, _ids(found["statuses"]), expected)

    if viewer != ANON:
        for surface in ("bookmarks", "favourites"):
            got = _ids(await _ok(await _get(w, viewer, f"/api/v1/{surface}", limit="40")))
            expected = [n for n in notes if n.key in w.bookmarked[viewer] and sees(w, viewer, n)]
            _expect_ids(w, surface, viewer, got, expected)


@pytest.mark.parametrize("viewer", ACCOUNTS)
async def test_notifications_and_conversations(world: World, viewer: str) -> None:
    w = world
    notes = list(w.notes.values())
    body = await _ok(await _get(w, viewer, "/api/v1/notifications", limit="80"))
    seen = _ids(n.get("status") for n in body)
    _no_leak(w, "notifications", viewer, seen)
    mentioned_in = {n.id for n in notes if viewer in n.mentions and sees(w, viewer, n)}
    assert mentioned_in <= seen, f"notifications miss mentions of {viewer}"
    blocked = {w.account(x) for x in IN_BLOCK} if viewer == AUTHOR else set()
    if viewer in IN_BLOCK:
        blocked = {w.account(AUTHOR)}
    assert not {n["account"]["id"] for n in body} & blocked, f"LEAK: notification across a block to {viewer}"
    for n in body:
        one = await _ok(await _get(w, viewer, f"/api/v1/notifications/{n['id']}"))
        _no_leak(w, "notification/{id}", viewer, _ids([one.get("status")]))

    conversations = await _ok(await _get(w, viewer, "/api/v1/conversations", limit="40"))
    last = _ids(c["last_status"] for c in conversations)
    _no_leak(w, "conversations", viewer, last)
    if viewer in (AUTHOR, MENTIONED):
        assert w.notes["dm2"].id in last, f"conversations of {viewer} miss dm2"


def _stream_ids(w: World, viewer: str, stream: str, event: str = "update") -> set[str]:
    return _ids(p for e, p in w.frames[(viewer, stream)] if e == event)


@pytest.mark.parametrize("viewer", ACCOUNTS)
async def test_streams(world: World, viewer: str) -> None:
    """The second round, as the streams carried it (the first was posted before they opened)."""
    w = world
    second = [n for n in w.notes.values() if n.round == 2]
    rules: dict[str, Any] = {"user": home, "public": public, "public:local": public}
    rules["hashtag"] = lambda w, v, n: n.tagged and public(w, v, n)
    if viewer in w.lists:
        rules["list"] = in_list
    for stream, rule in rules.items():
        expected = [n for n in second if rule(w, viewer, n)]
        _expect_ids(w, f"stream {stream}", viewer, _stream_ids(w, viewer, stream), expected)
    for stream in ("user", "user:notification"):
        got = _ids(p.get("status") for e, p in w.frames[(viewer, stream)] if e == "notification")
        _no_leak(w, f"stream {stream} notifications", viewer, got)
    conversations = _ids(p["last_status"] for e, p in w.frames[(viewer, "direct")] if e == "conversation")
    _no_leak(w, "stream direct", viewer, conversations)
    if viewer in (AUTHOR, MENTIONED):
        assert w.notes["dm2"].id in conversations, f"the direct stream of {viewer} misses dm2"
    for stream in STREAMS:
        _no_leak(w, f"stream {stream} (any event)", viewer, _stream_ids(w, viewer, stream))
