"""Finding 6 of the hardening issue: a boost must not carry a note across a block.

A (author) and B (reader) are in a block, one way or the other; C, who is in no block, boosts A's
public note. B must not get A's note through C's boost on any read path: the boost is judged by
the note it carries as well as by itself (``queries.visibility.visible_to``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from cordee.actions.polls import close_ended_polls
from cordee.db.engine import Database
from cordee.db.tables import Notification
from cordee.db.types import utcnow
from tests.conftest import ApiUser

Post = Callable[..., Awaitable[dict[str, Any]]]


@pytest.mark.parametrize("direction", ["author_blocks_reader", "reader_blocks_author"])
async def test_a_boost_does_not_carry_a_note_across_a_block(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser, carol: ApiUser, direction: str
) -> None:
    author, reader, booster = alice, bob, carol
    note = await post(author, "public words")
    r = await client.post(f"/api/v1/statuses/{note['id']}/reblog", headers=booster.headers)
    assert r.status_code == 200, r.text
    boost = r.json()
    blocker, blocked = (author, reader) if direction == "author_blocks_reader" else (reader, author)
    r = await client.post(f"/api/v1/accounts/{blocked.id}/block", headers=blocker.headers)
    assert r.status_code == 200, r.text

    missing = await client.get("/api/v1/statuses/1", headers=reader.headers)
    assert missing.status_code == 404
    one = await client.get(f"/api/v1/statuses/{boost['id']}", headers=reader.headers)
    assert (one.status_code, one.content) == (missing.status_code, missing.content)
    many = await client.get("/api/v1/statuses", params={"id[]": [boost["id"]]}, headers=reader.headers)
    assert many.status_code == 200 and many.json() == []
    profile = await client.get(f"/api/v1/accounts/{booster.id}/statuses", headers=reader.headers)
    assert profile.status_code == 200 and profile.json() == []
    # The booster's profile off the hot path too (a parameter takes the general path).
    profile = await client.get(
        f"/api/v1/accounts/{booster.id}/statuses", params={"exclude_replies": "true"}, headers=reader.headers
    )
    assert profile.status_code == 200 and profile.json() == []
    # The booster still sees both.
    r = await client.get(f"/api/v1/statuses/{boost['id']}", headers=booster.headers)
    assert r.status_code == 200 and r.json()["reblog"]["id"] == note["id"]


async def test_a_notification_does_not_carry_a_note_its_reader_may_no_longer_see(
    client: httpx.AsyncClient, db: Database, post: Post, alice: ApiUser, bob: ApiUser
) -> None:
    """The other half of finding 6: serializers loaded the notes they name by id, without the rule.
    Bob voted in a poll of Alice's followers-only note, then stopped following her; when the poll
    ends, its notification must not show him that note any more."""
    r = await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)
    assert r.status_code == 200, r.text
    note = await post(
        alice, "which one?", visibility="private", poll={"options": ["a", "b"], "expires_in": 300}
    )
    r = await client.post(
        f"/api/v1/polls/{note['poll']['id']}/votes", json={"choices": [0]}, headers=bob.headers
    )
    assert r.status_code == 200, r.text
    assert (
        await client.post(f"/api/v1/accounts/{alice.id}/unfollow", headers=bob.headers)
    ).status_code == 200
    assert await close_ended_polls(db, now=utcnow() + timedelta(hours=1)) == 1
    mine = (await client.get("/api/v1/notifications", headers=alice.headers)).json()
    assert [n["type"] for n in mine] == ["poll"]  # the author's own is there
    async with db.read() as session:  # bob's, which the API must not show
        notification_id = await session.scalar(
            select(Notification.id).where(
                Notification.account_id == bob.account_id, Notification.type == "poll"
            )
        )
    assert notification_id is not None

    listed = await client.get("/api/v1/notifications", headers=bob.headers)
    assert listed.status_code == 200 and listed.json() == []
    one = await client.get(f"/api/v1/notifications/{notification_id}", headers=bob.headers)
    missing = await client.get("/api/v1/notifications/1", headers=bob.headers)
    assert missing.status_code == 404
    assert (one.status_code, one.content) == (missing.status_code, missing.content)
