"""Polls: created with a note, voted on, hidden totals, who may see and vote, and their end."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, update

from cordee.app import build_app
from cordee.config import Settings
from cordee.db.engine import Database
from cordee.db.tables import Notification
from cordee.db.tables_polls import Poll
from cordee.db.types import utcnow
from cordee.jobs.runner import run_due
from tests.api.test_media import uploaded
from tests.conftest import BASE_URL, ApiUser

DAY = 86_400


async def poll_note(post: Any, user: ApiUser, *options: str, **poll: Any) -> dict[str, Any]:
    note = await post(user, "Which one?", poll={"options": list(options), "expires_in": DAY, **poll})
    assert note["poll"] is not None
    return note  # type: ignore[no-any-return]


async def end_poll(db: Database, poll_id: str, ago: timedelta = timedelta(hours=1)) -> None:
    """As if the poll's time had run out (the server may have been off meanwhile)."""
    async with db.write() as tx:
        moved = update(Poll).where(Poll.id == int(poll_id)).values(expires_at=utcnow() - ago)
        await tx.session.execute(moved)


async def vote(client: httpx.AsyncClient, user: ApiUser, poll_id: str, choices: Any) -> httpx.Response:
    path = f"/api/v1/polls/{poll_id}/votes"
    return await client.post(path, json={"choices": choices}, headers=user.headers)


async def test_create_a_poll_with_json_and_read_it(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, post: Any
) -> None:
    note = await poll_note(post, alice, "Tea", "Coffee", multiple=True)
    poll = note["poll"]
    assert set(poll) == {
        "id",
        "expires_at",
        "expired",
        "multiple",
        "votes_count",
        "voters_count",
        "options",
        "emojis",
        "voted",
        "own_votes",
    }
    assert poll["options"] == [{"title": "Tea", "votes_count": 0}, {"title": "Coffee", "votes_count": 0}]
    assert poll["multiple"] is True and poll["expired"] is False
    assert poll["votes_count"] == 0 and poll["voters_count"] == 0
    assert poll["voted"] is True and poll["own_votes"] == []  # the author counts as having voted
    assert poll["expires_at"].endswith("Z")

    anonymous = (await client.get(f"/api/v1/polls/{poll['id']}")).json()
    assert "voted" not in anonymous and "own_votes" not in anonymous
    as_bob = (await client.get(f"/api/v1/polls/{poll['id']}", headers=bob.headers)).json()
    assert as_bob["voted"] is False and as_bob["own_votes"] == []
    assert (await client.get(f"/api/v1/statuses/{note['id']}")).json()["poll"]["id"] == poll["id"]


async def test_create_a_poll_with_a_form(client: httpx.AsyncClient, alice: ApiUser) -> None:
    form = {
        "status": "Form poll",
        "poll[options][]": ["Yes", "No", "Maybe"],
        "poll[expires_in]": "600",
        "poll[hide_totals]": "true",
    }
    r = await client.post("/api/v1/statuses", data=form, headers=alice.headers)
    assert r.status_code == 200, r.text
    poll = r.json()["poll"]
    assert [o["title"] for o in poll["options"]] == ["Yes", "No", "Maybe"]
    assert all(o["votes_count"] is None for o in poll["options"])  # hidden until the end
    assert poll["multiple"] is False


async def test_invalid_polls_are_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, alice: ApiUser, db: Database
) -> None:
    media = await uploaded(client, alice)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"options": ["Only one"], "expires_in": DAY}, "more than one"),
        ({"options": ["A", "  "], "expires_in": DAY}, "more than one"),
        ({"options": ["A", "B", "C", "D", "E"], "expires_in": DAY}, "more than 4"),
        ({"options": ["Same", "Same"], "expires_in": DAY}, "duplicate"),
        ({"options": ["x" * 51, "B"], "expires_in": DAY}, "50 characters"),
        ({"options": ["A", "B"], "expires_in": 299}, "too short"),
        ({"options": ["A", "B"], "expires_in": 2_629_747}, "too long"),
        ({"options": ["A", "B"]}, "expires_in"),
        ({"options": ["A", "B"], "expires_in": "soon"}, "too short"),  # "soon".to_i is 0, as in Rails
    ]
    for poll, reason in cases:
        body = {"status": "Poll?", "poll": poll}
        r = await client.post("/api/v1/statuses", json=body, headers=alice.headers)
        assert r.status_code == 422, (poll, r.text)
        assert reason in r.json()["error"], (poll, r.json())
    both = await client.post(
        "/api/v1/statuses",
        json={"status": "2", "media_ids": [media["id"]], "poll": {"options": ["A", "B"], "expires_in": 900}},
        headers=alice.headers,
    )
    assert both.status_code == 422 and "poll" in both.json()["error"]
    no_text = await client.post(
        "/api/v1/statuses",
        json={"status": "", "poll": {"options": ["A", "B"], "expires_in": DAY}},
        headers=alice.headers,
    )
    assert no_text.status_code == 422
    # Emoji made of several code points count as one character each (Mastodon counts graphemes).
    family = "👨‍👩‍👧‍👦"
    ok = await client.post(
        "/api/v1/statuses",
        json={"status": "Fine", "poll": {"options": [family * 50, "B"], "expires_in": 300}},
        headers=alice.headers,
    )
    assert ok.status_code == 200, ok.text
    assert (await client.get(f"/api/v1/accounts/{alice.id}/statuses")).json()[0]["id"] == ok.json()["id"]
    async with db.read() as session:
        assert await session.scalar(select(func.count(Poll.id))) == 1
    assert (await client.get(f"/api/v1/media/{media['id']}", headers=alice.headers)).status_code == 200


async def test_voting(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, carol: ApiUser, post: Any
) -> None:
    single = (await poll_note(post, alice, "Red", "Green", "Blue"))["poll"]
    votes = f"/api/v1/polls/{single['id']}/votes"

    r = await client.post(votes, json={"choices": [2]}, headers=bob.headers)
    assert r.status_code == 200, r.text
    poll = r.json()
    assert poll["voted"] is True and poll["own_votes"] == [2]
    assert [o["votes_count"] for o in poll["options"]] == [0, 0, 1]
    assert poll["votes_count"] == 1 and poll["voters_count"] == 1

    again = await client.post(votes, json={"choices": [0]}, headers=bob.headers)
    assert again.status_code == 422 and "already voted" in again.json()["error"]
    own = await client.post(votes, json={"choices": [0]}, headers=alice.headers)
    assert own.status_code == 422 and "own" in own.json()["error"]
    for choices in ([0, 1], [3], [-1], [], ["first"]):
        r = await client.post(votes, json={"choices": choices}, headers=carol.headers)
        assert r.status_code == 422, (choices, r.text)
    r = await client.post(votes, data={"choices[]": ["0"]}, headers=carol.headers)  # a form works too
    assert r.status_code == 200, r.text
    assert [o["votes_count"] for o in r.json()["options"]] == [1, 0, 1]

    multiple = (await poll_note(post, alice, "A", "B", "C", multiple=True))["poll"]
    r = await vote(client, bob, multiple["id"], [0, 2, 2])
    assert r.status_code == 200, r.text
    assert r.json()["own_votes"] == [0, 2]
    assert r.json()["votes_count"] == 2 and r.json()["voters_count"] == 1
    timeline = (await client.get(f"/api/v1/accounts/{alice.id}/statuses", headers=bob.headers)).json()
    assert [n["poll"]["own_votes"] for n in timeline] == [[0, 2], [2]]


async def test_hidden_totals_show_once_the_poll_has_ended(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, post: Any, db: Database
) -> None:
    poll = (await poll_note(post, alice, "Up", "Down", hide_totals=True))["poll"]
    r = await client.post(f"/api/v1/polls/{poll['id']}/votes", json={"choices": [1]}, headers=bob.headers)
    assert [o["votes_count"] for o in r.json()["options"]] == [None, None]
    assert r.json()["votes_count"] == 1  # the total is not hidden, as in Mastodon
    await end_poll(db, poll["id"])
    ended = (await client.get(f"/api/v1/polls/{poll['id']}")).json()
    assert ended["expired"] is True
    assert [o["votes_count"] for o in ended["options"]] == [0, 1]
    late = await vote(client, alice, poll["id"], [0])
    assert late.status_code == 422
    bob_again = await vote(client, bob, poll["id"], [0])
    assert bob_again.status_code == 422 and "ended" in bob_again.json()["error"]


async def test_polls_one_cannot_see_are_not_found(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, carol: ApiUser, post: Any
) -> None:
    note = await post(
        alice, "Friends only", visibility="private", poll={"options": ["A", "B"], "expires_in": DAY}
    )
    poll_id = note["poll"]["id"]
    await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)
    assert (await client.get(f"/api/v1/polls/{poll_id}", headers=bob.headers)).status_code == 200
    for headers in (carol.headers, {}):
        assert (await client.get(f"/api/v1/polls/{poll_id}", headers=headers)).status_code == 404
    hidden = await client.post(f"/api/v1/polls/{poll_id}/votes", json={"choices": [0]}, headers=carol.headers)
    assert hidden.status_code == 404
    for missing in ("123456789", "nope"):
        assert (await client.get(f"/api/v1/polls/{missing}")).status_code == 404
        r = await client.post(f"/api/v1/polls/{missing}/votes", json={"choices": [0]}, headers=bob.headers)
        assert r.status_code == 404
    assert (await client.post(f"/api/v1/polls/{poll_id}/votes", json={"choices": [0]})).status_code == 401
    # Blocked by the author: no longer visible, so no vote either.
    await client.post(f"/api/v1/accounts/{bob.id}/block", headers=alice.headers)
    r = await client.post(f"/api/v1/polls/{poll_id}/votes", json={"choices": [0]}, headers=bob.headers)
    assert r.status_code == 404
    assert (await client.get(f"/api/v1/polls/{poll_id}", headers=carol.headers)).status_code == 404


async def test_instance_advertises_poll_limits(client: httpx.AsyncClient) -> None:
    for path in ("/api/v2/instance", "/api/v1/instance"):
        polls = (await client.get(path)).json()["configuration"]["polls"]
        assert polls == {
            "max_options": 4,
            "max_characters_per_option": 50,
            "min_expiration": 300,
            "max_expiration": 2_629_746,
        }


async def _poll_notifications(db: Database) -> list[tuple[int, int, str, int | None]]:
    async with db.read() as session:
        rows = await session.execute(
            select(Notification.account_id, Notification.from_account_id, Notification.type)
            .add_columns(Notification.status_id)
            .where(Notification.type == "poll")
            .order_by(Notification.account_id)
        )
        return [(a, f, t, s) for a, f, t, s in rows]


async def test_ended_polls_are_announced_once_even_after_downtime(
    client: httpx.AsyncClient,
    alice: ApiUser,
    bob: ApiUser,
    carol: ApiUser,
    post: Any,
    db: Database,
    settings: Settings,
) -> None:
    note = await poll_note(post, alice, "Now", "Later")
    poll_id = note["poll"]["id"]
    running = await poll_note(post, alice, "Still", "Open")
    for user, choice in ((bob, 0), (carol, 1)):
        assert (await vote(client, user, poll_id, [choice])).status_code == 200
    assert (await run_due(db, settings))["polls.close_ended"] == 0  # nothing has ended yet

    # The server is "off": the poll's time runs out meanwhile. Then a fresh process starts on the
    # same database and its periodic runner steps.
    await end_poll(db, poll_id, ago=timedelta(days=3))
    await db.dispose()
    restarted = Database(db.url)
    try:
        fresh_app = build_app(settings, database=restarted)
        assert (await run_due(restarted, settings))["polls.close_ended"] == 1
        expected = sorted(
            (int(user.id), int(alice.id), "poll", int(note["id"])) for user in (alice, bob, carol)
        )
        assert await _poll_notifications(restarted) == expected
        assert (await run_due(restarted, settings))["polls.close_ended"] == 0
        assert await _poll_notifications(restarted) == expected  # no duplicates

        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fresh_app), base_url=BASE_URL) as c:
            listed = (await c.get("/api/v1/notifications", headers=bob.headers)).json()
            ended = [n for n in listed if n["type"] == "poll"]
            assert len(ended) == 1
            assert ended[0]["account"]["id"] == alice.id
            assert ended[0]["status"]["poll"]["expired"] is True
            assert ended[0]["status"]["poll"]["own_votes"] == [0]
            mine = (await c.get("/api/v1/notifications", headers=alice.headers)).json()
            assert [n["status"]["id"] for n in mine if n["type"] == "poll"] == [note["id"]]
            still = (await c.get(f"/api/v1/polls/{running['poll']['id']}")).json()
            assert still["expired"] is False
    finally:
        await restarted.dispose()
