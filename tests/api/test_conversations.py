"""Direct conversations: grouped by thread and participants, unread for recipients, read, removed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.conftest import ApiUser

Post = Callable[..., Awaitable[dict[str, Any]]]


async def _conversations(client: httpx.AsyncClient, user: ApiUser, **params: Any) -> list[dict[str, Any]]:
    r = await client.get("/api/v1/conversations", params=params, headers=user.headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_direct_messages_make_conversations(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    first = await post(alice, "@bob psst", visibility="direct")
    [bobs] = await _conversations(client, bob)
    assert bobs["unread"] is True
    assert [a["id"] for a in bobs["accounts"]] == [alice.id]
    assert bobs["last_status"]["id"] == first["id"]
    [alices] = await _conversations(client, alice)
    assert alices["unread"] is False and [a["id"] for a in alices["accounts"]] == [bob.id]
    assert await _conversations(client, carol) == []
    await post(alice, "public @bob", visibility="public")
    assert len(await _conversations(client, bob)) == 1

    # A reply joins the conversation; it is unread for the other side only.
    read = await client.post(f"/api/v1/conversations/{alices['id']}/read", headers=alice.headers)
    assert read.json()["unread"] is False
    answer = await post(bob, "@alice yes?", visibility="direct", in_reply_to_id=first["id"])
    [bobs] = await _conversations(client, bob)
    [alices] = await _conversations(client, alice)
    assert bobs["last_status"]["id"] == alices["last_status"]["id"] == answer["id"]
    assert (bobs["unread"], alices["unread"]) == (False, True)
    read = await client.post(f"/api/v1/conversations/{alices['id']}/read", headers=alice.headers)
    assert read.json()["unread"] is False and read.json()["last_status"]["id"] == answer["id"]

    # Another set of people is another conversation, and the newest comes first.
    group = await post(alice, "@bob @carol all of us", visibility="direct")
    listed = await _conversations(client, alice)
    assert [c["last_status"]["id"] for c in listed] == [group["id"], answer["id"]]
    assert sorted(a["id"] for a in listed[0]["accounts"]) == sorted([bob.id, carol.id])
    page = await client.get("/api/v1/conversations", params={"limit": 1}, headers=alice.headers)
    assert len(page.json()) == 1 and f"max_id={group['id']}" in page.headers["link"]
    older = await _conversations(client, alice, max_id=group["id"])
    assert [c["last_status"]["id"] for c in older] == [answer["id"]]

    # Deleting the newest note falls back to the one before it.
    await client.delete(f"/api/v1/statuses/{answer['id']}", headers=bob.headers)
    [_, alices] = await _conversations(client, alice)
    assert alices["last_status"]["id"] == first["id"]

    # Someone else's conversation is not found, and stays as it was.
    for method, path in (
        ("POST", f"/api/v1/conversations/{alices['id']}/read"),
        ("DELETE", f"/api/v1/conversations/{alices['id']}"),
    ):
        assert (await client.request(method, path, headers=carol.headers)).status_code == 404
    assert (await client.delete("/api/v1/conversations/424242", headers=alice.headers)).status_code == 404

    # Removing hides it for oneself only; a new message brings it back.
    assert (await client.delete(f"/api/v1/conversations/{alices['id']}", headers=alice.headers)).json() == {}
    assert [c["last_status"]["id"] for c in await _conversations(client, alice)] == [group["id"]]
    assert len(await _conversations(client, bob)) == 2
    again = await post(bob, "@alice still there?", visibility="direct", in_reply_to_id=first["id"])
    newest = (await _conversations(client, alice))[0]
    assert newest["last_status"]["id"] == again["id"] and newest["unread"] is True


async def test_blocked_senders_start_no_conversation(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser
) -> None:
    await client.post(f"/api/v1/accounts/{alice.id}/block", headers=bob.headers)
    await post(alice, "@bob hello?", visibility="direct")
    assert await _conversations(client, bob) == []
    note_to_self = await post(alice, "remember the milk", visibility="direct")
    [mine, _] = await _conversations(client, alice)
    assert mine["last_status"]["id"] == note_to_self["id"]
    assert [a["id"] for a in mine["accounts"]] == [alice.id]
