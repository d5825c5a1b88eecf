"""Query counts of the hot endpoints (as Zulip guards its own): a change that adds statements to
these paths fails here, and must say why by raising the bound.

Every statement counts: those of SQLAlchemy sessions (engine events) and those of the hot read
path (``db.hot``). The counts are read with the caches warm (the second identical request), as an
instance serves them, and must not grow with the length of the page.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from cordee.api.mastodon.callers import cache_of
from cordee.api.mastodon.serializers.accounts import TIES
from cordee.db import hot_writes
from cordee.db.engine import Database
from cordee.db.sqlite_driver import OneHopConnection
from cordee.db.types import utcnow
from cordee.queries.accounts import EXISTING, FOLLOW_PAGES
from cordee.queries.personal import LISTED_PAGES, PINNED_PAGES
from cordee.queries.timelines import HOME_CHECK, TAG_PAGES
from cordee.rendering.marks import FLAGS
from tests.conftest import ApiUser, MakeUser

Post = Callable[..., Awaitable[dict[str, Any]]]


class Counter:
    def __init__(self) -> None:
        self.statements: list[str] = []


@contextmanager
def counting(db: Database) -> Iterator[Counter]:
    """The statements run inside; the callers kept are dropped first, so that the token's lookup
    counts whatever the time since the last request (``test_a_token_kept...`` counts without)."""
    counter = Counter()
    callers = cache_of(db)
    if callers is not None:
        callers.forget()

    def on_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # Transaction control is not a query (SQLite's group commit adds a SAVEPOINT per writer).
        if not statement.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK")):
            counter.statements.append(statement)

    hot_rows = db.hot.rows

    async def rows(query: Any, **params: Any) -> Any:
        counter.statements.append(query.compiled(db.hot.dialect_name).sql)
        return await hot_rows(query, **params)

    event.listen(db.engine.sync_engine, "before_cursor_execute", on_execute)
    hot_writes.listeners.append(counter.statements.append)  # statements run past the session
    db.hot.rows = rows  # type: ignore[method-assign]
    try:
        yield counter
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", on_execute)
        hot_writes.listeners.remove(counter.statements.append)
        db.hot.rows = hot_rows  # type: ignore[method-assign]


@pytest.fixture
async def scene(
    make_user: MakeUser, client: httpx.AsyncClient, post: Post
) -> AsyncIterator[tuple[ApiUser, ApiUser, list[dict[str, Any]]]]:
    """A reader following an author with 45 notes (some boosts, mentions, hashtags, replies)."""
    reader, author, other = await make_user("reader"), await make_user("author"), await make_user("other")
    for who in (author, other):
        r = await client.post(f"/api/v1/accounts/{who.id}/follow", headers=reader.headers)
        assert r.status_code == 200
    notes = []
    first = await post(other, "the original #cordee")
    for i in range(45):
        if i % 9 == 0:
            r = await client.post(f"/api/v1/statuses/{first['id']}/reblog", headers=author.headers)
            assert r.status_code == 200
            await client.post(f"/api/v1/statuses/{first['id']}/unreblog", headers=author.headers)
        text = f"note {i} @reader #tag{i % 3}" if i % 4 == 0 else f"note {i} https://example.org/{i}"
        notes.append(await post(author, text))
    await client.post(f"/api/v1/statuses/{notes[0]['id']}/favourite", headers=reader.headers)
    await client.post(f"/api/v1/statuses/{notes[1]['id']}/bookmark", headers=reader.headers)
    r = await client.post(f"/api/v1/statuses/{first['id']}/reblog", headers=author.headers)
    assert r.status_code == 200
    yield reader, author, notes


async def _count(
    db: Database, client: httpx.AsyncClient, method: str, url: str, user: ApiUser, **kw: Any
) -> int:
    await client.request(method, url, headers=user.headers, **kw)  # warm the caches
    with counting(db) as counter:
        r = await client.request(method, url, headers=user.headers, **kw)
    assert r.status_code == 200, r.text
    return len(counter.statements)


async def test_home_timeline_costs_a_fixed_handful_of_statements(
    db: Database,
    client: httpx.AsyncClient,
    scene: tuple[ApiUser, ApiUser, list[dict[str, Any]]],
    post: Post,
) -> None:
    reader, author, notes = scene
    # Cold: token (with "has filters?"), feed window (with whether the feed is alive), the feed's
    # first build (3 writes) and its window read again, followed big accounts, the reader's
    # earliest mute deadline, the home rules, boosted originals, the reader's marks.
    with counting(db) as counter:
        r = await client.get("/api/v1/timelines/home?limit=5", headers=reader.headers)
    assert r.status_code == 200
    assert len(counter.statements) == 11
    short = await _count(db, client, "GET", "/api/v1/timelines/home?limit=5", reader)
    # A longer page: the rules run over the notes the first read did not judge (the mute deadline
    # and the followed big accounts are known since it: no follow happened), and those are rendered
    # (token, feed window, rules, boosted originals; the reader's marks are kept since the first
    # read: rendering/marks.py).
    with counting(db) as counter:
        r = await client.get("/api/v1/timelines/home?limit=40", headers=reader.headers)
    assert r.status_code == 200
    assert len(counter.statements) == 4
    # Warm (the same page again, nothing committed since): the rendered page is kept with the
    # memo's answer (rendering/home.py), and the memo knows the feed did not change (its writes
    # are observed: feeds/memo.py `quick`): the token, nothing else.
    full = await _count(db, client, "GET", "/api/v1/timelines/home?limit=40", reader)
    assert full == 1
    assert full == short  # the page's length does not change the count
    # A new note reaches the feed: the rules run over it alone, and it alone is rendered (the
    # reader's marks on it); the page's other notes are served as they were, with their author's
    # account rendered again once (its `statuses_count` moved) from the new note's row.
    counts = {s["account"]["statuses_count"] for s in r.json() if s["account"]["id"] == author.id}
    new = await post(author, "one more note")
    with counting(db) as counter:
        r = await client.get("/api/v1/timelines/home?limit=40", headers=reader.headers)
    assert r.status_code == 200 and r.json()[0]["id"] == new["id"]
    assert {s["account"]["statuses_count"] for s in r.json() if s["account"]["id"] == author.id} == {
        count + 1 for count in counts
    }
    rules = {q.compiled(db.hot.dialect_name).sql for q in HOME_CHECK.every}
    assert sum(sql in rules for sql in counter.statements) == 1
    # token, feed window, the rules over it (the reader's marks are kept: rendering/marks.py)
    assert len(counter.statements) == 3
    # Someone favourites a note on the page: the rules' answer stands (checked against the feed
    # window; the followed big accounts are known while no follow happens); that note alone is
    # read again (its live row under `visible_to`; the reader's marks are kept) and rendered.
    await client.post(f"/api/v1/statuses/{notes[-1]['id']}/favourite", headers=author.headers)
    with counting(db) as counter:
        r = await client.get("/api/v1/timelines/home?limit=40", headers=reader.headers)
    assert r.status_code == 200
    assert [s["favourites_count"] for s in r.json() if s["id"] == notes[-1]["id"]] == [1]
    assert not rules.intersection(counter.statements)
    assert len(counter.statements) == 3
    # A client polling with the newest id it has (``min_id``, as many apps do): the same hot path
    # as ``since_id`` — the general path built the home rules' statement for each request.
    newest = r.json()[0]["id"]
    for poll in (f"since_id={newest}", f"min_id={newest}", f"min_id={notes[-3]['id']}&limit=40"):
        assert await _count(db, client, "GET", f"/api/v1/timelines/home?{poll}", reader) <= 2, poll


async def test_account_statuses_cost_a_fixed_handful_of_statements(
    db: Database,
    client: httpx.AsyncClient,
    make_user: MakeUser,
    scene: tuple[ApiUser, ApiUser, list[dict[str, Any]]],
    post: Post,
) -> None:
    reader, author, _ = scene
    url = f"/api/v1/accounts/{author.id}/statuses"
    another, yet_another = await make_user("another"), await make_user("yet_another")

    async def cold(path: str, user: ApiUser | None = reader) -> int:
        with counting(db) as counter:
            r = await client.get(path, headers=user.headers if user else None)
        assert r.status_code == 200, r.text
        return len(counter.statements)

    # First read of the page by anyone: token, the page as the anonymous reader sees it, whether
    # the account has notes in its span that reader may not see, boosted originals, the reader's
    # blocks either way, their marks (all of them, kept: rendering/marks.py); whether the account
    # exists is asked only of an empty page.
    assert await cold(url + "?limit=5") == 6
    assert await cold(url + "?limit=40") == 4  # the same for any length; blocks and marks known
    # Read again: served as kept (rendering/profile_pages.py), the token only.
    assert await _count(db, client, "GET", url + "?limit=40", reader) == 1
    # Another reader: the page read for the first is theirs too (shared): token, blocks, marks.
    assert await cold(url + "?limit=40", another) == 3
    assert await cold(f"{url}?limit=5&max_id=1") == 4  # token, page, whether it hides, the account exists
    # A profile's other usual tabs (clients ask them with every profile) cost no more (without
    # boosts, no boosted originals to read); the general path took 7.
    for tab in ("exclude_replies=true", "exclude_reblogs=true", "exclude_replies=true&exclude_reblogs=true"):
        assert await cold(f"{url}?limit=40&{tab}") <= 5, tab
    assert await cold(url, None) <= 2  # anonymous: page, boosted originals
    assert await cold(url, None) == 0  # then kept
    # A followers-only note among the page: no reader shares it. The first read learns so (the
    # anonymous page, whether it hides notes, its originals) before reading its reader's own page
    # (page, originals; the reader's marks are kept); later readers read their own at once, as
    # before pages were shared (page, originals, and here the reader's marks, read a first time).
    await post(author, "for my followers", visibility="private")
    assert await cold(url + "?limit=40") == 6
    assert await cold(url + "?limit=40", yet_another) == 4


async def test_a_public_or_tag_timeline_page_is_one_statement_once_its_notes_are_rendered(
    db: Database, client: httpx.AsyncClient, scene: tuple[ApiUser, ApiUser, list[dict[str, Any]]]
) -> None:
    reader, _, _ = scene
    paths = (
        "/api/v1/timelines/public?limit=40",
        "/api/v1/timelines/public?local=true&min_id=1",
        "/api/v1/timelines/tag/TAG1?limit=5",
        "/api/v1/timelines/tag/tag2?min_id=1",
    )
    for headers in (reader.headers, {}):
        for path in paths:
            await client.get(path, headers=headers)  # the notes' bodies rendered once, then kept
            with counting(db) as counter:
                r = await client.get(path, headers=headers)
            assert r.status_code == 200 and len(r.json()) >= 4
            # The page, under the rules for its reader (built once: queries.timelines.PUBLIC_PAGES),
            # and a signed-in reader's token; the bodies and the reader's marks are kept.
            assert len(counter.statements) == (2 if headers else 1), [q[:120] for q in counter.statements]


async def test_a_tag_page_walks_the_tags_index_not_every_note(
    db: Database, scene: tuple[ApiUser, ApiUser, list[dict[str, Any]]]
) -> None:
    """On SQLite the hot statements run on the event loop: a tag's page must cost what its own
    notes cost. As an ``EXISTS`` over every public note, a rare tag's page walked all of them."""
    if not db.is_sqlite:
        pytest.skip("SQLite's plans (the hot statements run on its event loop)")
    conn = sqlite3.connect(str(db.engine.url.database))
    try:
        for query in TAG_PAGES.values():
            sql = query.compiled("sqlite").sql
            plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", [1] * sql.count("?"))]
            assert plan[0].startswith("SEARCH status_tags USING COVERING INDEX ix_status_tags_tag_status"), (
                plan
            )
            assert not any(step.startswith("SCAN") or "TEMP B-TREE" in step for step in plan), plan
    finally:
        conn.close()


async def test_list_pages_walk_their_own_index(
    db: Database, scene: tuple[ApiUser, ApiUser, list[dict[str, Any]]]
) -> None:
    """A page of favourites, bookmarks, followers, follows or pins costs the page, not everything
    in the list: no scan and no sort of the reader's or the account's rows (on SQLite the hot
    statements run on the event loop)."""
    if not db.is_sqlite:
        pytest.skip("SQLite's plans (the hot statements run on its event loop)")
    lists = [*LISTED_PAGES.values(), *FOLLOW_PAGES.values(), *PINNED_PAGES.values()]
    conn = sqlite3.connect(str(db.engine.url.database))
    try:
        for query in lists:
            sql = query.compiled("sqlite").sql
            plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", [1] * sql.count("?"))]
            assert not any(step.startswith("SCAN") or "TEMP B-TREE" in step for step in plan), plan
            # Pins are walked from the pins, not from the author's notes (which it SEARCHed alike).
            assert query not in PINNED_PAGES.values() or not any(
                "ix_statuses_account_id_id" in x for x in plan
            )
    finally:
        conn.close()


async def test_one_status_notifications_post_and_follow_are_bounded(
    db: Database,
    client: httpx.AsyncClient,
    make_user: MakeUser,
    scene: tuple[ApiUser, ApiUser, list[dict[str, Any]]],
) -> None:
    reader, author, notes = scene
    assert await _count(db, client, "GET", f"/api/v1/statuses/{notes[4]['id']}", reader) <= 4
    # A thread (queries/threads.py): token, the note, its parents, its replies, their live rows
    # under the rule (the bodies and the reader's marks kept), whatever the thread's length.
    assert await _count(db, client, "GET", f"/api/v1/statuses/{notes[4]['id']}/context", reader) <= 5
    # Favourites and bookmarks (queries.personal.LISTED_PAGES): token, the page (bodies and marks
    # kept; no boosts among them here).
    for listed in ("favourites", "bookmarks"):
        for note in notes[:3]:
            await client.post(f"/api/v1/statuses/{note['id']}/{listed[:-1]}", headers=reader.headers)
        assert await _count(db, client, "GET", f"/api/v1/{listed}?limit=40", reader) == 2, listed
    # Notifications (queries/notification_pages.py): token, the page, its notes' live rows under
    # the rule, its accounts' counters (bodies and the reader's marks kept); the general path took 7.
    assert await _count(db, client, "GET", "/api/v1/notifications?limit=40", author) == 4
    with counting(db) as counter:
        r = await client.post("/api/v1/statuses", json={"status": "counted"}, headers=author.headers)
    assert r.status_code == 200
    posting = len(counter.statements)
    # token (with the posting defaults), the note, its search entry, its author's count (which
    # returns the counters the answer shows: read after, it was one more), fan-out (one INSERT …
    # SELECT: own feed and followers', the threshold inside); who subscribed to the author is kept
    # since the author's last post, no follow having changed (``db/subscribers.py``); the answer
    # is rendered from what the post wrote (``rendering/new_notes.py``; read back, it was 4 more).
    # On PostgreSQL the note, its search entry and its count are one statement (``WITH``s).
    assert posting <= (5 if db.is_sqlite else 3), counter.statements
    newcomer = await make_user("newcomer")
    with counting(db) as counter:
        r = await client.post(f"/api/v1/accounts/{author.id}/follow", headers=newcomer.headers)
    assert r.status_code == 200
    # token, target/block/existing (one; on PostgreSQL the follow itself with it), the follow, two
    # counters, the notification (inserted if wanted, in one statement; its push deliveries in the
    # same statement on PostgreSQL, one of their own on SQLite, where it rides with the commit; on
    # PostgreSQL the second counter too), the feed merge (threshold inside), the relationship answer
    follow_statements = len(counter.statements)
    assert follow_statements <= (9 if db.is_sqlite else 6), counter.statements


async def test_a_favourite_is_bounded(
    db: Database, client: httpx.AsyncClient, scene: tuple[ApiUser, ApiUser, list[dict[str, Any]]]
) -> None:
    reader, _author, notes = scene
    url = f"/api/v1/statuses/{notes[3]['id']}/favourite"
    with counting(db) as counter:
        r = await client.post(url, headers=reader.headers)
    assert r.status_code == 200 and r.json()["favourited"] is True
    # token, the note (visible to the reader), the favourite (inserted unless there: one
    # statement, no check first), the count, the notification (on PostgreSQL one statement with the
    # count); the answer (note, parts, the reader's marks: the note's version moved)
    assert len(counter.statements) <= (8 if db.is_sqlite else 6), counter.statements
    with counting(db) as counter:
        again = await client.post(url, headers=reader.headers)
    assert again.json()["favourites_count"] == r.json()["favourites_count"]  # counted once


async def test_one_note_is_read_at_the_narrowest_width(
    db: Database, client: httpx.AsyncClient, scene: tuple[ApiUser, ApiUser, list[dict[str, Any]]]
) -> None:
    """A status's page and the answer to a reply read the reader's marks for one note with the
    one-slot statement (binding 80 padded slots five times over cost 4–5× as much), a page with a
    wider one."""
    reader, author, notes = scene
    narrow, *wider = (q.compiled(db.hot.dialect_name).sql for q in FLAGS.every)
    for method, path, user, body in (
        ("GET", f"/api/v1/statuses/{notes[4]['id']}", reader, None),
        ("POST", "/api/v1/statuses", author, {"status": "a reply", "in_reply_to_id": notes[4]["id"]}),
    ):
        with counting(db) as counter:
            r = await client.request(method, path, json=body, headers=user.headers)
        assert r.status_code == 200, r.text
        assert narrow in counter.statements and not set(wider) & set(counter.statements), path
    with counting(db) as counter:
        r = await client.get("/api/v1/timelines/home?limit=40", headers=reader.headers)
    assert r.status_code == 200
    assert not set(counter.statements) & {narrow}  # a page: a wider statement, or none when kept


async def test_one_relationship_is_read_at_the_narrowest_width(
    db: Database, client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    """A follow's answer and a relationship asked for one account bind one slot per list: the
    40-slot statement (ten lists, 400 parameters) cost PostgreSQL ~110 µs of planning at every bind
    and ~150 µs to run, for one account (measured, ``log_min_duration_statement``)."""
    viewer, other = await make_user("viewer"), await make_user("other")
    narrow, *wider = (q.compiled(db.hot.dialect_name).sql for q in TIES.every)
    for method, path in (
        ("POST", f"/api/v1/accounts/{other.id}/follow"),
        ("GET", f"/api/v1/accounts/relationships?id[]={other.id}"),
    ):
        with counting(db) as counter:
            r = await client.request(method, path, headers=viewer.headers)
        assert r.status_code == 200, r.text
        assert narrow in counter.statements and not set(wider) & set(counter.statements), path
        if method == "GET":  # token, which of the ids exist (one slot too), the ties
            assert EXISTING.fitting(1).compiled(db.hot.dialect_name).sql in counter.statements
            assert len(counter.statements) == 3, counter.statements
    ids = "&".join(f"id[]={i}" for i in (other.id, viewer.id))
    with counting(db) as counter:
        r = await client.get(f"/api/v1/accounts/relationships?{ids}", headers=viewer.headers)
    assert [(e["id"], e["following"]) for e in r.json()] == [(other.id, True), (viewer.id, False)]
    assert set(wider) & set(counter.statements) and narrow not in counter.statements


async def test_a_post_and_a_follow_cost_few_hops_to_sqlites_thread(
    db: Database, client: httpx.AsyncClient, make_user: MakeUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite a write runs under the group commit's lock, and under load each hop to the
    driver's thread waits for the event loop to come back: writes nobody reads the result of
    ride with the next statement (``db/sqlite_driver.py``)."""
    if not db.is_sqlite:
        pytest.skip("hops to aiosqlite's thread are SQLite's")
    hops: list[str] = []
    original: Any = OneHopConnection.hop
    original_told: Any = OneHopConnection.hop_told

    def counted(self: OneHopConnection, fn: Any, *args: Any) -> Any:
        hops.append(args[2] if fn.__name__ == "_run" else fn.__name__)
        return original(self, fn, *args)

    def counted_told(self: OneHopConnection, told: Any, fn: Any, *args: Any) -> None:
        hops.append(fn.__name__)
        original_told(self, told, fn, *args)

    author, reader = await make_user("author"), await make_user("reader")
    r = await client.post("/api/v1/statuses", json={"status": "first"}, headers=author.headers)
    assert r.status_code == 200  # the tracked searches are loaded (and kept a while)
    monkeypatch.setattr(OneHopConnection, "hop", counted)
    monkeypatch.setattr(OneHopConnection, "hop_told", counted_told)
    r = await client.post("/api/v1/statuses", json={"status": "hops"}, headers=author.headers)
    assert r.status_code == 200
    # The commit alone: the note, its search entry, its author's count and its fan-out ride
    # with it, all left behind by the writer (who subscribed to the author's notes was read
    # before, on the hot path).
    assert [h.split()[0] for h in hops] == ["_commit_after"], hops
    # A note with hashtags that exist: they are read before the transaction (on the hot path),
    # its tags ride with the commit too. (Read inside it, each was a hop under the writers' lock.)
    monkeypatch.setattr(OneHopConnection, "hop", original)
    monkeypatch.setattr(OneHopConnection, "hop_told", original_told)
    r = await client.post("/api/v1/statuses", json={"status": "#Soiree #tombola"}, headers=author.headers)
    assert r.status_code == 200
    monkeypatch.setattr(OneHopConnection, "hop", counted)
    monkeypatch.setattr(OneHopConnection, "hop_told", counted_told)
    hops.clear()
    r = await client.post("/api/v1/statuses", json={"status": "#soiree #Tombola"}, headers=author.headers)
    assert r.status_code == 200
    assert [h.split()[0] for h in hops] == ["_commit_after"], hops
    assert sorted(t["name"] for t in r.json()["tags"]) == ["soiree", "tombola"]
    # A mention likewise: the account is read before (accounts are never deleted nor renamed), its
    # row and the notification ride with the commit.
    hops.clear()
    r = await client.post("/api/v1/statuses", json={"status": "hi @reader"}, headers=author.headers)
    assert r.status_code == 200
    assert [h.split()[0] for h in hops] == ["_commit_after"], hops
    assert [m["username"] for m in r.json()["mentions"]] == ["reader"]
    hops.clear()
    r = await client.post(f"/api/v1/accounts/{author.id}/follow", headers=reader.headers)
    assert r.status_code == 200
    # What is there, then the commit: the follow (no one else can have inserted it since: one
    # writer at a time), both counters, the notification, its push deliveries and the feed merge
    # ride with it, left behind by the writer.
    assert [h.split()[0] for h in hops] == ["SELECT", "_commit_after"], hops
    # A favourite: the note as the reader may see it, then the commit — the favourite unless it
    # is there, its count and its notification ride with it, each by whether its row went in.
    notes = await client.get(f"/api/v1/accounts/{author.id}/statuses", headers=reader.headers)
    note_id = notes.json()[0]["id"]
    for _ in range(2):  # again: counted and notified once
        hops.clear()
        r = await client.post(f"/api/v1/statuses/{note_id}/favourite", headers=reader.headers)
        assert r.status_code == 200 and r.json()["favourited"] is True
        assert r.json()["favourites_count"] == 1
        assert [h.split()[0] for h in hops] == ["SELECT", "_commit_after"], hops
    notified = await client.get("/api/v1/notifications?types[]=favourite", headers=author.headers)
    assert [n["status"]["id"] for n in notified.json()] == [note_id]
    # A boost: the note as the reader may see it, whether the reader boosted it already, then the
    # commit — the boost's row (past the ORM's flush), the counts and the notification ride with it.
    hops.clear()
    r = await client.post(f"/api/v1/statuses/{note_id}/reblog", headers=reader.headers)
    assert r.status_code == 200 and r.json()["reblog"]["reblogs_count"] == 1
    assert [h.split()[0] for h in hops] == ["SELECT", "SELECT", "_commit_after"], hops


async def test_a_readers_boosts_among_a_page_are_found_by_probes_whatever_they_wrote(
    db: Database, make_user: MakeUser
) -> None:
    """Every rendered page asks which of its notes the reader boosted. Found through the reader's
    notes (``account_id``) that walked every note the reader ever wrote: 3.3 ms a page for a reader
    of 20,000 notes, 38 µs for one of 7 (docs/benchmarks.md). By the boosted note and the reader
    together it is one probe per note shown."""
    if not db.is_sqlite:
        pytest.skip("SQLite's plan, read without statistics; PostgreSQL plans by its statistics")
    reader = await make_user("prolific")
    plan = _marks_plan(db, reader.account_id)
    boosts = [step for step in plan if "statuses" in step and "account_id=?" in step]
    assert boosts and all("reblog_of_id=?" in step for step in boosts), plan


def _marks_plan(db: Database, reader: int) -> list[str]:
    """SQLite's plan of the reader's marks on a page of 20 notes."""
    compiled, args = FLAGS.fitting(20).arguments("sqlite", {"viewer": reader, "ids": list(range(1, 21))})
    conn = sqlite3.connect(db.engine.url.database or "")
    try:
        return [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + compiled.sql, args)]
    finally:
        conn.close()


async def test_a_readers_marks_look_for_muted_threads_only_if_the_reader_muted_one(
    db: Database, make_user: MakeUser
) -> None:
    """The marks' muted-thread branch probed every note of the page by id before asking whether
    the reader muted any thread at all (most readers muted none): 23–26 µs of the statement's
    ~50 for 24 notes on the benchmark's file, 6–9 µs with the question asked first."""
    if not db.is_sqlite:
        pytest.skip("SQLite's plan, read without statistics; PostgreSQL plans by its statistics")
    reader = await make_user("mutes_nothing")
    plan = _marks_plan(db, reader.account_id)
    guard = next(
        i for i, step in enumerate(plan) if "conversation_mutes" in step and "(account_id=?)" in step
    )
    by_id = next(i for i, step in enumerate(plan) if step.startswith("SEARCH statuses") and "(id=?)" in step)
    assert guard < by_id, plan


async def test_the_home_rules_over_a_feeds_new_notes_probe_the_readers_follows(
    db: Database, make_user: MakeUser
) -> None:
    """Judging a feed's new notes (``HOME_CHECK``, on every home read where something arrived)
    built the list of everyone the reader follows, three times: 32 µs to check 2 notes for a
    reader of 130 follows, 673 µs for one of 5,130 (docs/benchmarks.md). Driven by the notes' ids,
    whether the reader follows an author is one probe per note."""
    if not db.is_sqlite:
        pytest.skip("SQLite's plan, read without statistics; PostgreSQL plans by its statistics")
    reader = await make_user("follows_many")
    query = HOME_CHECK.fitting(2)
    params: dict[str, Any] = {name: reader.account_id for name in query.compiled("sqlite").required}
    params.update(now=utcnow(), ids=[1, 2])
    compiled, args = query.arguments("sqlite", params)
    conn = sqlite3.connect(db.engine.url.database or "")
    try:
        plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + compiled.sql, args)]
    finally:
        conn.close()
    follows = [step for step in plan if "SEARCH follows" in step]
    assert follows and all("target_account_id=?" in step for step in follows), plan


async def test_a_notes_home_audience_probes_each_viewers_follows(db: Database, make_user: MakeUser) -> None:
    """Which connected readers' homes show a new note (``streaming.hub._HOME_AUDIENCE``, once per
    note for every stream) built, for each candidate reader, the list of all they follow: 4.3 ms
    for 500 readers following 33 accounts on average, 2.7 ms by probes (docs/benchmarks.md)."""
    if not db.is_sqlite:
        pytest.skip("SQLite's plan, read without statistics; PostgreSQL plans by its statistics")
    from sqlalchemy.dialects import sqlite as sqlite_dialect

    from cordee.streaming.hub import _HOME_AUDIENCE

    await make_user("audience")
    statement = _HOME_AUDIENCE.params(status_id=1, viewers=[1, 2], now=utcnow())
    sql = str(statement.compile(dialect=sqlite_dialect.dialect(), compile_kwargs={"literal_binds": True}))
    conn = sqlite3.connect(db.engine.url.database or "")
    try:
        plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql)]
    finally:
        conn.close()
    follows = [step for step in plan if "SEARCH follows" in step]
    assert follows and all("target_account_id=?" in step for step in follows), plan
