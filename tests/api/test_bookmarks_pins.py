"""Bookmarks, the list of one's favourites, and pinned notes."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.conftest import ApiUser

Post = Callable[..., Awaitable[dict[str, Any]]]


def _next(r: httpx.Response) -> str | None:
    match = re.search(r'<([^>]+)>; rel="next"', r.headers.get("link", ""))
    return match.group(1).removeprefix("http://cordee.test") if match else None


async def _ids(client: httpx.AsyncClient, path: str, user: ApiUser) -> list[str]:
    r = await client.get(path, headers=user.headers)
    assert r.status_code == 200, r.text
    return [s["id"] for s in r.json()]


async def test_bookmarks(client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser) -> None:
    first, second, third = [await post(bob, f"Note {i}") for i in range(3)]
    for note in (second, first, third):  # listed by when they were bookmarked, newest first
        r = await client.post(f"/api/v1/statuses/{note['id']}/bookmark", headers=alice.headers)
        assert r.status_code == 200 and r.json()["bookmarked"] is True
    again = await client.post(f"/api/v1/statuses/{first['id']}/bookmark", headers=alice.headers)
    assert again.status_code == 200  # idempotent

    assert await _ids(client, "/api/v1/bookmarks", alice) == [third["id"], first["id"], second["id"]]
    assert await _ids(client, "/api/v1/bookmarks", bob) == []  # private to each
    assert (await client.get(f"/api/v1/statuses/{first['id']}", headers=alice.headers)).json()["bookmarked"]
    assert not (await client.get(f"/api/v1/statuses/{first['id']}", headers=bob.headers)).json()["bookmarked"]

    # Pagination by bookmark, through the Link header.
    pages: list[str] = []
    path: str | None = "/api/v1/bookmarks?limit=2"
    while path:
        r = await client.get(path, headers=alice.headers)
        pages.extend(s["id"] for s in r.json())
        last, path = r, _next(r)
    assert pages == [third["id"], first["id"], second["id"]]
    # Back up from the last page (``min_id``: the bookmarks just after it, newest first).
    prev = re.search(r'<([^>]+)>; rel="prev"', last.headers["link"])
    assert prev is not None
    assert await _ids(client, prev.group(1), alice) == [third["id"], first["id"]]

    r = await client.post(f"/api/v1/statuses/{first['id']}/unbookmark", headers=alice.headers)
    assert r.status_code == 200 and r.json()["bookmarked"] is False
    assert await _ids(client, "/api/v1/bookmarks", alice) == [third["id"], second["id"]]
    assert (
        await client.post(f"/api/v1/statuses/{first['id']}/unbookmark", headers=alice.headers)
    ).status_code == 200


async def test_bookmarks_respect_visibility(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    hidden = await post(bob, "Followers only", visibility="private")
    for path in (f"/api/v1/statuses/{hidden['id']}/bookmark", "/api/v1/statuses/999/bookmark"):
        r = await client.post(path, headers=alice.headers)
        assert r.status_code == 404 and r.json() == {"error": "Record not found"}
    assert await _ids(client, "/api/v1/bookmarks", alice) == []

    # A boost stands for its original.
    note = await post(carol, "Worth keeping")
    boost = (await client.post(f"/api/v1/statuses/{note['id']}/reblog", headers=bob.headers)).json()
    r = await client.post(f"/api/v1/statuses/{boost['id']}/bookmark", headers=alice.headers)
    assert r.status_code == 200 and r.json()["id"] == note["id"]
    assert await _ids(client, "/api/v1/bookmarks", alice) == [note["id"]]

    # A block between them hides the bookmarked note from the list.
    await client.post(f"/api/v1/accounts/{carol.id}/block", headers=alice.headers)
    assert await _ids(client, "/api/v1/bookmarks", alice) == []

    assert (await client.get("/api/v1/bookmarks")).status_code == 401


async def test_bookmark_scopes(client: httpx.AsyncClient, post: Post, make_user: Any) -> None:
    reader = await make_user("reader", scopes="read")
    writer = await make_user("writer", scopes="write:statuses read:statuses")
    mine = await post(writer, "Mine")
    r = await client.post(f"/api/v1/statuses/{mine['id']}/bookmark", headers=writer.headers)
    assert r.status_code == 403  # write:bookmarks is needed
    assert (await client.get("/api/v1/bookmarks", headers=reader.headers)).status_code == 200


async def test_favourites_list(client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser) -> None:
    older, newer = await post(bob, "Older"), await post(bob, "Newer")
    await client.post(f"/api/v1/statuses/{newer['id']}/favourite", headers=alice.headers)
    await client.post(f"/api/v1/statuses/{older['id']}/favourite", headers=alice.headers)
    r = await client.get("/api/v1/favourites?limit=1", headers=alice.headers)
    assert [s["id"] for s in r.json()] == [older["id"]]  # the latest favourite first
    assert r.json()[0]["favourited"] is True
    follow = _next(r)
    assert follow is not None
    assert await _ids(client, follow, alice) == [newer["id"]]
    await client.post(f"/api/v1/statuses/{older['id']}/unfavourite", headers=alice.headers)
    assert await _ids(client, "/api/v1/favourites", alice) == [newer["id"]]
    assert await _ids(client, "/api/v1/favourites", bob) == []


async def test_pins(client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser) -> None:
    public = await post(alice, "Pin me")
    private = await post(alice, "Followers, pinned", visibility="private")
    for note in (public, private):
        r = await client.post(f"/api/v1/statuses/{note['id']}/pin", headers=alice.headers)
        assert r.status_code == 200, r.text
        assert r.json()["pinned"] is True
    assert (
        await client.post(f"/api/v1/statuses/{public['id']}/pin", headers=alice.headers)
    ).status_code == 200
    await post(alice, "Not pinned")

    pinned = f"/api/v1/accounts/{alice.id}/statuses?pinned=true"
    assert await _ids(client, pinned, alice) == [private["id"], public["id"]]
    assert await _ids(client, pinned, bob) == [public["id"]]  # Bob does not follow Alice
    assert [s["id"] for s in (await client.get(pinned)).json()] == [public["id"]]
    all_notes = await _ids(client, f"/api/v1/accounts/{alice.id}/statuses", alice)
    assert len(all_notes) == 3
    shown = (await client.get(f"/api/v1/statuses/{public['id']}", headers=bob.headers)).json()
    assert "pinned" not in shown  # only the author learns whether a note is pinned

    r = await client.post(f"/api/v1/statuses/{public['id']}/unpin", headers=alice.headers)
    assert r.status_code == 200 and r.json()["pinned"] is False
    assert await _ids(client, pinned, alice) == [private["id"]]
    # A reader with filters reads the same tab through them; an unknown account is not found.
    before = (await client.get(pinned, headers=alice.headers)).json()
    words = {"title": "nothing", "context": ["account"], "keywords_attributes": [{"keyword": "zzyzx"}]}
    assert (await client.post("/api/v2/filters", json=words, headers=alice.headers)).status_code == 200
    assert (await client.get(pinned, headers=alice.headers)).json() == before
    missing = await client.get("/api/v1/accounts/1/statuses?pinned=true", headers=alice.headers)
    assert missing.status_code == 404 and missing.json() == {"error": "Record not found"}


async def test_what_cannot_be_pinned(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser
) -> None:
    bobs = await post(bob, "Bob's note")
    direct = await post(alice, "@bob just us", visibility="direct")
    hidden = await post(bob, "Followers only", visibility="private")
    boost = (await client.post(f"/api/v1/statuses/{bobs['id']}/reblog", headers=alice.headers)).json()

    async def pin(status_id: str) -> httpx.Response:
        return await client.post(f"/api/v1/statuses/{status_id}/pin", headers=alice.headers)

    r = await pin(bobs["id"])
    assert r.status_code == 422 and "someone else" in r.json()["error"].lower()
    assert (await pin(direct["id"])).status_code == 422
    assert (await pin(boost["id"])).status_code == 422
    assert (await pin(hidden["id"])).status_code == 404
    assert (await pin("424242")).status_code == 404
    assert (
        await client.post(f"/api/v1/statuses/{hidden['id']}/unpin", headers=alice.headers)
    ).status_code == 404

    notes = [await post(alice, f"Pin {i}") for i in range(6)]
    for note in notes[:5]:
        assert (await pin(note["id"])).status_code == 200
    sixth = await pin(notes[5]["id"])
    assert sixth.status_code == 422
    assert sixth.json() == {"error": "Validation failed: You have already pinned the maximum number of posts"}
    pinned = await _ids(client, f"/api/v1/accounts/{alice.id}/statuses?pinned=true", alice)
    assert sorted(pinned) == sorted(n["id"] for n in notes[:5])

    # Deleting a pinned note frees its place.
    await client.delete(f"/api/v1/statuses/{notes[0]['id']}", headers=alice.headers)
    assert (await pin(notes[5]["id"])).status_code == 200
