"""Follows, favourites and boosts made at the same moment (found by the benchmark's follow phase
on PostgreSQL: 500s from a unique-constraint race and from deadlocks on the two accounts'
counters)."""

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


async def test_the_same_favourite_six_times_at_once_counts_once(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser
) -> None:
    """A favourite is inserted unless the pair is there, in one statement: no check first that a
    concurrent call could pass too (on PostgreSQL that was a unique-constraint error, a 500)."""
    note = await client.post("/api/v1/statuses", json={"status": "liked"}, headers=bob.headers)
    url = f"/api/v1/statuses/{note.json()['id']}/favourite"
    answers = await asyncio.gather(*(client.post(url, headers=alice.headers) for _ in range(6)))
    assert [r.status_code for r in answers] == [200] * 6
    shown = await client.get(f"/api/v1/statuses/{note.json()['id']}", headers=alice.headers)
    assert (shown.json()["favourites_count"], shown.json()["favourited"]) == (1, True)


async def test_the_same_boost_six_times_at_once_makes_one_boost(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser
) -> None:
    """Found while checking the favourites' race: on PostgreSQL six boosts of one note at once by
    one account made six boosts (each checked for an earlier one before any had committed)."""
    note = await client.post("/api/v1/statuses", json={"status": "boosted"}, headers=bob.headers)
    url = f"/api/v1/statuses/{note.json()['id']}/reblog"
    answers = await asyncio.gather(*(client.post(url, headers=alice.headers) for _ in range(6)))
    assert [r.status_code for r in answers] == [200] * 6
    assert len({r.json()["id"] for r in answers}) == 1
    shown = await client.get(f"/api/v1/statuses/{note.json()['id']}", headers=alice.headers)
    assert (shown.json()["reblogs_count"], shown.json()["reblogged"]) == (1, True)
