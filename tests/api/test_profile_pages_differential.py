"""Account pages served from what is kept (pages shared between readers, pages kept per reader,
readers' marks and blocks) always equal what the general path reads afresh, through random
follows, blocks, notes of every visibility, mentions, boosts and deletes — read with the caches
warm, for every reader (and the anonymous one), every author, whole pages and pages of two."""

from __future__ import annotations

import random
from typing import Any

import httpx
import pytest

from tests.conftest import ApiUser, MakeUser

NAMES = ("ann", "ben", "cat", "dan", "eva")
VISIBILITIES = ("public", "public", "unlisted", "private", "direct")


async def _ok(response: Any) -> Any:
    r = await response
    assert r.status_code == 200, r.text
    return r.json()


def _ids(page: list[dict[str, Any]]) -> list[str]:
    return [s["id"] for s in page]


async def _act(
    client: httpx.AsyncClient, rng: random.Random, users: list[ApiUser], notes: list[dict[str, Any]]
) -> None:
    actor, other = rng.sample(users, 2)
    kind = rng.choice(
        ("follow", "unfollow", "block", "unblock", "post", "post", "boost", "delete", "favourite")
    )
    if kind in ("follow", "unfollow", "block", "unblock"):
        r = await client.post(f"/api/v1/accounts/{other.id}/{kind}", headers=actor.headers)
        assert r.status_code in (200, 403), r.text  # following across a block is refused
    elif kind == "post":
        visibility = rng.choice(VISIBILITIES)
        text = f"@{other.username} hello" if rng.random() < 0.5 else "hello"
        r = await client.post(
            "/api/v1/statuses", json={"status": text, "visibility": visibility}, headers=actor.headers
        )
        assert r.status_code == 200, r.text
        notes.append(r.json())
    elif kind in ("boost", "favourite") and notes:
        note = rng.choice(notes)
        action = "reblog" if kind == "boost" else "favourite"
        r = await client.post(f"/api/v1/statuses/{note['id']}/{action}", headers=actor.headers)
        assert r.status_code in (200, 404, 422), r.text  # a note it may not see, or not boost
        if r.status_code == 200 and kind == "boost":
            notes.append(r.json())
    elif kind == "delete" and notes:
        note = notes.pop(rng.randrange(len(notes)))
        author = next(u for u in users if u.id == note["account"]["id"])
        assert (
            await client.delete(f"/api/v1/statuses/{note['id']}", headers=author.headers)
        ).status_code in (200, 404)


async def _check(client: httpx.AsyncClient, users: list[ApiUser]) -> None:
    for author in users:
        url = f"/api/v1/accounts/{author.id}/statuses"
        for reader in (*users, None):
            headers = reader.headers if reader else None
            truth = _ids(
                await _ok(client.get(f"{url}?min_id=0&limit=40", headers=headers))
            )  # the general path
            for _ in range(2):  # read, then read again from what was kept
                assert _ids(await _ok(client.get(f"{url}?limit=40", headers=headers))) == truth
                assert _ids(await _ok(client.get(f"{url}?limit=2", headers=headers))) == truth[:2]
                if len(truth) > 1:
                    older = _ids(await _ok(client.get(f"{url}?limit=2&max_id={truth[1]}", headers=headers)))
                    assert older == truth[2:4]


@pytest.mark.parametrize("seed", [2009])
async def test_kept_account_pages_equal_fresh_reads(
    client: httpx.AsyncClient, make_user: MakeUser, seed: int
) -> None:
    rng = random.Random(seed)
    users = [await make_user(name) for name in NAMES]
    notes: list[dict[str, Any]] = []
    for _ in range(12):
        await _act(client, rng, users, notes)
    for _ in range(4):
        await _check(client, users)
        for _ in range(6):
            await _act(client, rng, users, notes)
    await _check(client, users)
