"""Home, public and hashtag timelines, and the shared pagination (max_id / since_id / min_id / Link)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests.conftest import ApiUser

Post = Callable[..., Awaitable[dict[str, Any]]]


def _ids(r: httpx.Response) -> list[str]:
    assert r.status_code == 200, r.text
    return [s["id"] for s in r.json()]


async def test_home_shows_followed_and_own_notes(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice.headers)
    mine = await post(alice, "mine")
    bobs = await post(bob, "from bob")
    carols = await post(carol, "from carol")
    home = _ids(await client.get("/api/v1/timelines/home", headers=alice.headers))
    assert home == [bobs["id"], mine["id"]]
    assert carols["id"] not in home
    await client.post(f"/api/v1/accounts/{bob.id}/unfollow", headers=alice.headers)
    assert _ids(await client.get("/api/v1/timelines/home", headers=alice.headers)) == [mine["id"]]


async def test_home_hides_replies_to_strangers_and_unwanted_reblogs(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice.headers)
    carols = await post(carol, "hello world")
    reply_to_stranger = await post(bob, "@carol hi", in_reply_to_id=carols["id"])
    boost = (await client.post(f"/api/v1/statuses/{carols['id']}/reblog", headers=bob.headers)).json()
    home = _ids(await client.get("/api/v1/timelines/home", headers=alice.headers))
    assert reply_to_stranger["id"] not in home
    assert boost["id"] in home
    await client.post(f"/api/v1/accounts/{bob.id}/follow", data={"reblogs": "false"}, headers=alice.headers)
    home = _ids(await client.get("/api/v1/timelines/home", headers=alice.headers))
    assert boost["id"] not in home


async def test_public_and_tag_timelines(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser
) -> None:
    a = await post(alice, "about #Python")
    b = await post(bob, "about #rust and #python")
    await post(bob, "nothing here")
    boost = (await client.post(f"/api/v1/statuses/{a['id']}/reblog", headers=bob.headers)).json()
    public = _ids(await client.get("/api/v1/timelines/public"))
    assert boost["id"] not in public and a["id"] in public
    assert _ids(await client.get("/api/v1/timelines/public", params={"local": "true"})) == public
    assert _ids(await client.get("/api/v1/timelines/public", params={"remote": "true"})) == []
    assert _ids(await client.get("/api/v1/timelines/tag/PYTHON")) == [b["id"], a["id"]]
    assert _ids(await client.get("/api/v1/timelines/tag/python", params={"all[]": "rust"})) == [b["id"]]
    assert _ids(await client.get("/api/v1/timelines/tag/python", params={"none[]": "rust"})) == [a["id"]]
    assert _ids(await client.get("/api/v1/timelines/tag/nothing")) == []
    # any[]: each tag's page, merged (a note with both appears once), in both directions.
    either = "/api/v1/timelines/tag/rust"
    assert _ids(await client.get(either, params={"any[]": ["python", "nothing"]})) == [b["id"], a["id"]]
    assert _ids(await client.get(either, params={"any[]": "python", "limit": 1})) == [b["id"]]
    assert _ids(await client.get(either, params={"any[]": "python", "min_id": a["id"]})) == [b["id"]]
    assert _ids(await client.get(either, params={"any[]": "python", "max_id": b["id"]})) == [a["id"]]


async def test_pagination_walks_every_note_once(
    client: httpx.AsyncClient, post: Post, alice: ApiUser
) -> None:
    posted = [(await post(alice, f"note {i}"))["id"] for i in range(25)]
    newest_first = list(reversed(posted))
    seen: list[str] = []
    url: str | None = "/api/v1/timelines/home?limit=10"
    while url:
        r = await client.get(url, headers=alice.headers)
        seen += _ids(r)
        match = re.search(r'<([^>]+)>; rel="next"', r.headers.get("link", ""))
        url = match.group(1) if match else None
    assert seen == newest_first

    newest = await client.get(
        "/api/v1/timelines/home", params={"min_id": posted[4], "limit": 3}, headers=alice.headers
    )
    assert _ids(newest) == [posted[7], posted[6], posted[5]]
    since = await client.get("/api/v1/timelines/home", params={"since_id": posted[20]}, headers=alice.headers)
    assert _ids(since) == list(reversed(posted[21:]))
    prev = re.search(r'<([^>]+)>; rel="prev"', newest.headers["link"])
    assert prev and f"min_id={posted[7]}" in prev.group(1)
    # A client polling with the newest id it has: the few notes above it, on the hot path.
    poll = await client.get("/api/v1/timelines/home", params={"min_id": posted[21]}, headers=alice.headers)
    assert _ids(poll) == list(reversed(posted[22:]))
    assert (
        _ids(await client.get("/api/v1/timelines/home", params={"min_id": posted[24]}, headers=alice.headers))
        == []
    )
    capped = await client.get("/api/v1/timelines/home", params={"limit": 1000}, headers=alice.headers)
    assert len(capped.json()) == 25  # limit is capped at 40, there are 25


@pytest.mark.parametrize("signed_in", [True, False])
@pytest.mark.parametrize("timeline", ["/api/v1/timelines/public", "/api/v1/timelines/tag/Walk"])
async def test_public_and_tag_timeline_pages_walk_every_note_once(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser, signed_in: bool, timeline: str
) -> None:
    headers = bob.headers if signed_in else {}
    posted = []
    for i in range(13):
        posted.append((await post(alice, f"note {i} #walk"))["id"])
        if timeline.endswith("Walk"):
            await post(bob, f"untagged {i} #other")  # between the tag's notes: its pages skip them
    await post(alice, "for followers #walk", visibility="private")
    await post(alice, "quietly #walk", visibility="unlisted")
    await client.post(f"/api/v1/statuses/{posted[3]}/reblog", headers=bob.headers)  # boosts stay out
    seen: list[str] = []
    url: str | None = f"{timeline}?limit=5&local=true"
    while url:
        r = await client.get(url, headers=headers)
        seen += _ids(r)
        match = re.search(r'<([^>]+)>; rel="next"', r.headers.get("link", ""))
        url = match.group(1) if match else None
        assert url is None or "local=true" in url  # the other parameters carried along
    assert seen == list(reversed(posted))
    # min_id: the page just newer than it, newest first; since_id: the newest page above it.
    newer = await client.get(timeline, params={"min_id": posted[2], "limit": 3}, headers=headers)
    assert _ids(newer) == [posted[5], posted[4], posted[3]]
    prev = re.search(r'<([^>]+)>; rel="prev"', newer.headers["link"])
    assert prev and f"min_id={posted[5]}" in prev.group(1)
    since = await client.get(timeline, params={"since_id": posted[2], "limit": 3}, headers=headers)
    assert _ids(since) == [posted[12], posted[11], posted[10]]
    between = {"max_id": posted[9], "min_id": posted[6]}
    assert _ids(await client.get(timeline, params=between, headers=headers)) == [
        posted[8],
        posted[7],
    ]
    assert _ids(await client.get(timeline, params={"remote": "true"}, headers=headers)) == []
    if signed_in:  # a reader with filters: the same pages, rendered through them
        pages = [{}, {"min_id": posted[2], "limit": 3}, {"max_id": posted[9], "local": "true"}]
        without = [(await client.get(timeline, params=p, headers=headers)).json() for p in pages]
        words = {"title": "nothing", "context": ["public"], "keywords_attributes": [{"keyword": "zzyzx"}]}
        assert (await client.post("/api/v2/filters", json=words, headers=headers)).status_code == 200
        for params, expected in zip(pages, without, strict=True):
            assert (await client.get(timeline, params=params, headers=headers)).json() == expected, params


async def test_account_statuses_filters(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser
) -> None:
    bobs = await post(bob, "bob")
    own = await post(alice, "hi #tagged")
    reply = await post(alice, "@bob answer", in_reply_to_id=bobs["id"])
    thread = await post(alice, "continuing", in_reply_to_id=own["id"])
    boost = (await client.post(f"/api/v1/statuses/{bobs['id']}/reblog", headers=alice.headers)).json()
    url = f"/api/v1/accounts/{alice.id}/statuses"
    assert _ids(await client.get(url)) == [boost["id"], thread["id"], reply["id"], own["id"]]
    assert _ids(await client.get(url, params={"exclude_replies": "true"})) == [
        boost["id"],
        thread["id"],
        own["id"],
    ]
    assert _ids(await client.get(url, params={"exclude_reblogs": "1"})) == [
        thread["id"],
        reply["id"],
        own["id"],
    ]
    assert _ids(await client.get(url, params={"tagged": "tagged"})) == [own["id"]]
