"""Follows made at the same moment (found by the benchmark's follow phase on PostgreSQL: 500s
from a unique-constraint race and from deadlocks on the two accounts' counters)."""

from __future__ import annotations

import asyncio

import httpx

from tests.conftest import ApiUser, MakeUser


async def test_the_same_follow_twice_at_once_makes_one_follow(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser
) -> None:
    answers = await asyncio.gather(
        *(client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice.headers) for _ in range(6))
    )
    assert [r.status_code for r in answers] == [200] * 6
    assert all(r.json()["following"] for r in answers)
    bob_now = (await client.get(f"/api/v1/accounts/{bob.id}")).json()
    alice_now = (await client.get(f"/api/v1/accounts/{alice.id}")).json()
    assert (bob_now["followers_count"], alice_now["following_count"]) == (1, 1)


async def test_crossing_follows_and_unfollows_never_fail(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    people = [await make_user(f"p{i}") for i in range(4)]
    calls = []
    for _ in range(3):
        for a in people:
            for b in people:
                if a is not b:
                    calls.append(client.post(f"/api/v1/accounts/{b.id}/follow", headers=a.headers))
                    calls.append(client.post(f"/api/v1/accounts/{b.id}/unfollow", headers=a.headers))
    answers = await asyncio.gather(*calls)
    assert sorted({r.status_code for r in answers}) == [200]
