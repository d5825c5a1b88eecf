"""Media attachments and polls in the shapes of the Mastodon OpenAPI description (see
``test_conformance``): uploads, statuses carrying them, polls, votes, the instance limits."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from cordee.config import Settings
from cordee.db.engine import Database
from cordee.jobs.runner import run_due
from tests.api.test_conformance import SPEC, Post, check
from tests.api.test_media import image_bytes
from tests.api.test_polls import end_poll
from tests.conftest import ApiUser

pytestmark = pytest.mark.skipif(not SPEC.exists(), reason=f"no OpenAPI reference at {SPEC}")


async def test_media_and_polls_match_the_mastodon_description(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser, db: Database, settings: Settings
) -> None:
    a, b = alice.headers, bob.headers
    files = {"file": ("p.jpg", image_bytes("JPEG", (900, 700)), "image/jpeg")}
    fields = {"description": "Alt", "focus": "0.2,0.3"}
    uploaded = await client.post("/api/v2/media", files=files, data=fields, headers=a)
    check(uploaded)
    media: dict[str, Any] = uploaded.json()
    png = {"file": ("q.png", image_bytes(), "image/png")}
    check(await client.post("/api/v1/media", files=png, headers=a))
    check(await client.get(f"/api/v1/media/{media['id']}", headers=a))
    check(await client.put(f"/api/v1/media/{media['id']}", data={"description": "Alt text"}, headers=a))

    pictured = {"status": "Pictured", "media_ids": [media["id"]]}
    check(await client.post("/api/v1/statuses", json=pictured, headers=a))
    poll = {"options": ["A", "B"], "expires_in": 600, "hide_totals": True}
    poll_note = await post(alice, "Poll", poll=poll)
    poll_id = poll_note["poll"]["id"]
    check(await client.post(f"/api/v1/polls/{poll_id}/votes", json={"choices": [1]}, headers=b))
    check(await client.get(f"/api/v1/polls/{poll_id}", headers=b))
    check(await client.get(f"/api/v1/polls/{poll_id}"))
    check(await client.get(f"/api/v1/statuses/{poll_note['id']}", headers=a))
    check(await client.get(f"/api/v1/accounts/{alice.id}/statuses"))
    check(await client.get(f"/api/v1/accounts/{alice.id}/statuses", headers=b))

    await end_poll(db, poll_id)
    await run_due(db, settings)
    check(await client.get(f"/api/v1/polls/{poll_id}"))
    check(await client.get("/api/v1/notifications", headers=b))
    check(await client.get("/api/v1/notifications", headers=a))
    check(await client.get("/api/v2/instance"))
    check(await client.get("/api/v1/instance"))
