"""The home rules' answer is remembered per reader (``feeds/memo.py``): with that memo warm — the
page served without running the rules — every change to what the reader may see shows on the very
next read. Most cases here leave the feed's ids as they were (a boost of a blocked account's note,
a note mentioning a muted account, an edit that drops a mention): only the rules tell them apart.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from cordee.app import build_app
from cordee.config import Settings
from cordee.db.change_log import ChangeLog
from cordee.db.engine import Database
from cordee.events.redis import RedisBus
from cordee.feeds import build_feeds
from cordee.queries.timelines import HOME_CHECK, LIVE_VISIBLE
from tests.api.home_reads import home, served_without
from tests.conftest import BASE_URL, ApiUser, MakeUser

Post = Callable[..., Awaitable[dict[str, Any]]]


async def _remembered(db: Database, client: httpx.AsyncClient, user: ApiUser) -> list[dict[str, Any]]:
    """Read the home page until the memo answers it: the rules' statement did not run."""
    return await served_without(db, client, user, HOME_CHECK.every)


@asynccontextmanager
async def _client_with_big_at_two(db: Database, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app whose accounts with 2 followers or more are merged into homes when read."""
    settings = Settings(
        base_url=BASE_URL, data_dir=tmp_path / "big", secret_key="test-secret", fanout_follower_threshold=2
    )
    app = build_app(settings, database=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client:
        yield client


def _ids(page: list[dict[str, Any]]) -> set[str]:
    return {s["id"] for s in page} | {s["reblog"]["id"] for s in page if s["reblog"]}


async def _ok(response: Awaitable[httpx.Response]) -> None:
    r = await response
    assert r.status_code == 200, r.text


@dataclass(frozen=True)
class BigScene:
    """Bob and carol follow alice (2 followers: merged into homes when read), bob follows dave (a
    small account, fanned out); alice's and dave's first notes; ``by(user, text, **extra)`` posts
    a note and returns its id."""

    client: httpx.AsyncClient
    by: Callable[..., Awaitable[str]]
    first: str
    small: str


@pytest.fixture
async def big_scene(
    db: Database, tmp_path: Path, make_user: MakeUser, alice: ApiUser, bob: ApiUser, carol: ApiUser
) -> AsyncIterator[BigScene]:
    async with _client_with_big_at_two(db, tmp_path) as client:
        dave = await make_user("dave")
        for follower in (bob, carol):
            await _ok(client.post(f"/api/v1/accounts/{alice.id}/follow", headers=follower.headers))
        await _ok(client.post(f"/api/v1/accounts/{dave.id}/follow", headers=bob.headers))

        async def by(user: ApiUser, text: str, **extra: Any) -> str:
            r = await client.post("/api/v1/statuses", json={"status": text, **extra}, headers=user.headers)
            assert r.status_code == 200, r.text
            return str(r.json()["id"])

        yield BigScene(client, by, await by(alice, "first"), await by(dave, "dave's own"))


async def test_blocks_either_way_show_at_once(
    db: Database, client: httpx.AsyncClient, make_user: MakeUser, alice: ApiUser, bob: ApiUser, post: Post
) -> None:
    carol, dave = await make_user("carol"), await make_user("dave")
    await _ok(client.post(f"/api/v1/accounts/{dave.id}/follow", headers=bob.headers))
    by_alice, by_carol = await post(alice, "alice speaks"), await post(carol, "carol speaks")
    for note in (by_alice, by_carol):  # bob follows neither: dave's boosts bring them
        await _ok(client.post(f"/api/v1/statuses/{note['id']}/reblog", headers=dave.headers))
    mentioning = await post(dave, f"hello @{alice.username}")  # hidden once bob blocks alice
    assert {by_alice["id"], by_carol["id"], mentioning["id"]} <= _ids(await _remembered(db, client, bob))

    await _ok(client.post(f"/api/v1/accounts/{bob.id}/block", headers=carol.headers))  # carol blocks bob
    page = await home(client, bob)
    assert by_carol["id"] not in _ids(page) and by_alice["id"] in _ids(page)

    await _remembered(db, client, bob)
    await _ok(client.post(f"/api/v1/accounts/{alice.id}/block", headers=bob.headers))  # bob blocks alice
    page = await home(client, bob)
    assert by_alice["id"] not in _ids(page) and mentioning["id"] not in _ids(page)


async def test_mutes_and_their_expiry_show_at_once(
    db: Database, client: httpx.AsyncClient, make_user: MakeUser, bob: ApiUser, carol: ApiUser, post: Post
) -> None:
    dave = await make_user("dave")
    await _ok(client.post(f"/api/v1/accounts/{dave.id}/follow", headers=bob.headers))
    mentioning = await post(dave, f"hello @{carol.username}")
    assert mentioning["id"] in _ids(await _remembered(db, client, bob))

    await _ok(client.post(f"/api/v1/accounts/{carol.id}/mute", data={"duration": "2"}, headers=bob.headers))
    assert mentioning["id"] not in _ids(await home(client, bob))
    assert mentioning["id"] not in _ids(await _remembered(db, client, bob))  # remembered while muted
    await asyncio.sleep(2.2)  # the mute ends by itself: no event, the memo must not outlive it
    assert mentioning["id"] in _ids(await home(client, bob))

    await _remembered(db, client, bob)
    await _ok(client.post(f"/api/v1/accounts/{carol.id}/mute", headers=bob.headers))
    assert mentioning["id"] not in _ids(await home(client, bob))
    await _remembered(db, client, bob)
    await _ok(client.post(f"/api/v1/accounts/{carol.id}/unmute", headers=bob.headers))
    assert mentioning["id"] in _ids(await home(client, bob))


async def test_follows_unfollows_and_follow_options_show_at_once(
    db: Database, client: httpx.AsyncClient, make_user: MakeUser, alice: ApiUser, bob: ApiUser, post: Post
) -> None:
    carol, dave = await make_user("carol"), await make_user("dave")
    for target in (alice, dave):
        await _ok(client.post(f"/api/v1/accounts/{target.id}/follow", headers=bob.headers))
    private = await post(alice, "followers only", visibility="private")
    by_carol = await post(carol, "carol speaks")
    await _ok(client.post(f"/api/v1/statuses/{by_carol['id']}/reblog", headers=dave.headers))
    assert {private["id"], by_carol["id"]} <= _ids(await _remembered(db, client, bob))

    # Following again with other options is a write that emits no event.
    await _ok(
        client.post(f"/api/v1/accounts/{dave.id}/follow", data={"reblogs": "false"}, headers=bob.headers)
    )
    assert by_carol["id"] not in _ids(await home(client, bob))

    await _remembered(db, client, bob)
    await _ok(client.post(f"/api/v1/accounts/{alice.id}/unfollow", headers=bob.headers))
    assert private["id"] not in _ids(await home(client, bob))

    await _remembered(db, client, bob)
    await _ok(client.post(f"/api/v1/accounts/{carol.id}/follow", headers=bob.headers))
    assert by_carol["id"] in {s["id"] for s in await home(client, bob)}


async def test_edits_deletes_and_new_notes_show_at_once(
    db: Database, client: httpx.AsyncClient, make_user: MakeUser, alice: ApiUser, bob: ApiUser, post: Post
) -> None:
    dave = await make_user("dave")
    for target in (alice, dave):
        await _ok(client.post(f"/api/v1/accounts/{target.id}/follow", headers=bob.headers))
    direct = await post(alice, f"@{bob.username} just you", visibility="direct")
    erin = await make_user("erin")
    boosted = await post(erin, "erin speaks")
    await _ok(client.post(f"/api/v1/statuses/{boosted['id']}/reblog", headers=dave.headers))
    assert {direct["id"], boosted["id"]} <= _ids(await _remembered(db, client, bob))

    # The edit drops the mention: the note stays in bob's feed, and bob may no longer see it.
    await _ok(
        client.put(f"/api/v1/statuses/{direct['id']}", json={"status": "just me"}, headers=alice.headers)
    )
    assert direct["id"] not in _ids(await home(client, bob))
    assert (await client.get(f"/api/v1/statuses/{direct['id']}", headers=bob.headers)).status_code == 404

    await _remembered(db, client, bob)
    await _ok(client.delete(f"/api/v1/statuses/{boosted['id']}", headers=erin.headers))
    assert boosted["id"] not in _ids(await home(client, bob))

    await _remembered(db, client, bob)
    newest = await post(dave, "a new note")
    assert (await home(client, bob))[0]["id"] == newest["id"]


async def test_exclusive_lists_and_followed_tags_show_at_once(
    db: Database, client: httpx.AsyncClient, make_user: MakeUser, bob: ApiUser, post: Post
) -> None:
    dave, erin = await make_user("dave"), await make_user("erin")
    await _ok(client.post(f"/api/v1/accounts/{dave.id}/follow", headers=bob.headers))
    await _ok(client.post("/api/v1/tags/climbing/follow", headers=bob.headers))
    by_dave = await post(dave, "dave speaks")
    tagged = await post(erin, "up the wall #climbing")  # bob does not follow erin: the tag brings it
    assert {by_dave["id"], tagged["id"]} <= _ids(await _remembered(db, client, bob))

    await _ok(client.post("/api/v1/tags/climbing/unfollow", headers=bob.headers))  # no event
    assert tagged["id"] not in _ids(await home(client, bob))

    await _remembered(db, client, bob)
    r = await client.post("/api/v1/lists", data={"title": "apart", "exclusive": "true"}, headers=bob.headers)
    assert r.status_code == 200
    await _ok(
        client.post(
            f"/api/v1/lists/{r.json()['id']}/accounts", data={"account_ids[]": dave.id}, headers=bob.headers
        )
    )
    assert by_dave["id"] not in _ids(await home(client, bob))


async def test_a_followed_big_accounts_notes_show_at_once_with_the_memo_warm(
    db: Database, big_scene: BigScene, alice: ApiUser, bob: ApiUser
) -> None:
    # Accounts with 2 followers or more are merged into homes when read, not fanned out: their
    # notes are not feed entries, yet bob's page is served from the memo and sees each at once.
    client, by, first, small = big_scene.client, big_scene.by, big_scene.first, big_scene.small
    assert [s["id"] for s in await _remembered(db, client, bob)] == [small, first]
    second = await by(alice, "second")  # a big account's new note: no feed entry
    assert [s["id"] for s in await home(client, bob)] == [second, small, first]
    assert [s["id"] for s in await _remembered(db, client, bob)] == [second, small, first]
    private = await by(alice, "followers only", visibility="private")
    assert (await home(client, bob))[0]["id"] == private
    r = await client.post(f"/api/v1/statuses/{small}/reblog", headers=alice.headers)  # her boost
    assert r.status_code == 200
    assert (await home(client, bob))[0]["reblog"]["id"] == small
    await _remembered(db, client, bob)
    await _ok(client.delete(f"/api/v1/statuses/{second}", headers=alice.headers))
    assert second not in _ids(await home(client, bob))
    await _remembered(db, client, bob)
    await _ok(client.post(f"/api/v1/accounts/{alice.id}/mute", headers=bob.headers))
    assert _ids(await home(client, bob)) == {small}
    await _remembered(db, client, bob)
    await _ok(client.post(f"/api/v1/accounts/{alice.id}/unmute", headers=bob.headers))
    await _ok(client.post(f"/api/v1/accounts/{alice.id}/unfollow", headers=bob.headers))
    assert _ids(await home(client, bob)) == {small}
    # Following her again (she has 2 followers again: still merged when read) shows her notes
    # at once, though the memo kept which big accounts bob followed.
    await _remembered(db, client, bob)
    await _ok(client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers))
    assert {first, private} <= _ids(await home(client, bob))


async def test_no_memo_across_processes_without_the_change_log_or_from_a_replica(
    db: Database, settings: Settings
) -> None:
    # Another process's commits reach this one through the Redis bus after a delay, and a replica
    # lags: a memo could then keep a page from before a block that already answered. Neither gets
    # one; several processes that read each other's writes from the change log before each
    # request do (``db/change_log.py``, tests/api/test_caches_across_processes.py).
    redis = Redis.from_url("redis://127.0.0.1:6379/0")
    try:
        other = Database(db.url, bus=RedisBus(redis, "cordee-test-memo:events"))
        logged = Database(
            db.url,
            bus=RedisBus(redis, "cordee-test-memo:events"),
            change_log=ChangeLog(redis, "cordee-test-memo:"),
        )
        try:
            *_, timeline = build_feeds(settings, other, None)
            assert timeline.memo is None
            *_, timeline = build_feeds(settings, logged, None)
            assert timeline.memo is not None
        finally:
            await other.dispose()
            await logged.dispose()
    finally:
        await redis.aclose()
    replicated = Database(db.url, replica_url=db.url)
    try:
        *_, timeline = build_feeds(settings, replicated, None)
        assert timeline.memo is None
    finally:
        await replicated.dispose()
    *_, timeline = build_feeds(settings, db, None)
    assert timeline.memo is not None


async def test_an_account_that_becomes_big_shows_its_next_note_at_once(
    db: Database, tmp_path: Path, make_user: MakeUser, alice: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    # Bob follows alice while she is small and silent, and dave: his page (dave's note) is served
    # with no statement but the token. Carol's follow makes alice big (2 followers): her first
    # note reaches no feed, and is merged into bob's page when read — at once, though nothing in
    # bob's feed, his relationships or the notes on his page changed.
    async with _client_with_big_at_two(db, tmp_path) as client:
        dave = await make_user("dave")
        for target in (alice, dave):
            await _ok(client.post(f"/api/v1/accounts/{target.id}/follow", headers=bob.headers))
        r = await client.post("/api/v1/statuses", json={"status": "dave's"}, headers=dave.headers)
        assert r.status_code == 200
        await served_without(db, client, bob, (*HOME_CHECK.every, LIVE_VISIBLE))  # kept, and quick
        await _ok(client.post(f"/api/v1/accounts/{alice.id}/follow", headers=carol.headers))
        r = await client.post("/api/v1/statuses", json={"status": "big now"}, headers=alice.headers)
        assert r.status_code == 200
        assert (await home(client, bob))[0]["id"] == r.json()["id"]


async def test_a_kept_page_is_served_without_a_statement_to_a_reader_of_big_accounts(
    db: Database, big_scene: BigScene, alice: ApiUser, bob: ApiUser
) -> None:
    # Bob follows alice, merged into homes when read (2 followers), and dave. His kept page is
    # served without reading his feed or alice's newest note, as a page without big accounts is —
    # and each of her new notes and boosts shows at once all the same (her writes move her account's
    # version, which the kept page watches).
    client, by, first, small = big_scene.client, big_scene.by, big_scene.first, big_scene.small
    page = await served_without(db, client, bob, None)
    assert [s["id"] for s in page] == [small, first]
    second = await by(alice, "second")
    assert [s["id"] for s in await home(client, bob)] == [second, small, first]
    await served_without(db, client, bob, None)
    direct = await by(alice, f"@{bob.username} just you", visibility="direct")
    assert (await home(client, bob))[0]["id"] == direct
    await served_without(db, client, bob, None)
    r = await client.post(f"/api/v1/statuses/{small}/reblog", headers=alice.headers)
    assert r.status_code == 200
    assert (await home(client, bob))[0]["reblog"]["id"] == small
