"""Durations as large as 64 bits allow (a poll's, a filter's, a mute's) are refused or capped
clearly — never a server error from a date past the year 9999."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import ApiUser

HUGE = str((1 << 63) - 1)


@pytest.mark.parametrize("seconds", [HUGE, "-" + HUGE])
async def test_huge_durations_are_no_server_error(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, seconds: str
) -> None:
    answers = [
        await client.post(
            "/api/v1/statuses",
            json={"status": "poll", "poll": {"options": ["a", "b"], "expires_in": seconds}},
            headers=alice.headers,
        ),
        await client.post(
            "/api/v2/filters",
            json={"title": "t", "context": ["home"], "expires_in": seconds},
            headers=alice.headers,
        ),
        await client.post(
            f"/api/v1/accounts/{bob.id}/mute", json={"duration": seconds}, headers=alice.headers
        ),
        await client.post(
            "/api/v1/statuses",
            json={"status": "later", "scheduled_at": "9999-12-31T23:59:59Z"},
            headers=alice.headers,
        ),
    ]
    for r in answers:
        assert r.status_code < 500, (r.request.url, r.text)
        if r.status_code >= 400:
            assert "error" in r.json()
