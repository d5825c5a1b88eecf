"""Ids that Python's ``str.isdigit`` takes for numbers but ``int`` refuses (superscripts, other
scripts' digits) are not ids: a clear 404 (or no bound) — never a server error. Found by a fuzzer
(the fidelity issue, item 1)."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import ApiUser

ODD = ["¹", "²³", "١٢٣", "𝟙"]  # superscripts, Arabic-Indic digits, mathematical digits


@pytest.mark.parametrize("odd", ODD)
async def test_odd_digits_in_paths_are_not_found(client: httpx.AsyncClient, alice: ApiUser, odd: str) -> None:
    for path in (
        f"/api/v1/statuses/{odd}",
        f"/api/v1/accounts/{odd}",
        f"/api/v1/accounts/{odd}/statuses",
        f"/api/v1/polls/{odd}",
    ):
        r = await client.get(path, headers=alice.headers)
        assert r.status_code == 404, (path, r.status_code, r.text)
        assert "error" in r.json()
    r = await client.post(f"/api/v1/accounts/{odd}/follow", headers=alice.headers)
    assert r.status_code == 404


@pytest.mark.parametrize("odd", ODD)
async def test_odd_digits_in_parameters_are_ignored(
    client: httpx.AsyncClient, alice: ApiUser, odd: str
) -> None:
    for path in ("/api/v1/timelines/home", "/api/v1/timelines/public", "/api/v1/notifications"):
        for bound in ("max_id", "since_id", "min_id"):
            r = await client.get(path, params={bound: odd}, headers=alice.headers)
            assert r.status_code == 200, (path, bound, r.text)
    r = await client.get("/api/v1/statuses", params={"id[]": odd}, headers=alice.headers)
    assert r.status_code == 200 and r.json() == []


@pytest.mark.parametrize("number", ["6545227786551822705664441545018834944", "-" + "9" * 25, str(1 << 63)])
async def test_whole_numbers_beyond_64_bits_are_refused_clearly(
    client: httpx.AsyncClient, alice: ApiUser, number: str
) -> None:
    # Found by the long fuzz run: an offset past 64 bits reached the database (500).
    for path in (
        "/api/v1/trends/statuses",
        "/api/v2/search",
        "/api/v1/accounts/search",
        "/api/v1/trends/tags",
    ):
        r = await client.get(
            path, params={"q": "a", "offset": number, "limit": number}, headers=alice.headers
        )
        assert r.status_code == 422, (path, r.status_code, r.text)
        assert "whole number" in r.json()["error"]
