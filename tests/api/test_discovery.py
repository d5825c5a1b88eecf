"""Follow suggestions from the follow graph, and trends from recent public activity."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from cordee.queries import trends
from tests.conftest import ApiUser, MakeUser

Post = Callable[..., Awaitable[dict[str, Any]]]


async def _follow(client: httpx.AsyncClient, who: ApiUser, *targets: ApiUser) -> None:
    for target in targets:
        r = await client.post(f"/api/v1/accounts/{target.id}/follow", headers=who.headers)
        assert r.status_code == 200, r.text


async def _suggested(client: httpx.AsyncClient, user: ApiUser) -> list[tuple[str, list[str]]]:
    r = await client.get("/api/v2/suggestions", headers=user.headers)
    assert r.status_code == 200, r.text
    return [(s["account"]["username"], s["sources"]) for s in r.json()]


async def test_suggestions_follow_the_graph(client: httpx.AsyncClient, make_user: MakeUser) -> None:
    me, friend1, friend2, fof_both, fof_one, popular, loner, muted = [
        await make_user(name)
        for name in ("me", "friend1", "friend2", "both", "one", "popular", "loner", "muted")
    ]
    await _follow(client, me, friend1, friend2)
    await _follow(client, friend1, fof_both, fof_one, me)
    await _follow(client, friend2, fof_both)
    await _follow(client, loner, popular)
    await _follow(client, fof_one, popular)

    suggested = await _suggested(client, me)
    assert suggested[:2] == [("both", ["friends_of_friends"]), ("one", ["friends_of_friends"])]
    rest = [name for name, sources in suggested[2:]]
    assert rest[0] == "popular" and set(rest) == {"popular", "loner", "muted"}
    assert all(sources == ["most_followed"] for _, sources in suggested[2:])
    v1 = (await client.get("/api/v1/suggestions", params={"limit": 2}, headers=me.headers)).json()
    assert [a["username"] for a in v1] == ["both", "one"]

    await client.post(f"/api/v1/accounts/{muted.id}/mute", headers=me.headers)
    await client.post(f"/api/v1/accounts/{me.id}/block", headers=loner.headers)
    assert (await client.delete(f"/api/v1/suggestions/{fof_both.id}", headers=me.headers)).json() == {}
    assert (await client.delete(f"/api/v1/suggestions/{fof_both.id}", headers=me.headers)).status_code == 200
    await _follow(client, me, fof_one)
    assert [name for name, _ in await _suggested(client, me)] == ["popular"]
    assert (await client.delete("/api/v1/suggestions/999999", headers=me.headers)).status_code == 404
    assert (await client.get("/api/v2/suggestions")).status_code == 401


async def test_trending_tags_statuses_and_links(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    for i in range(3):
        await post(alice, f"talking to myself #solo {i}")
    await post(alice, "together #shared https://example.org/article")
    await post(bob, "together too #Shared https://example.org/article and https://example.net/")
    await post(carol, "hidden #secret https://example.com/private", visibility="private")

    tags = (await client.get("/api/v1/trends/tags")).json()
    assert [t["name"] for t in tags] == ["shared", "solo"]
    assert tags[0]["history"][0]["accounts"] == "2" and tags[1]["history"][0]["uses"] == "3"
    assert [t["name"] for t in (await client.get("/api/v1/trends", params={"limit": 1})).json()] == ["shared"]
    page = await client.get("/api/v1/trends/tags", params={"limit": 1})
    assert "offset=1" in page.headers["link"]
    assert [t["name"] for t in (await client.get("/api/v1/trends/tags", params={"offset": 1})).json()] == [
        "solo"
    ]

    links = (await client.get("/api/v1/trends/links")).json()
    assert [link["url"] for link in links] == ["https://example.org/article", "https://example.net/"]
    assert links[0]["type"] == "link" and links[0]["title"] == "https://example.org/article"
    assert links[0]["provider_name"] == "example.org" and links[0]["history"][0]["accounts"] == "2"

    assert (await client.get("/api/v1/trends/statuses")).json() == []
    liked = await post(carol, "a popular note")
    loved = await post(carol, "a more popular note")
    private = await post(carol, "popular with friends", visibility="private")
    await _follow(client, alice, carol)
    for user in (alice, bob):
        await client.post(f"/api/v1/statuses/{loved['id']}/favourite", headers=user.headers)
    await client.post(f"/api/v1/statuses/{loved['id']}/reblog", headers=bob.headers)
    await client.post(f"/api/v1/statuses/{liked['id']}/favourite", headers=alice.headers)
    for user in (alice, carol):
        await client.post(f"/api/v1/statuses/{private['id']}/favourite", headers=user.headers)
    trending = (await client.get("/api/v1/trends/statuses", headers=alice.headers)).json()
    assert [s["id"] for s in trending] == [loved["id"], liked["id"]]


async def test_trends_are_kept_a_minute_and_each_reader_sees_their_own_flags(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Trending tags and links are computed at most once a minute (``queries.trends.Kept``: a
    week of public notes aggregated, by anyone, for every request before); what each reader follows
    is theirs, read for each request."""
    await post(alice, "first #kept https://example.org/kept")
    first = (await client.get("/api/v1/trends/tags", headers=alice.headers)).json()
    assert [(t["name"], t["following"]) for t in first] == [("kept", False)]
    assert [x["url"] for x in (await client.get("/api/v1/trends/links")).json()] == [
        "https://example.org/kept"
    ]
    await post(bob, "second #later https://example.org/later")
    r = await client.post("/api/v1/tags/kept/follow", headers=bob.headers)
    assert r.status_code == 200
    assert [
        (t["name"], t["following"])
        for t in (await client.get("/api/v1/trends/tags", headers=bob.headers)).json()
    ] == [("kept", True)]
    assert [t["name"] for t in (await client.get("/api/v1/trends/tags")).json()] == ["kept"]  # as computed
    monkeypatch.setattr(trends, "KEEP_SECONDS", 0.0)  # a minute later
    assert {t["name"] for t in (await client.get("/api/v1/trends/tags")).json()} == {"kept", "later"}
    links = (await client.get("/api/v1/trends/links")).json()
    assert {x["url"] for x in links} == {"https://example.org/kept", "https://example.org/later"}
