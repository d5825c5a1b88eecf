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
