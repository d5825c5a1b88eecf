"""Followers and following lists page by the follow, newest first (a regression test: they were
once ordered by username, and the second page failed on PostgreSQL)."""

from __future__ import annotations

import re

import httpx

from tests.conftest import ApiUser, MakeUser


async def test_followers_and_following_pages(
    client: httpx.AsyncClient, make_user: MakeUser, alice: ApiUser
) -> None:
    fans = [await make_user(name) for name in ("zed", "amy", "kim")]
    for fan in fans:
        await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=fan.headers)
        await client.post(f"/api/v1/accounts/{fan.id}/follow", headers=alice.headers)
    for path in (f"/api/v1/accounts/{alice.id}/followers", f"/api/v1/accounts/{alice.id}/following"):
        seen: list[str] = []
        url: str | None = f"{path}?limit=2"
        while url:
            r = await client.get(url, headers=alice.headers)
            assert r.status_code == 200, r.text
            seen.extend(a["username"] for a in r.json())
            match = re.search(r'<([^>]+)>; rel="next"', r.headers.get("link", ""))
            url = match.group(1).removeprefix("http://cordee.test") if match else None
        assert seen == ["kim", "amy", "zed"], path  # the latest follow first
        # Back up with min_id (the follows just after the last page's, newest first).
        prev = re.search(r'<([^>]+)>; rel="prev"', r.headers["link"])
        assert prev is not None
        back = await client.get(prev.group(1).removeprefix("http://cordee.test"), headers=alice.headers)
        assert [a["username"] for a in back.json()] == ["kim", "amy"], path
        # Anyone in a block with the reader is left out; an anonymous reader sees them all.
        await client.post(f"/api/v1/accounts/{fans[1].id}/block", headers=fans[0].headers)  # zed blocks amy
        assert [a["username"] for a in (await client.get(path, headers=fans[0].headers)).json()] == [
            "kim",
            "zed",
        ]
        assert [a["username"] for a in (await client.get(path)).json()] == ["kim", "amy", "zed"]
        await client.post(f"/api/v1/accounts/{fans[1].id}/unblock", headers=fans[0].headers)
    missing = await client.get("/api/v1/accounts/1/followers", headers=alice.headers)
    assert missing.status_code == 404 and missing.json() == {"error": "Record not found"}
