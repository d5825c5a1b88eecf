"""Who is notified of an author's notes is kept between posts (``db/subscribers.py``) and still
exact: every change of a follow — subscribing, unsubscribing, unfollowing, a block, an accepted
request — shows on the very next post, the cache warm; with several processes through the
change log (``tests/api/test_caches_across_processes.py``)."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from cordee.db.engine import Database
from cordee.db.tables import Notification
from tests.api.test_query_counts import counting
from tests.conftest import ApiUser, MakeUser


async def _notified(client: httpx.AsyncClient, user: ApiUser) -> list[str]:
    r = await client.get("/api/v1/notifications", params={"types[]": "status"}, headers=user.headers)
    assert r.status_code == 200, r.text
    return [n["status"]["content"] for n in reversed(r.json())]


async def _follow(client: httpx.AsyncClient, who: ApiUser, whom: ApiUser, **options: Any) -> None:
    r = await client.post(f"/api/v1/accounts/{whom.id}/follow", json=options, headers=who.headers)
    assert r.status_code == 200, r.text


async def test_every_change_of_a_follow_shows_on_the_next_post(
    db: Database, client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, post: Any
) -> None:
    await post(alice, "before anyone")  # kept: nobody subscribed
    await _follow(client, bob, alice, notify=True)
    await post(alice, "subscribed")
    await _follow(client, bob, alice, notify=False)  # the same follow, its option changed
    await post(alice, "unsubscribed")
    await _follow(client, bob, alice, notify=True)
    await post(alice, "again")
    r = await client.post(f"/api/v1/accounts/{alice.id}/unfollow", headers=bob.headers)
    assert r.status_code == 200
    await post(alice, "unfollowed")
    await _follow(client, bob, alice, notify=True)
    await post(alice, "followed again")
    expected = ["<p>subscribed</p>", "<p>again</p>", "<p>followed again</p>"]
    assert await _notified(client, bob) == expected
    r = await client.post(f"/api/v1/accounts/{bob.id}/block", headers=alice.headers)
    assert r.status_code == 200  # a block ends the follow (and hides alice's notifications from bob)
    await post(alice, "blocked")
    async with db.read() as session:  # so counted in the database
        count = await session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.account_id == bob.account_id, Notification.type == "status")
        )
    assert count == len(expected)


async def test_an_accepted_request_subscribes_at_once(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, post: Any
) -> None:
    r = await client.patch(
        "/api/v1/accounts/update_credentials", json={"locked": True}, headers=alice.headers
    )
    assert r.status_code == 200, r.text
    await _follow(client, bob, alice, notify=True)  # a request
    await post(alice, "while asked")
    r = await client.post(f"/api/v1/follow_requests/{bob.id}/authorize", headers=alice.headers)
    assert r.status_code == 200, r.text
    await post(alice, "once accepted")
    assert await _notified(client, bob) == ["<p>once accepted</p>"]


async def test_a_post_asks_who_subscribed_once_until_a_follow_changes(
    db: Database, client: httpx.AsyncClient, make_user: MakeUser, post: Any
) -> None:
    author, reader = await make_user("author"), await make_user("reader")
    await post(author, "warm")

    async def statements() -> int:
        with counting(db) as counter:
            await post(author, "counted")
        return len(counter.statements)

    kept = await statements()
    await _follow(client, reader, author)
    assert await statements() == kept + 1  # asked again after the follow, then kept
    assert await statements() == kept
