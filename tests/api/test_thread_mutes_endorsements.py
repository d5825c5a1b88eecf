"""Muted conversations (no notifications about a thread, ``muted`` on its notes), private notes
about accounts and endorsements, as Mastodon has them."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.conftest import ApiUser

Post = Callable[..., Awaitable[dict[str, Any]]]


async def _kinds(client: httpx.AsyncClient, user: ApiUser) -> list[tuple[str, str]]:
    r = await client.get("/api/v1/notifications", headers=user.headers)
    assert r.status_code == 200, r.text
    return [(n["type"], n["status"]["id"] if n.get("status") else "") for n in r.json()]


async def _muted(client: httpx.AsyncClient, path: str, user: ApiUser) -> dict[str, bool]:
    r = await client.get(path, headers=user.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    return {s["id"]: s["muted"] for s in (body if isinstance(body, list) else [body])}


async def test_muting_a_conversation(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    root = await post(bob, "A thread")
    reply = await post(alice, "@bob first answer", in_reply_to_id=root["id"])
    elsewhere = await post(bob, "Another thread")
    assert await _kinds(client, bob) == [("mention", reply["id"])]

    # Any note of the thread will do; the answer is that note, now muted for the viewer.
    r = await client.post(f"/api/v1/statuses/{reply['id']}/mute", headers=bob.headers)
    assert r.status_code == 200, r.text
    assert r.json()["id"] == reply["id"] and r.json()["muted"] is True
    deeper = await post(alice, "@bob @carol deeper", in_reply_to_id=reply["id"])
    for action in ("favourite", "reblog"):
        assert (
            await client.post(f"/api/v1/statuses/{root['id']}/{action}", headers=alice.headers)
        ).is_success
    # Nothing more for bob from the muted thread; carol, who did not mute it, is told.
    assert await _kinds(client, bob) == [("mention", reply["id"])]
    assert await _kinds(client, carol) == [("mention", deeper["id"])]

    # ``muted`` on every note of the thread, for bob only, on the single and the list endpoints.
    for note in (root, reply, deeper):
        assert await _muted(client, f"/api/v1/statuses/{note['id']}", bob) == {note["id"]: True}
        assert await _muted(client, f"/api/v1/statuses/{note['id']}", alice) == {note["id"]: False}
    page = await _muted(client, f"/api/v1/accounts/{bob.id}/statuses", bob)
    assert page == {root["id"]: True, elsewhere["id"]: False}
    context = (await client.get(f"/api/v1/statuses/{root['id']}/context", headers=bob.headers)).json()
    assert [s["muted"] for s in context["descendants"]] == [True, True]

    r = await client.post(f"/api/v1/statuses/{root['id']}/unmute", headers=bob.headers)
    assert r.status_code == 200 and r.json()["muted"] is False
    last = await post(alice, "@bob back", in_reply_to_id=deeper["id"])
    assert ("mention", last["id"]) in await _kinds(client, bob)
    assert await _muted(client, f"/api/v1/statuses/{reply['id']}", bob) == {reply["id"]: False}

    # A note the viewer may not see: 404, as for a missing one; no token: 401.
    hidden = await post(carol, "Followers only", visibility="private")
    for path in (f"/api/v1/statuses/{hidden['id']}/mute", "/api/v1/statuses/123/mute"):
        assert (await client.post(path, headers=bob.headers)).status_code == 404
    assert (await client.post(f"/api/v1/statuses/{root['id']}/mute")).status_code == 401


async def _relationship(client: httpx.AsyncClient, viewer: ApiUser, target: ApiUser) -> dict[str, Any]:
    r = await client.get(f"/api/v1/accounts/relationships?id[]={target.id}", headers=viewer.headers)
    assert r.status_code == 200, r.text
    return r.json()[0]  # type: ignore[no-any-return]


async def _account_notes(client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser) -> None:
    path = f"/api/v1/accounts/{bob.id}/note"
    r = await client.post(path, json={"comment": "Met at the climbing wall"}, headers=alice.headers)
    assert r.status_code == 200, r.text
    assert r.json()["id"] == bob.id and r.json()["note"] == "Met at the climbing wall"
    assert (await _relationship(client, alice, bob))["note"] == "Met at the climbing wall"
    assert (await _relationship(client, bob, alice))["note"] == ""  # private to its author

    r = await client.post(path, data={"comment": "Belays well"}, headers=alice.headers)
    assert r.json()["note"] == "Belays well"
    too_long = await client.post(path, json={"comment": "x" * 2001}, headers=alice.headers)
    assert too_long.status_code == 422 and "2000" in too_long.json()["error"]
    assert (await _relationship(client, alice, bob))["note"] == "Belays well"
    r = await client.post(path, json={"comment": ""}, headers=alice.headers)  # blank clears
    assert r.status_code == 200 and r.json()["note"] == ""
    assert (await _relationship(client, alice, bob))["note"] == ""

    missing = await client.post("/api/v1/accounts/123/note", json={"comment": "?"}, headers=alice.headers)
    assert missing.status_code == 404 and missing.json() == {"error": "Record not found"}
    assert (await client.post(path, json={"comment": "?"})).status_code == 401


def _next(r: httpx.Response) -> str | None:
    match = re.search(r'<([^>]+)>; rel="next"', r.headers.get("link", ""))
    return match.group(1).removeprefix("http://cordee.test") if match else None


async def test_account_notes_and_endorsements(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    await _account_notes(client, alice, bob)  # one set of fixtures for both: the suite's time
    refused = await client.post(f"/api/v1/accounts/{bob.id}/pin", headers=alice.headers)
    assert refused.status_code == 422
    assert refused.json()["error"].endswith("You must be already following the person you want to endorse")
    for user in (bob, carol):
        assert (await client.post(f"/api/v1/accounts/{user.id}/follow", headers=alice.headers)).is_success
    r = await client.post(f"/api/v1/accounts/{bob.id}/pin", headers=alice.headers)
    assert r.status_code == 200 and r.json()["endorsed"] is True
    r = await client.post(f"/api/v1/accounts/{carol.id}/endorse", headers=alice.headers)  # 4.4's name
    assert r.status_code == 200 and r.json()["endorsed"] is True
    assert (await client.post(f"/api/v1/accounts/{bob.id}/pin", headers=alice.headers)).status_code == 200
    assert (await _relationship(client, bob, alice))["endorsed"] is False

    # Newest endorsement first, paginated by endorsement; also public on the profile (4.4+).
    seen: list[str] = []
    path: str | None = "/api/v1/endorsements?limit=1"
    while path:
        r = await client.get(path, headers=alice.headers)
        assert r.status_code == 200, r.text
        seen += [a["id"] for a in r.json()]
        path = _next(r)
    assert seen == [carol.id, bob.id]
    public = await client.get(f"/api/v1/accounts/{alice.id}/endorsements")
    assert [a["acct"] for a in public.json()] == ["carol", "bob"]
    assert (await client.get("/api/v1/endorsements", headers=bob.headers)).json() == []
    assert (await client.get("/api/v1/accounts/123/endorsements")).status_code == 404

    r = await client.post(f"/api/v1/accounts/{carol.id}/unpin", headers=alice.headers)
    assert r.status_code == 200 and r.json()["endorsed"] is False
    # Unfollowing ends the endorsement (Mastodon's Follow#remove_endorsements).
    await client.post(f"/api/v1/accounts/{bob.id}/unfollow", headers=alice.headers)
    assert (await client.get("/api/v1/endorsements", headers=alice.headers)).json() == []
    assert (await _relationship(client, alice, bob))["endorsed"] is False
    assert (await client.post("/api/v1/accounts/123/unendorse", headers=alice.headers)).status_code == 404
