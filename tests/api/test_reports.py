"""Reports: filed against an account and some of its notes, validated, stored for moderation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from sqlalchemy import func, select

from cordee.db.engine import Database
from cordee.db.tables_curation import Report
from tests.conftest import ApiUser

Post = Callable[..., Awaitable[dict[str, Any]]]


async def _count(db: Database) -> int:
    async with db.read() as session:
        return await session.scalar(select(func.count(Report.id))) or 0


async def test_report_an_account_and_its_notes(
    client: httpx.AsyncClient, db: Database, post: Post, alice: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    spam = await post(bob, "buy now!!!")
    carols = await post(carol, "innocent")
    hidden = await post(bob, "followers only", visibility="private")

    r = await client.post(
        "/api/v1/reports",
        json={"account_id": bob.id, "status_ids": [spam["id"]], "comment": "Spam", "category": "spam"},
        headers=alice.headers,
    )
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["category"] == "spam" and report["comment"] == "Spam"
    assert report["status_ids"] == [spam["id"]] and report["rule_ids"] is None
    assert report["target_account"]["id"] == bob.id
    assert report["action_taken"] is False and report["forwarded"] is False
    plain = await client.post("/api/v1/reports", data={"account_id": bob.id}, headers=alice.headers)
    assert plain.json()["category"] == "other" and plain.json()["status_ids"] is None
    assert await _count(db) == 2

    for bad, status in (
        ({"account_id": bob.id, "status_ids": [carols["id"]]}, 404),  # not Bob's note
        ({"account_id": bob.id, "status_ids": [hidden["id"]]}, 404),  # not one Alice can see
        ({"account_id": bob.id, "comment": "x" * 1001}, 422),
        ({"account_id": bob.id, "category": "boring"}, 422),
        ({"account_id": bob.id, "category": "violation", "rule_ids": ["1"]}, 422),  # no such rule
        ({"account_id": "999999"}, 404),
        ({"account_id": alice.id}, 422),
        ({}, 422),
    ):
        r = await client.post("/api/v1/reports", json=bad, headers=alice.headers)
        assert r.status_code == status, (bad, r.text)
        assert "error" in r.json()
    assert await _count(db) == 2
