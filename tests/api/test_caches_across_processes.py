"""Several server processes on PostgreSQL + Redis keep their caches (the home memo, kept pages, who
holds a token) and still show every change at once: a write answered by one process is seen by
the very next request another serves, its caches warm (``db/change_log.py``). Each test warms the
second process, changes one thing through the first, and reads the second at once."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable
from contextlib import AsyncExitStack
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection
from sqlalchemy import event, text

from cordee.actions import oauth as oauth_actions
from cordee.actions.accounts import Registration, create_local_account
from cordee.api.mastodon.callers import cache_of
from cordee.app import build_app
from cordee.cli import main
from cordee.config import Settings
from cordee.db import change_log as change_log_module
from cordee.db import hot_writes
from cordee.db.change_log import ChangeLog
from cordee.db.engine import Database
from cordee.events.redis import RedisBus
from cordee.queries.timelines import HOME_CHECK, LIVE_VISIBLE
from cordee.rendering.marks import FLAGS
from tests.api.home_reads import home, served_without
from tests.api.test_oauth import password_token, register
from tests.clients.test_durability_scale_out import PausableProxy
from tests.conftest import BASE_URL, ApiUser, _pg_admin, _pg_url
from tests.support.waiting import eventually

REDIS_URL = "redis://127.0.0.1:6379/0"
ME = "/api/v1/accounts/verify_credentials"


@dataclass
class Process:
    db: Database
    client: httpx.AsyncClient


@dataclass
class Pair:
    first: Process
    second: Process
    settings: Settings
    redis: Redis
    prefix: str

    async def user(self, username: str) -> ApiUser:
        db, email, password = self.first.db, f"{username}@example.org", "correct horse battery"
        account_id, user_id = await create_local_account(
            db, self.settings, Registration(username, email, password), enforce_mode=False
        )
        scopes = "read write follow push"
        app = await oauth_actions.create_application(db, "tests", ["urn:ietf:wg:oauth:2.0:oob"], scopes, None)
        token = await oauth_actions.issue_user_token(db, app, user_id, frozenset(scopes.split()))
        return ApiUser(account_id, user_id, username, email, password, token.access_token)


@pytest.fixture
async def pair(pg_template: str, settings: Settings) -> AsyncIterator[Pair]:
    """Two server processes (two databases' pools, Redis clients, caches) sharing one PostgreSQL
    database and one Redis key prefix, both removed afterwards."""
    name = f"cordee_t_{uuid.uuid4().hex[:12]}"
    prefix = f"cordee-test-{uuid.uuid4().hex[:10]}:"
    await _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    shared = replace(settings, redis_url=REDIS_URL, redis_prefix=prefix)
    redis = Redis.from_url(REDIS_URL)
    try:
        async with AsyncExitStack() as stack:
            processes = []
            for _ in range(2):
                own = Redis.from_url(REDIS_URL)
                stack.push_async_callback(own.aclose)
                bus = RedisBus(own, f"{prefix}events")  # as the server wires them (streaming/realtime.py)
                db = Database(_pg_url(name), bus=bus, change_log=ChangeLog(own, prefix, bus.channel))
                stack.push_async_callback(db.dispose)
                app = build_app(shared, database=db, run_jobs=False)
                await stack.enter_async_context(app.router.lifespan_context(app))
                client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)
                await stack.enter_async_context(client)
                processes.append(Process(db, client))
            yield Pair(processes[0], processes[1], shared, redis, prefix)
    finally:
        keys = [k async for k in redis.scan_iter(match=f"{prefix}*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _ok(response: Awaitable[httpx.Response]) -> dict[str, Any]:
    r = await response
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def _kept(process: Process, user: ApiUser) -> list[dict[str, Any]]:
    """Read the home page on ``process`` until it is served as kept (no rule run, no note's row,
    no mark read): its caches are warm."""
    return await served_without(
        process.db, process.client, user, (*HOME_CHECK.every, LIVE_VISIBLE, *FLAGS.every)
    )


async def _bob_reads_alice(pair: Pair) -> tuple[ApiUser, ApiUser, dict[str, Any]]:
    """Bob follows alice, who posts through the first process; bob's page, with her note, is kept
    on the second."""
    alice, bob = await pair.user("alice"), await pair.user("bob")
    await _ok(pair.first.client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers))
    note = await _ok(
        pair.first.client.post("/api/v1/statuses", json={"status": "hello"}, headers=alice.headers)
    )
    await _kept(pair.second, bob)
    return alice, bob, note


def _note(page: list[dict[str, Any]], note_id: str) -> dict[str, Any]:
    return next(s for s in page if s["id"] == note_id)


async def test_a_token_revoked_through_one_process_is_refused_by_another_at_once(pair: Pair) -> None:
    alice = await pair.user("alice")
    app = await register(pair.first.client)
    token = (await password_token(pair.first.client, app, alice)).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(2):
        assert (await pair.second.client.get(ME, headers=headers)).status_code == 200
    assert cache_of(pair.second.db) is not None  # the second process keeps its callers
    await _ok(
        pair.first.client.post(
            "/oauth/revoke",
            data={"client_id": app["client_id"], "client_secret": app["client_secret"], "token": token},
        )
    )
    assert (await pair.second.client.get(ME, headers=headers)).status_code == 401


async def test_new_notes_and_a_block_through_one_process_show_on_another_at_once(pair: Pair) -> None:
    alice, bob, dave = await pair.user("alice"), await pair.user("bob"), await pair.user("dave")
    first, second = pair.first.client, pair.second.client
    await _ok(first.post(f"/api/v1/accounts/{dave.id}/follow", headers=bob.headers))
    note = await _ok(first.post("/api/v1/statuses", json={"status": "one"}, headers=dave.headers))
    assert [s["id"] for s in await _kept(pair.second, bob)] == [note["id"]]

    by_alice = await _ok(first.post("/api/v1/statuses", json={"status": "two"}, headers=alice.headers))
    boost = await _ok(first.post(f"/api/v1/statuses/{by_alice['id']}/reblog", headers=dave.headers))
    assert [s["id"] for s in await home(second, bob)] == [boost["id"], note["id"]]

    # Bob's feed keeps dave's boost: only the rules hide it now, from the memo's warm answer.
    await _kept(pair.second, bob)
    await _ok(first.post(f"/api/v1/accounts/{alice.id}/block", headers=bob.headers))
    assert [s["id"] for s in await home(second, bob)] == [note["id"]]


async def test_counts_marks_edits_profiles_and_deletes_show_on_another_process_at_once(pair: Pair) -> None:
    alice, bob, carol = await pair.user("alice"), await pair.user("bob"), await pair.user("carol")
    first, second = pair.first.client, pair.second.client
    await _ok(first.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers))
    note = await _ok(first.post("/api/v1/statuses", json={"status": "before"}, headers=alice.headers))
    path = f"/api/v1/statuses/{note['id']}"
    await _kept(pair.second, bob)

    await _ok(first.post(f"{path}/favourite", headers=carol.headers))
    shown = _note(await home(second, bob), note["id"])
    assert (shown["favourites_count"], shown["favourited"]) == (1, False)
    await _kept(pair.second, bob)
    await _ok(first.post(f"{path}/favourite", headers=bob.headers))
    shown = _note(await home(second, bob), note["id"])
    assert (shown["favourites_count"], shown["favourited"]) == (2, True)

    await _kept(pair.second, bob)
    await _ok(first.put(path, json={"status": "after"}, headers=alice.headers))
    assert _note(await home(second, bob), note["id"])["content"] == "<p>after</p>"

    await _kept(pair.second, bob)
    await _ok(
        first.patch(
            "/api/v1/accounts/update_credentials", data={"display_name": "Alice B."}, headers=alice.headers
        )
    )
    assert _note(await home(second, bob), note["id"])["account"]["display_name"] == "Alice B."
    statuses = await _ok(second.get(f"/api/v1/accounts/{alice.id}/statuses"))  # anonymous
    assert statuses[0]["account"]["display_name"] == "Alice B."

    await _kept(pair.second, bob)
    await _ok(first.delete(path, headers=alice.headers))
    assert await home(second, bob) == []


@pytest.mark.parametrize("entry", ["missing", "unreadable"])
async def test_a_process_that_missed_writes_forgets_everything(pair: Pair, entry: str) -> None:
    # A write no entry describes (here: made in SQL behind both processes' backs, and the counter
    # moved as if its entry had been trimmed away, or its entry not one this process can read)
    # must not leave a page served from before it.
    _alice, bob, note = await _bob_reads_alice(pair)
    async with pair.first.db.sessions() as session, session.begin():
        await session.execute(
            text("UPDATE statuses SET favourites_count = 41 WHERE id = :id"), {"id": int(note["id"])}
        )
    number = await pair.redis.incr(f"{pair.prefix}changes:n")
    if entry == "unreadable":
        await pair.redis.xadd(f"{pair.prefix}changes", {"d": b"not json"}, id=f"{number}-0")
    assert _note(await home(pair.second.client, bob), note["id"])["favourites_count"] == 41


@pytest.mark.parametrize("redis", ["refused", "silent"])
async def test_a_process_that_cannot_read_the_log_serves_from_the_database(pair: Pair, redis: str) -> None:
    # Redis refusing the second process's log, or never answering: it answers all the same (after
    # ``WAIT_SECONDS`` at most), and from nothing it kept.
    alice, bob, note = await _bob_reads_alice(pair)
    first, second = pair.first.client, pair.second.client
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts connections, never answers
        port = silent.getsockname()[1] if redis == "silent" else 9
        unreachable = Redis.from_url(f"redis://127.0.0.1:{port}/0", socket_connect_timeout=0.2)
        log = pair.second.db.change_log
        assert log is not None
        try:
            pair.second.db.change_log = ChangeLog(unreachable, pair.prefix)
            await _ok(first.post(f"/api/v1/statuses/{note['id']}/favourite", headers=alice.headers))
            started = time.monotonic()
            assert _note(await home(second, bob), note["id"])["favourites_count"] == 1
            assert time.monotonic() - started < 3 * change_log_module.WAIT_SECONDS
        finally:
            await pair.second.db.change_log.close()
            pair.second.db.change_log = log
            await unreachable.aclose()


async def test_a_request_reads_the_log_once_and_waiting_requests_share_a_read(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = await pair.user("alice")
    reads = 0
    original = ChangeLog._read

    async def counted(self: ChangeLog, *args: Any) -> None:
        nonlocal reads
        reads += 1
        await original(self, *args)

    monkeypatch.setattr(ChangeLog, "_read", counted)
    await home(pair.second.client, alice)  # the endpoint, the token and the page each ask
    assert reads == 1
    reads = 0
    await asyncio.gather(*(home(pair.second.client, alice) for _ in range(20)))
    assert 1 <= reads <= 3
    assert change_log_module.arrival.get() is None  # no request under way here


async def test_a_user_disabled_from_the_command_line_is_refused_by_a_running_server_at_once(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = await pair.user("alice")
    for _ in range(2):
        assert (await pair.second.client.get(ME, headers=alice.headers)).status_code == 200
    for name in ("CORDEE_DATABASE_URL", "CORDEE_REDIS_URL", "CORDEE_REDIS_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    env = {
        "CORDEE_DATABASE_URL": pair.first.db.url,
        "CORDEE_REDIS_URL": REDIS_URL,
        "CORDEE_REDIS_PREFIX": pair.prefix,
        "CORDEE_DATA_DIR": str(pair.settings.data_dir),
    }
    result = await asyncio.to_thread(CliRunner().invoke, main, ["user", "disable", "alice"], env=env)
    assert result.exit_code == 0, result.output
    refused = await pair.second.client.get(ME, headers=alice.headers)
    assert refused.status_code == 403 and "disabled" in refused.json()["error"]


async def test_a_write_its_process_could_not_announce_is_made_up_for_once_redis_is_back(pair: Pair) -> None:
    # The first process's way to the log is cut while it answers a favourite: it answers all the
    # same (after WAIT_SECONDS), and once Redis is back it appends a "forget everything" entry, so
    # the second process stops serving its page from before the favourite (not only after MAX_AGE).
    alice, bob, note = await _bob_reads_alice(pair)
    proxy = PausableProxy(("127.0.0.1", 6379))
    proxied = Redis.from_url(f"redis://127.0.0.1:{proxy.port}/0")
    own = pair.first.db.change_log
    try:
        pair.first.db.change_log = ChangeLog(proxied, pair.prefix)
        proxy.forwarding.clear()
        await _ok(pair.first.client.post(f"/api/v1/statuses/{note['id']}/favourite", headers=alice.headers))
        proxy.forwarding.set()

        async def seen() -> bool:
            return bool(_note(await home(pair.second.client, bob), note["id"])["favourites_count"] == 1)

        # Well before the memo's MAX_AGE (10 s).
        assert await eventually(seen, 5), "the second process still serves the page from before"
    finally:
        assert pair.first.db.change_log is not None
        await pair.first.db.change_log.close()
        pair.first.db.change_log = own
        await proxied.aclose()
        proxy.close()


async def _redis_round_trips(monkeypatch: pytest.MonkeyPatch, request: Awaitable[httpx.Response]) -> int:
    """How many times commands are sent to Redis (a command, a script call or a pipeline: one
    round trip each) while ``request`` is answered (200)."""
    sent = 0
    original = AbstractConnection.send_packed_command

    async def counted(self: AbstractConnection, command: Any, check_health: bool = True) -> None:
        nonlocal sent
        sent += 1
        await original(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counted)
    try:
        await _ok(request)
    finally:
        monkeypatch.undo()
    return sent


async def test_a_post_and_a_follow_cost_few_redis_round_trips(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the query counts guard the database's statements: the catch-up before the request, the
    rate limits (per token and per user, one script), and one pipeline of its fan-out (one
    script call for fewer than 500 feeds; ``EVALSHA`` without the ``SCRIPT EXISTS`` redis-py's
    own pipelines ask first) and its change-log entry, which publishes its events on the bus in
    the same script: three round trips (four before). A follow's own limit (follows a day, per
    user) is counted with the API's, in the same script (a round trip of its own before)."""
    alice, bob = await pair.user("alice"), await pair.user("bob")
    await _ok(pair.first.client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers))
    await _ok(pair.first.client.post("/api/v1/statuses", json={"status": "warm"}, headers=alice.headers))
    posting = pair.first.client.post("/api/v1/statuses", json={"status": "counted"}, headers=alice.headers)
    assert await _redis_round_trips(monkeypatch, posting) == 3
    carol = await pair.user("carol")
    await home(pair.first.client, carol)  # carol's feed exists: the follow merges alice's notes in
    following = pair.first.client.post(f"/api/v1/accounts/{alice.id}/follow", headers=carol.headers)
    assert await _redis_round_trips(monkeypatch, following) == 3
    assert [s["content"] for s in await home(pair.second.client, carol)] == ["<p>counted</p>", "<p>warm</p>"]


async def test_a_writes_events_reach_every_process_with_its_change_log_entry(pair: Pair) -> None:
    """The change log's script publishes a write's events on the bus: the other process hears them
    (its streams are fed from there), in order, and once."""
    heard: list[Any] = []

    async def hear(events: Any) -> None:
        heard.extend(events)

    unsubscribe = pair.second.db.bus.subscribe(hear)
    try:
        alice = await pair.user("alice")
        for text_ in ("one", "two"):
            await _ok(
                pair.first.client.post("/api/v1/statuses", json={"status": text_}, headers=alice.headers)
            )

        async def both() -> bool:
            return [type(e).__name__ for e in heard if type(e).__name__ == "StatusCreated"] == [
                "StatusCreated"
            ] * 2

        assert await eventually(both, 5), heard
        await asyncio.sleep(0.2)  # nothing more comes (not published twice)
        assert [type(e).__name__ for e in heard].count("StatusCreated") == 2
    finally:
        unsubscribe()


async def test_a_subscription_through_one_process_notifies_of_the_next_post_through_another(
    pair: Pair,
) -> None:
    """Who is notified of an author's notes, kept by the process the author posts through
    (``db/subscribers.py``), changes with a follow answered by another."""
    alice, bob = await pair.user("alice"), await pair.user("bob")
    note = {"status": "nobody listens yet"}
    await _ok(pair.second.client.post("/api/v1/statuses", json=note, headers=alice.headers))
    follow = pair.first.client.post(
        f"/api/v1/accounts/{alice.id}/follow", json={"notify": True}, headers=bob.headers
    )
    await _ok(follow)
    await _ok(
        pair.second.client.post("/api/v1/statuses", json={"status": "now bob does"}, headers=alice.headers)
    )
    r = await pair.first.client.get(
        "/api/v1/notifications", params={"types[]": "status"}, headers=bob.headers
    )
    assert [n["status"]["content"] for n in r.json()] == ["<p>now bob does</p>"]


async def test_a_kept_home_page_costs_no_feed_read(pair: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every write to a Redis feed tells the caches whose feed it changed (after writing it, before
    its writer answers, through the change log to the other processes): a page kept whole is
    served on the memo's word, without reading the feed's window — the catch-up and the rate
    limits only. A note by someone the page does not show yet (nothing on the page changed:
    only the feed tells) then shows at once."""
    dave = await pair.user("dave")
    alice, bob, _note_id = await _bob_reads_alice(pair)
    await _ok(pair.first.client.post(f"/api/v1/accounts/{dave.id}/follow", headers=bob.headers))
    await _kept(pair.second, bob)
    reading = pair.second.client.get("/api/v1/timelines/home", headers=bob.headers)
    assert await _redis_round_trips(monkeypatch, reading) == 2
    note = await _ok(pair.first.client.post("/api/v1/statuses", json={"status": "new"}, headers=dave.headers))
    assert (await home(pair.second.client, bob))[0]["id"] == note["id"]


async def test_a_follow_is_one_transaction_and_its_feed_merge_is_seen_at_once(pair: Pair) -> None:
    """A follow reads the author's notes for the follower's feed inside its own transaction (after
    its count locked the author's row, so no note committing in between is missed: the note's own
    read then sees the follow), and only writes Redis after commit: one transaction, not a second
    one (a pool checkout, BEGIN, the read, ROLLBACK) for the merge. The follower's home, served by
    the other process, shows the notes at once."""
    alice, bob = await pair.user("alice"), await pair.user("bob")
    notes = [
        await _ok(pair.first.client.post("/api/v1/statuses", json={"status": f"n{i}"}, headers=alice.headers))
        for i in range(3)
    ]
    assert await home(pair.second.client, bob) == []

    async def outbox_emptied() -> bool:  # the posts' done rows are deleted by a transaction of its own
        async with pair.first.db.read() as session:
            return not await session.scalar(text("SELECT count(*) FROM feed_outbox"))

    assert await eventually(outbox_emptied, 5)
    begun = 0

    def on_begin(conn: Any) -> None:
        nonlocal begun
        begun += 1

    engine = pair.first.db.engine.sync_engine
    event.listen(engine, "begin", on_begin)
    try:
        await _ok(pair.first.client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers))
    finally:
        event.remove(engine, "begin", on_begin)
    assert begun == 1
    assert [s["id"] for s in await home(pair.second.client, bob)] == [n["id"] for n in reversed(notes)]


async def test_the_outbox_row_rides_with_the_feed_read_of_a_post_and_a_follow(pair: Pair) -> None:
    """On PostgreSQL + Redis a post's and a follow's outbox row (their feed work, kept for a replay
    should the process die before Redis has it) is inserted by a ``WITH`` ahead of their feed
    entries' read: one statement, one round trip, for both."""
    alice, bob = await pair.user("alice"), await pair.user("bob")
    await _ok(pair.first.client.post("/api/v1/statuses", json={"status": "before"}, headers=alice.headers))
    statements: list[str] = []

    def on_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engine = pair.first.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", on_execute)
    hot_writes.listeners.append(statements.append)  # statements run past the session
    try:
        await _ok(pair.first.client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers))
        await _ok(pair.first.client.post("/api/v1/statuses", json={"status": "after"}, headers=alice.headers))
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        hot_writes.listeners.remove(statements.append)
    recording = [s for s in statements if "INSERT INTO feed_outbox" in s]
    assert len(recording) == 2, statements
    assert all(s.lstrip().startswith("WITH") and "FROM statuses" in s for s in recording), recording
    assert [n["content"] for n in await home(pair.second.client, bob)] == ["<p>after</p>", "<p>before</p>"]
