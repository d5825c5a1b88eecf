"""Fidelity leftovers of issue 9: each answer as Mastodon gives it (its source is the reference)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from cordee.config import Settings
from cordee.db.engine import Database
from cordee.db.tables import Account
from tests.conftest import BASE_URL, ApiUser


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # Every author with a follower is "big": their notes are merged into home timelines when read.
    return Settings(
        base_url=BASE_URL, data_dir=tmp_path / "data", secret_key="test-secret", fanout_follower_threshold=1
    )


async def test_limit_zero_gives_an_empty_page_and_a_negative_limit_its_absolute_value(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, post: Any
) -> None:
    # Api::BaseController#limit_param: [params[:limit].to_i.abs, default * 2].min, then LIMIT 0.
    await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)
    for n in range(3):
        note = await post(alice, f"note {n}")
        await client.post(f"/api/v1/statuses/{note['id']}/favourite", headers=bob.headers)
    lists = [
        "/api/v1/timelines/home",
        "/api/v1/timelines/public",
        f"/api/v1/accounts/{alice.id}/statuses",
        f"/api/v1/accounts/{alice.id}/followers",
        "/api/v1/favourites",
    ]
    for path in lists:
        r = await client.get(path, params={"limit": "0"}, headers=bob.headers)
        assert r.status_code == 200 and r.json() == [], (path, r.text)
        assert "Link" not in r.headers, path
        r = await client.get(path, params={"limit": "-2"}, headers=bob.headers)
        assert r.status_code == 200 and len(r.json()) == (1 if path.endswith("followers") else 2), path
    r = await client.get("/api/v1/notifications", params={"limit": "0"}, headers=alice.headers)
    assert r.json() == []


async def test_a_schedule_less_than_five_minutes_ahead_posts_at_once(
    client: httpx.AsyncClient, alice: ApiUser
) -> None:
    # PostStatusService: "If determined to be scheduled in the past, the status will be created
    # immediately" (the past being anything up to MIN_SCHEDULE_OFFSET, five minutes, ahead).
    for minutes in (4, -60):
        when = (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()
        r = await client.post(
            "/api/v1/statuses", json={"status": f"in {minutes}", "scheduled_at": when}, headers=alice.headers
        )
        assert r.status_code == 200, r.text
        assert r.json()["content"] == f"<p>in {minutes}</p>" and "scheduled_at" not in r.json()
    assert (await client.get("/api/v1/scheduled_statuses", headers=alice.headers)).json() == []
    later = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
    r = await client.post(
        "/api/v1/statuses", json={"status": "later", "scheduled_at": later}, headers=alice.headers
    )
    assert "scheduled_at" in r.json()
    # Moving a scheduled note too close is still refused (ScheduledStatus#validate_future_date).
    soon = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    moved = await client.put(
        f"/api/v1/scheduled_statuses/{r.json()['id']}", json={"scheduled_at": soon}, headers=alice.headers
    )
    assert moved.status_code == 422


async def test_follow_languages_apply_to_authors_merged_at_read_time(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, post: Any
) -> None:
    r = await client.post(
        f"/api/v1/accounts/{alice.id}/follow", json={"languages": ["fr"]}, headers=bob.headers
    )
    assert r.json()["languages"] == ["fr"]
    await post(alice, "Bonjour", language="fr")
    await post(alice, "Hello", language="en")
    await post(alice, "Sans langue")
    boost = await post(alice, "Boosted", language="en", visibility="public")
    await client.post(f"/api/v1/statuses/{boost['id']}/reblog", headers=alice.headers)
    # The hot path, and the general one (a min_id page): the same rule as fan-out applies.
    for params in ({}, {"min_id": "0"}):
        r = await client.get("/api/v1/timelines/home", params=params, headers=bob.headers)
        home = [s["content"] or s["reblog"]["content"] for s in r.json()]
        assert "<p>Hello</p>" not in home, params
        assert "<p>Bonjour</p>" in home and "<p>Sans langue</p>" in home, params


async def test_relationship_domain_blocking_follows_the_domain_blocks(
    client: httpx.AsyncClient, db: Database, alice: ApiUser
) -> None:
    # No federation yet: the remote account stands for one a fetch would have made.
    async with db.write() as tx:
        remote = Account(username="ghost", username_key="ghost", domain="spam.example")
        tx.session.add(remote)
        await tx.session.flush()
        remote_id = str(remote.id)

    async def domain_blocking() -> bool:
        r = await client.get(
            "/api/v1/accounts/relationships", params={"id[]": remote_id}, headers=alice.headers
        )
        return bool(r.json()[0]["domain_blocking"])

    assert not await domain_blocking()
    await client.post("/api/v1/domain_blocks", data={"domain": "spam.example"}, headers=alice.headers)
    assert await domain_blocking()
    await client.request(
        "DELETE", "/api/v1/domain_blocks", params={"domain": "spam.example"}, headers=alice.headers
    )
    assert not await domain_blocking()
