"""With the caches warm (every note and account already rendered and read), every change shows at
once to every reader, and nothing cached is ever served to someone who may not see it."""

from __future__ import annotations

import gc
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from cordee.db.engine import Database
from tests.conftest import ApiUser, MakeUser

Post = Callable[..., Awaitable[dict[str, Any]]]


async def _home(client: httpx.AsyncClient, user: ApiUser) -> list[dict[str, Any]]:
    r = await client.get("/api/v1/timelines/home", headers=user.headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def _warm(client: httpx.AsyncClient, *users: ApiUser) -> None:
    for user in users:
        await _home(client, user)
        await client.get(f"/api/v1/accounts/{user.id}/statuses", headers=user.headers)


async def _follow(client: httpx.AsyncClient, who: ApiUser, target: ApiUser) -> None:
    r = await client.post(f"/api/v1/accounts/{target.id}/follow", headers=who.headers)
    assert r.status_code == 200, r.text


async def test_an_edit_a_favourite_and_a_profile_change_show_at_once(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, carol: ApiUser, post: Post
) -> None:
    await _follow(client, bob, alice)
    note = await post(alice, "first words")
    await _warm(client, alice, bob)
    assert (await client.get(f"/api/v1/accounts/{alice.id}")).json()["display_name"] != "Alice Renamed"

    r = await client.put(
        f"/api/v1/statuses/{note['id']}", json={"status": "second words"}, headers=alice.headers
    )
    assert r.status_code == 200
    [seen] = await _home(client, bob)
    assert "second words" in seen["content"] and seen["edited_at"] is not None

    r = await client.post(f"/api/v1/statuses/{note['id']}/favourite", headers=carol.headers)
    assert r.status_code == 200
    [seen] = await _home(client, bob)
    assert seen["favourites_count"] == 1 and seen["favourited"] is False
    r = await client.post(f"/api/v1/statuses/{note['id']}/favourite", headers=bob.headers)
    [seen] = await _home(client, bob)
    assert seen["favourites_count"] == 2 and seen["favourited"] is True

    r = await client.patch(
        "/api/v1/accounts/update_credentials", data={"display_name": "Alice Renamed"}, headers=alice.headers
    )
    assert r.status_code == 200
    [seen] = await _home(client, bob)
    assert seen["account"]["display_name"] == "Alice Renamed"
    r = await client.get(f"/api/v1/accounts/{alice.id}/statuses", headers=carol.headers)
    assert r.json()[0]["account"]["display_name"] == "Alice Renamed"
    for shown in (
        (await client.get(f"/api/v1/accounts/{alice.id}")).json(),
        (await client.get("/api/v1/accounts", params={"id[]": alice.id})).json()[0],
    ):
        assert shown["display_name"] == "Alice Renamed"

    await post(alice, "third")
    [newest, _] = await _home(client, bob)
    assert newest["account"]["statuses_count"] == 2  # counters are never served stale
    assert (await client.get(f"/api/v1/accounts/{alice.id}")).json()["statuses_count"] == 2


async def test_deletes_blocks_mutes_and_unfollows_take_notes_out_at_once(
    client: httpx.AsyncClient, make_user: MakeUser, alice: ApiUser, bob: ApiUser, carol: ApiUser, post: Post
) -> None:
    dave = await make_user("dave")
    for target in (alice, carol, dave):
        await _follow(client, bob, target)
    gone = await post(alice, "to be deleted")
    by_carol = await post(carol, "carol speaks")
    by_dave = await post(dave, "dave speaks")
    private = await post(alice, "for followers", visibility="private")
    r = await client.post(f"/api/v1/statuses/{by_carol['id']}/reblog", headers=alice.headers)
    assert r.status_code == 200
    await _warm(client, alice, bob, carol)
    assert len(await _home(client, bob)) == 5

    assert (await client.delete(f"/api/v1/statuses/{gone['id']}", headers=alice.headers)).status_code == 200
    ids = [s["id"] for s in await _home(client, bob)]
    assert gone["id"] not in ids

    r = await client.post(f"/api/v1/accounts/{carol.id}/block", headers=bob.headers)
    assert r.status_code == 200
    home = await _home(client, bob)
    assert by_carol["id"] not in [s["id"] for s in home]
    assert all((s["reblog"] or {}).get("id") != by_carol["id"] for s in home)  # nor alice's boost of it

    r = await client.post(f"/api/v1/accounts/{dave.id}/mute", headers=bob.headers)
    assert r.status_code == 200
    assert by_dave["id"] not in [s["id"] for s in await _home(client, bob)]

    assert private["id"] in [s["id"] for s in await _home(client, bob)]
    r = await client.post(f"/api/v1/accounts/{alice.id}/unfollow", headers=bob.headers)
    assert r.status_code == 200
    assert private["id"] not in [s["id"] for s in await _home(client, bob)]
    for url in (f"/api/v1/statuses/{private['id']}", f"/api/v1/accounts/{alice.id}/statuses"):
        r = await client.get(url, headers=bob.headers)
        assert private["id"] not in r.text


async def test_a_cached_private_note_is_never_served_to_someone_who_may_not_see_it(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, carol: ApiUser, post: Post
) -> None:
    await _follow(client, bob, alice)
    private = await post(alice, "followers only", visibility="private")
    direct = await post(alice, f"@{bob.username} just you", visibility="direct")
    await _warm(client, alice, bob)  # both notes are now rendered and kept
    assert {private["id"], direct["id"]} <= {s["id"] for s in await _home(client, bob)}

    missing = await client.get("/api/v1/statuses/1", headers=carol.headers)
    for note in (private, direct):
        r = await client.get(f"/api/v1/statuses/{note['id']}", headers=carol.headers)
        assert (r.status_code, r.content) == (missing.status_code, missing.content)
        anonymous = await client.get(f"/api/v1/statuses/{note['id']}")
        assert anonymous.status_code == 404
    for headers in (carol.headers, {}):
        r = await client.get(f"/api/v1/accounts/{alice.id}/statuses", headers=headers)
        assert r.status_code == 200 and r.json() == []
    await _follow(client, carol, bob)
    assert await _home(client, carol) == []


def _tracked_within(value: Any) -> int:
    """How many objects the garbage collector tracks in ``value``, itself included."""
    inner: list[Any] = list(value.values()) if isinstance(value, dict) else []
    if isinstance(value, list | tuple):
        inner = list(value)
    return int(gc.is_tracked(value)) + sum(_tracked_within(v) for v in inner)


async def test_a_kept_body_is_one_object_for_full_collections(
    client: httpx.AsyncClient, db: Database, alice: ApiUser, bob: ApiUser, post: Post
) -> None:
    """A kept note body holds strings, numbers and tuples (JSON arrays all the same), so the
    garbage collector walks one object for it, not one per array: the cache keeps tens of
    thousands, and a full collection stops every request for as long as it walks what is tracked
    (docs/benchmarks.md: the mix's tracked objects 129k → 73k, a full collection ~100 → ~65 ms)."""
    note = await post(alice, "plain words")
    r = await client.get(f"/api/v1/statuses/{note['id']}", headers=bob.headers)
    assert r.status_code == 200 and r.json()["mentions"] == [] and r.json()["tags"] == []
    body = db.entities.status(int(note["id"]), None)  # never edited
    assert body is not None
    gc.collect()  # a full collection stops tracking what holds only untracked values
    assert _tracked_within(body) == 1  # the body (it holds a dict: its application)
