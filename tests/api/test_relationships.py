"""Locked accounts and follow requests, blocks, mutes and domain blocks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.conftest import ApiUser

Post = Callable[..., Awaitable[dict[str, Any]]]


def _ids(r: httpx.Response) -> list[str]:
    assert r.status_code == 200, r.text
    body = r.json()
    return [s["id"] for s in (body["statuses"] if isinstance(body, dict) else body)]


async def test_locked_account_follow_request_flow(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    await client.patch("/api/v1/accounts/update_credentials", data={"locked": "true"}, headers=alice.headers)
    private = await post(alice, "followers only", visibility="private")
    rel = (await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)).json()
    assert rel["requested"] is True and rel["following"] is False
    assert (await client.get(f"/api/v1/statuses/{private['id']}", headers=bob.headers)).status_code == 404
    await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=carol.headers)
    notes = (await client.get("/api/v1/notifications", headers=alice.headers)).json()
    assert [n["type"] for n in notes] == ["follow_request", "follow_request"]
    pending = (await client.get("/api/v1/follow_requests", headers=alice.headers)).json()
    assert [a["username"] for a in pending] == ["carol", "bob"]
    rel = (
        await client.get("/api/v1/accounts/relationships", params={"id[]": bob.id}, headers=alice.headers)
    ).json()
    assert rel[0]["requested_by"] is True

    ok = await client.post(f"/api/v1/follow_requests/{bob.id}/authorize", headers=alice.headers)
    assert ok.json()["followed_by"] is True
    no = await client.post(f"/api/v1/follow_requests/{carol.id}/reject", headers=alice.headers)
    assert no.json()["followed_by"] is False
    assert (
        await client.post(f"/api/v1/follow_requests/{carol.id}/reject", headers=alice.headers)
    ).status_code == 404
    assert (await client.get(f"/api/v1/statuses/{private['id']}", headers=bob.headers)).status_code == 200
    assert (await client.get(f"/api/v1/statuses/{private['id']}", headers=carol.headers)).status_code == 404
    assert (await client.get(f"/api/v1/accounts/{alice.id}")).json()["followers_count"] == 1
    assert (await client.get("/api/v1/follow_requests", headers=alice.headers)).json() == []


async def test_block_cuts_follows_and_hides_both_ways(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice.headers)
    await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)
    by_bob = await post(bob, "bob says #topic")
    by_alice = await post(alice, "alice says #topic")
    await client.post(f"/api/v1/statuses/{by_alice['id']}/favourite", headers=carol.headers)
    await client.post(f"/api/v1/statuses/{by_alice['id']}/favourite", headers=bob.headers)
    rel = (await client.post(f"/api/v1/accounts/{bob.id}/block", headers=alice.headers)).json()
    assert rel["blocking"] and not rel["following"] and not rel["followed_by"]
    assert (await client.get(f"/api/v1/accounts/{bob.id}")).json()["followers_count"] == 0

    for viewer, hidden in ((alice, by_bob), (bob, by_alice)):
        h = viewer.headers
        assert (await client.get(f"/api/v1/statuses/{hidden['id']}", headers=h)).status_code == 404
        assert hidden["id"] not in _ids(await client.get("/api/v1/timelines/public", headers=h))
        assert hidden["id"] not in _ids(await client.get("/api/v1/timelines/tag/topic", headers=h))
        assert hidden["id"] not in _ids(await client.get("/api/v1/timelines/home", headers=h))
        assert hidden["id"] not in _ids(await client.get("/api/v2/search", params={"q": "says"}, headers=h))
    # bob can no longer reply to, favourite or follow alice
    reply = await client.post(
        "/api/v1/statuses", json={"status": "hey", "in_reply_to_id": by_alice["id"]}, headers=bob.headers
    )
    assert reply.status_code == 404
    assert (await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)).status_code == 403
    # alice does not see bob among those who favourited her note; bob's mention does not notify her
    favs = (
        await client.get(f"/api/v1/statuses/{by_alice['id']}/favourited_by", headers=alice.headers)
    ).json()
    assert [a["username"] for a in favs] == ["carol"]
    await post(bob, "@alice are you there?")
    types = [
        (n["type"], n["account"]["username"])
        for n in (await client.get("/api/v1/notifications", headers=alice.headers)).json()
    ]
    assert ("mention", "bob") not in types and all(u != "bob" for _, u in types)
    assert [a["username"] for a in (await client.get("/api/v1/blocks", headers=alice.headers)).json()] == [
        "bob"
    ]

    rel = (await client.post(f"/api/v1/accounts/{bob.id}/unblock", headers=alice.headers)).json()
    assert rel["blocking"] is False
    assert (await client.get(f"/api/v1/statuses/{by_bob['id']}", headers=alice.headers)).status_code == 200


async def test_mute_hides_notes_and_reblogs_but_not_the_profile(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice.headers)
    await client.post(f"/api/v1/accounts/{carol.id}/follow", headers=alice.headers)
    noisy = await post(bob, "noise")
    boosted = (await client.post(f"/api/v1/statuses/{noisy['id']}/reblog", headers=carol.headers)).json()
    rel = (
        await client.post(
            f"/api/v1/accounts/{bob.id}/mute", data={"notifications": "false"}, headers=alice.headers
        )
    ).json()
    assert rel["muting"] is True and rel["muting_notifications"] is False and rel["following"] is True
    home = _ids(await client.get("/api/v1/timelines/home", headers=alice.headers))
    assert noisy["id"] not in home and boosted["id"] not in home
    assert noisy["id"] not in _ids(await client.get("/api/v1/timelines/public", headers=alice.headers))
    assert noisy["id"] in _ids(await client.get(f"/api/v1/accounts/{bob.id}/statuses", headers=alice.headers))
    # notifications=false keeps bob's notifications
    await post(bob, "@alice ping")
    assert any(
        n["account"]["username"] == "bob"
        for n in (await client.get("/api/v1/notifications", headers=alice.headers)).json()
    )
    await client.post(
        f"/api/v1/accounts/{bob.id}/mute",
        data={"notifications": "true", "duration": "3600"},
        headers=alice.headers,
    )
    assert not any(
        n["account"]["username"] == "bob"
        for n in (await client.get("/api/v1/notifications", headers=alice.headers)).json()
    )
    muted = (await client.get("/api/v1/mutes", headers=alice.headers)).json()
    assert [a["username"] for a in muted] == ["bob"] and muted[0]["mute_expires_at"] is not None
    await client.post(f"/api/v1/accounts/{bob.id}/unmute", headers=alice.headers)
    assert noisy["id"] in _ids(await client.get("/api/v1/timelines/home", headers=alice.headers))


async def test_bad_relationship_input(client: httpx.AsyncClient, alice: ApiUser) -> None:
    assert (await client.post(f"/api/v1/accounts/{alice.id}/block", headers=alice.headers)).status_code == 403
    assert (await client.post("/api/v1/accounts/1234/mute", headers=alice.headers)).status_code == 404
    r = await client.post(f"/api/v1/accounts/{alice.id}/mute", data={"duration": "-5"}, headers=alice.headers)
    assert r.status_code in (403, 422)
    assert (
        await client.post("/api/v1/domain_blocks", data={"domain": "not a domain"}, headers=alice.headers)
    ).status_code == 422
    assert (
        await client.post("/api/v1/domain_blocks", data={"domain": "Spam.example"}, headers=alice.headers)
    ).json() == {}
    assert (await client.get("/api/v1/domain_blocks", headers=alice.headers)).json() == ["spam.example"]
    await client.request(
        "DELETE", "/api/v1/domain_blocks", params={"domain": "spam.example"}, headers=alice.headers
    )
    assert (await client.get("/api/v1/domain_blocks", headers=alice.headers)).json() == []


async def test_counts_move_whether_or_not_the_notification_is_wanted(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser
) -> None:
    """A favourite's, a boost's and a follow's count ride with their notification (one statement
    on PostgreSQL): a notification not wanted (its recipient muted the actor's notifications) must
    not take the count with it."""
    note = await post(alice, "counted anyway")
    r = await client.post(
        f"/api/v1/accounts/{bob.id}/mute", data={"notifications": "true"}, headers=alice.headers
    )
    assert r.json()["muting_notifications"] is True
    faved = (await client.post(f"/api/v1/statuses/{note['id']}/favourite", headers=bob.headers)).json()
    boost = (await client.post(f"/api/v1/statuses/{note['id']}/reblog", headers=bob.headers)).json()
    assert faved["favourites_count"] == 1 and boost["reblog"]["reblogs_count"] == 1
    rel = (await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)).json()
    assert rel["following"] is True
    seen = (await client.get(f"/api/v1/statuses/{note['id']}", headers=alice.headers)).json()
    assert (seen["favourites_count"], seen["reblogs_count"]) == (1, 1)
    me = (await client.get(f"/api/v1/accounts/{alice.id}", headers=alice.headers)).json()
    assert me["followers_count"] == 1
    them = (await client.get(f"/api/v1/accounts/{bob.id}", headers=alice.headers)).json()
    assert them["following_count"] == 1
    assert (await client.get("/api/v1/notifications", headers=alice.headers)).json() == []
