"""Lists: CRUD, members (only followed accounts), list timelines with their replies policy, and
exclusive lists that take their members out of the home timeline."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.conftest import ApiUser

Post = Callable[..., Awaitable[dict[str, Any]]]


def _ids(r: httpx.Response) -> list[str]:
    assert r.status_code == 200, r.text
    return [s["id"] for s in r.json()]


async def _new_list(client: httpx.AsyncClient, user: ApiUser, **fields: Any) -> dict[str, Any]:
    r = await client.post("/api/v1/lists", json=fields, headers=user.headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_list_crud_and_bad_input(client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser) -> None:
    created = await _new_list(client, alice, title="Friends")
    assert created == {"id": created["id"], "title": "Friends", "replies_policy": "list", "exclusive": False}
    news = await _new_list(client, alice, title="News", replies_policy="none", exclusive=True)
    assert (news["replies_policy"], news["exclusive"]) == ("none", True)
    listed = (await client.get("/api/v1/lists", headers=alice.headers)).json()
    assert [x["title"] for x in listed] == ["Friends", "News"]
    assert (await client.get("/api/v1/lists", headers=bob.headers)).json() == []

    url = f"/api/v1/lists/{created['id']}"
    changed = await client.put(
        url, data={"title": "Close friends", "exclusive": "true"}, headers=alice.headers
    )
    assert changed.json()["title"] == "Close friends" and changed.json()["exclusive"] is True
    for bad in ({"replies_policy": "everyone"}, {"title": "   "}, {"title": "x" * 300}):
        r = await client.put(url, json=bad, headers=alice.headers)
        assert r.status_code == 422, bad
    assert (
        await client.post("/api/v1/lists", json={"replies_policy": "list"}, headers=alice.headers)
    ).status_code == 422
    assert (await client.get(url, headers=alice.headers)).json() == changed.json()  # nothing changed

    # Another user's list answers exactly like a missing one.
    for method, path in (
        ("GET", url),
        ("PUT", url),
        ("DELETE", url),
        ("GET", f"{url}/accounts"),
        ("POST", f"{url}/accounts"),
        ("GET", f"/api/v1/timelines/list/{created['id']}"),
        ("GET", "/api/v1/lists/123456"),
        ("GET", "/api/v1/lists/not-an-id"),
    ):
        r = await client.request(method, path, json={"title": "mine now"}, headers=bob.headers)
        assert r.status_code == 404, (method, path)
        assert r.json() == {"error": "Record not found"}
    assert (await client.get(url, headers=alice.headers)).json()["title"] == "Close friends"

    assert (await client.delete(url, headers=alice.headers)).json() == {}
    assert (await client.get(url, headers=alice.headers)).status_code == 404
    assert (await client.get("/api/v1/lists", headers=bob.headers, params={"x": 1})).json() == []


async def test_members_must_be_followed(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    friends = await _new_list(client, alice, title="Friends")
    members = f"/api/v1/lists/{friends['id']}/accounts"
    refused = await client.post(members, json={"account_ids": [bob.id]}, headers=alice.headers)
    assert refused.status_code == 422 and "follow" in refused.json()["error"]

    await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice.headers)
    # All or nothing: one unknown account and nobody is added.
    r = await client.post(members, json={"account_ids": [bob.id, "999999"]}, headers=alice.headers)
    assert r.status_code == 404
    assert (await client.get(members, headers=alice.headers)).json() == []
    r = await client.post(members, json={"account_ids": [bob.id, carol.id]}, headers=alice.headers)
    assert r.status_code == 422  # carol is not followed
    assert (await client.get(members, headers=alice.headers)).json() == []

    ok = await client.post(members, data={"account_ids[]": bob.id}, headers=alice.headers)
    assert ok.status_code == 200 and ok.json() == {}
    again = await client.post(members, data={"account_ids[]": bob.id}, headers=alice.headers)
    assert again.status_code == 422  # as Mastodon (the fidelity issue): "has already been taken"
    assert [a["id"] for a in (await client.get(members, headers=alice.headers)).json()] == [bob.id]
    assert [
        a["id"] for a in (await client.get(members, params={"limit": 0}, headers=alice.headers)).json()
    ] == [bob.id]
    with_bob = (await client.get(f"/api/v1/accounts/{bob.id}/lists", headers=alice.headers)).json()
    assert [x["id"] for x in with_bob] == [friends["id"]]
    assert (await client.get(f"/api/v1/accounts/{carol.id}/lists", headers=alice.headers)).json() == []
    assert (await client.get(f"/api/v1/accounts/{bob.id}/lists", headers=bob.headers)).json() == []
    assert (await client.get("/api/v1/accounts/999999/lists", headers=alice.headers)).status_code == 404

    removed = await client.request("DELETE", members, json={"account_ids": [bob.id]}, headers=alice.headers)
    assert removed.status_code == 200
    assert (await client.get(members, headers=alice.headers)).json() == []

    # Unfollowing takes the account out of one's lists.
    await client.post(members, json={"account_ids": [bob.id]}, headers=alice.headers)
    await client.post(f"/api/v1/accounts/{bob.id}/unfollow", headers=alice.headers)
    assert (await client.get(members, headers=alice.headers)).json() == []


async def test_list_timeline_and_replies_policy(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser, carol: ApiUser, make_user: Any
) -> None:
    dave = await make_user("dave")
    for who in (bob, carol):
        await client.post(f"/api/v1/accounts/{who.id}/follow", headers=alice.headers)
    lst = await _new_list(client, alice, title="Bob", replies_policy="list")
    await client.post(
        f"/api/v1/lists/{lst['id']}/accounts", json={"account_ids": [bob.id]}, headers=alice.headers
    )
    timeline = f"/api/v1/timelines/list/{lst['id']}"

    plain = await post(bob, "bob speaks")
    by_carol = await post(carol, "carol speaks")
    by_dave = await post(dave, "dave speaks")
    thread = await post(bob, "bob continues", in_reply_to_id=plain["id"])
    to_alice = await post(bob, "@alice you see", in_reply_to_id=(await post(alice, "hi"))["id"])
    to_carol = await post(bob, "@carol indeed", in_reply_to_id=by_carol["id"])
    to_dave = await post(bob, "@dave indeed", in_reply_to_id=by_dave["id"])
    private = await post(bob, "for followers", visibility="private")

    always = [private["id"], to_alice["id"], thread["id"], plain["id"]]
    assert _ids(await client.get(timeline, headers=alice.headers)) == always  # carol is not in the list

    await client.put(f"/api/v1/lists/{lst['id']}", json={"replies_policy": "followed"}, headers=alice.headers)
    shown = _ids(await client.get(timeline, headers=alice.headers))
    assert shown == [private["id"], to_carol["id"], to_alice["id"], thread["id"], plain["id"]]
    assert to_dave["id"] not in shown  # alice does not follow dave

    await client.put(f"/api/v1/lists/{lst['id']}", json={"replies_policy": "none"}, headers=alice.headers)
    assert _ids(await client.get(timeline, headers=alice.headers)) == always

    await client.post(
        f"/api/v1/lists/{lst['id']}/accounts", json={"account_ids": [carol.id]}, headers=alice.headers
    )
    await client.put(f"/api/v1/lists/{lst['id']}", json={"replies_policy": "list"}, headers=alice.headers)
    page = await client.get(timeline, params={"limit": 3}, headers=alice.headers)
    assert _ids(page) == [private["id"], to_carol["id"], to_alice["id"]]
    assert 'rel="next"' in page.headers["link"]
    assert by_carol["id"] in _ids(await client.get(timeline, headers=alice.headers))


async def test_exclusive_list_leaves_home(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    for who in (bob, carol):
        await client.post(f"/api/v1/accounts/{who.id}/follow", headers=alice.headers)
    lst = await _new_list(client, alice, title="Bob only", exclusive=True)
    await client.post(
        f"/api/v1/lists/{lst['id']}/accounts", json={"account_ids": [bob.id]}, headers=alice.headers
    )
    bobs = await post(bob, "in the list")
    carols = await post(carol, "in home")
    mine = await post(alice, "my own")

    assert _ids(await client.get("/api/v1/timelines/home", headers=alice.headers)) == [
        mine["id"],
        carols["id"],
    ]
    assert _ids(await client.get(f"/api/v1/timelines/list/{lst['id']}", headers=alice.headers)) == [
        bobs["id"]
    ]
    # Exclusive lists are the owner's business: Carol's home is unaffected by Alice's list.
    await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=carol.headers)
    assert bobs["id"] in _ids(await client.get("/api/v1/timelines/home", headers=carol.headers))

    later = await post(bob, "still exclusive")
    assert later["id"] not in _ids(await client.get("/api/v1/timelines/home", headers=alice.headers))
    await client.put(f"/api/v1/lists/{lst['id']}", json={"exclusive": False}, headers=alice.headers)
    assert later["id"] in _ids(await client.get("/api/v1/timelines/home", headers=alice.headers))
