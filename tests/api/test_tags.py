"""Hashtags: the Tag entity and its history, following tags (their notes join home), featured tags."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from tests.conftest import ApiUser

Post = Callable[..., Awaitable[dict[str, Any]]]


def _ids(r: httpx.Response) -> list[str]:
    assert r.status_code == 200, r.text
    return [s["id"] for s in r.json()]


def _midnight() -> str:
    now = datetime.now(UTC)
    return str(int(now.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()))


async def test_tag_entity_follow_and_unfollow(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    await post(bob, "about #Cordee")
    await post(bob, "again #cordee")
    await post(carol, "me too #cordee")
    await post(carol, "quietly #cordee", visibility="private")  # not counted: not public

    tag = (await client.get("/api/v1/tags/cordee", headers=alice.headers)).json()
    assert tag["name"] == "cordee" and tag["url"] == "http://cordee.test/tags/cordee"
    assert tag["following"] is False and tag["featuring"] is False
    assert len(tag["history"]) == 7
    assert tag["history"][0] == {"day": _midnight(), "uses": "3", "accounts": "2"}
    assert all(day["uses"] == "0" for day in tag["history"][1:])
    anonymous = (await client.get("/api/v1/tags/CORDEE")).json()
    assert anonymous["id"] == tag["id"] and "following" not in anonymous

    followed = await client.post("/api/v1/tags/%23Cordee/follow", headers=alice.headers)
    assert followed.status_code == 200 and followed.json()["following"] is True
    assert (await client.post("/api/v1/tags/cordee/follow", headers=alice.headers)).json()[
        "following"
    ] is True
    new = await client.post("/api/v1/tags/brandnew/follow", headers=alice.headers)
    assert new.json()["name"] == "brandnew" and new.json()["history"][0]["uses"] == "0"
    listed = await client.get("/api/v1/followed_tags", headers=alice.headers)
    assert [t["name"] for t in listed.json()] == ["brandnew", "cordee"]
    assert all(t["following"] for t in listed.json())
    page = await client.get("/api/v1/followed_tags", params={"limit": 1}, headers=alice.headers)
    assert [t["name"] for t in page.json()] == ["brandnew"] and 'rel="next"' in page.headers["link"]
    assert (await client.get("/api/v1/followed_tags", headers=bob.headers)).json() == []

    unfollowed = await client.post("/api/v1/tags/cordee/unfollow", headers=alice.headers)
    assert unfollowed.json()["following"] is False
    assert [t["name"] for t in (await client.get("/api/v1/followed_tags", headers=alice.headers)).json()] == [
        "brandnew"
    ]

    unused = (await client.get("/api/v1/tags/nobodysaidthis", headers=alice.headers)).json()
    assert unused["name"] == "nobodysaidthis" and unused["following"] is False
    for bad in ("/api/v1/tags/123", "/api/v1/tags/no-dash", "/api/v1/tags/%20"):
        assert (await client.get(bad)).status_code == 404, bad
        assert (await client.post(bad + "/follow", headers=alice.headers)).status_code == 404
    assert (
        await client.post("/api/v1/tags/nobodysaidthat/unfollow", headers=alice.headers)
    ).status_code == 404
    assert (await client.post("/api/v1/tags/cordee/follow")).status_code == 401


async def test_followed_tags_bring_public_notes_home(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    await client.get("/api/v1/timelines/home", headers=alice.headers)  # alice's home exists already
    await client.post("/api/v1/tags/gardening/follow", headers=alice.headers)
    public = await post(carol, "Tomatoes! #Gardening")
    unlisted = await post(carol, "quiet #gardening", visibility="unlisted")
    private = await post(carol, "friends #gardening", visibility="private")
    other = await post(carol, "no tag here")
    boost = (await client.post(f"/api/v1/statuses/{public['id']}/reblog", headers=bob.headers)).json()

    home = _ids(await client.get("/api/v1/timelines/home", headers=alice.headers))
    assert public["id"] in home
    for absent in (unlisted, private, other, boost):
        assert absent["id"] not in home

    await client.post("/api/v1/tags/gardening/unfollow", headers=alice.headers)
    assert public["id"] not in _ids(await client.get("/api/v1/timelines/home", headers=alice.headers))

    # Blocks and mutes still apply to notes brought by a tag.
    await client.post("/api/v1/tags/gardening/follow", headers=alice.headers)
    await client.post(f"/api/v1/accounts/{carol.id}/mute", headers=alice.headers)
    muted = await post(carol, "muted #gardening")
    assert muted["id"] not in _ids(await client.get("/api/v1/timelines/home", headers=alice.headers))


async def test_featured_tags(client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser) -> None:
    await post(alice, "first #Climbing")
    await post(alice, "second #climbing and #ropes")
    await post(alice, "secret #climbing", visibility="direct")
    await post(bob, "bob #climbing")

    suggested = (await client.get("/api/v1/featured_tags/suggestions", headers=alice.headers)).json()
    assert [t["name"] for t in suggested] == ["climbing", "ropes"]

    r = await client.post("/api/v1/featured_tags", data={"name": "#climbing"}, headers=alice.headers)
    assert r.status_code == 200, r.text
    featured = r.json()
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert featured == {
        "id": featured["id"],
        "name": "climbing",
        "url": "http://cordee.test/@alice/tagged/climbing",
        "statuses_count": "2",
        "last_status_at": today,
    }
    unused = await client.post("/api/v1/featured_tags", json={"name": "knots"}, headers=alice.headers)
    assert unused.json()["statuses_count"] == "0" and unused.json()["last_status_at"] is None
    for bad in ({"name": "climbing"}, {"name": "not a tag"}, {}):
        assert (
            await client.post("/api/v1/featured_tags", json=bad, headers=alice.headers)
        ).status_code == 422

    mine = (await client.get("/api/v1/featured_tags", headers=alice.headers)).json()
    assert [t["name"] for t in mine] == ["climbing", "knots"]
    assert (await client.get(f"/api/v1/accounts/{alice.id}/featured_tags")).json() == mine
    assert (await client.get(f"/api/v1/accounts/{bob.id}/featured_tags")).json() == []
    assert (await client.get("/api/v1/accounts/999999/featured_tags")).status_code == 404
    suggested = (await client.get("/api/v1/featured_tags/suggestions", headers=alice.headers)).json()
    assert [t["name"] for t in suggested] == ["ropes"]
    assert (await client.get("/api/v1/tags/climbing", headers=alice.headers)).json()["featuring"] is True

    assert (
        await client.delete(f"/api/v1/featured_tags/{featured['id']}", headers=bob.headers)
    ).status_code == 404
    assert (
        await client.delete(f"/api/v1/featured_tags/{featured['id']}", headers=alice.headers)
    ).json() == {}
    assert [t["name"] for t in (await client.get("/api/v1/featured_tags", headers=alice.headers)).json()] == [
        "knots"
    ]

    # Mastodon 4.4's feature/unfeature by tag name.
    assert (await client.post("/api/v1/tags/ropes/feature", headers=alice.headers)).json()[
        "featuring"
    ] is True
    assert (await client.post("/api/v1/tags/ropes/unfeature", headers=alice.headers)).json()[
        "featuring"
    ] is False
