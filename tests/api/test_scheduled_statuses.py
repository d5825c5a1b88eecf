"""Scheduled notes: ``POST /api/v1/statuses`` with ``scheduled_at``, ``/api/v1/scheduled_statuses``,
and their publication by the periodic runner (exactly once, even after a restart)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, update

from cordee.actions.accounts import set_user_flags
from cordee.actions.scheduled_statuses import publish_due
from cordee.config import Settings
from cordee.db.engine import Database
from cordee.db.tables import Status
from cordee.db.tables_media import MediaAttachment
from cordee.db.tables_personal import ScheduledStatus
from cordee.db.types import utcnow
from cordee.jobs.runner import run_due
from tests.api.test_media import uploaded
from tests.conftest import ApiUser

Post = Callable[..., Awaitable[dict[str, Any]]]


def _in(minutes: float) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


async def _schedule(client: httpx.AsyncClient, user: ApiUser, **fields: Any) -> httpx.Response:
    body = {"status": "Later", "scheduled_at": _in(10), **fields}
    return await client.post("/api/v1/statuses", json=body, headers=user.headers)


async def _make_due(db: Database) -> None:
    """As if the server had been off when the notes were due."""
    async with db.write() as tx:
        await tx.session.execute(
            update(ScheduledStatus).values(scheduled_at=datetime.now(UTC) - timedelta(hours=2))
        )


async def _notes(client: httpx.AsyncClient, user: ApiUser) -> list[dict[str, Any]]:
    r = await client.get(f"/api/v1/accounts/{user.id}/statuses", headers=user.headers)
    return r.json()  # type: ignore[no-any-return]


async def test_schedule_list_change_and_cancel(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser
) -> None:
    when = _in(60)
    r = await _schedule(
        client,
        alice,
        status="See you @bob",
        scheduled_at=when,
        visibility="unlisted",
        spoiler_text="soon",
        language="fr",
    )
    assert r.status_code == 200, r.text
    scheduled = r.json()
    assert set(scheduled) == {"id", "scheduled_at", "params", "media_attachments"}
    assert scheduled["scheduled_at"].startswith(when[:16]) and scheduled["scheduled_at"].endswith("Z")
    params = scheduled["params"]
    assert params["text"] == "See you @bob" and params["visibility"] == "unlisted"
    assert params["spoiler_text"] == "soon" and params["language"] == "fr"
    assert params["scheduled_at"] is None and params["poll"] is None and params["media_ids"] is None
    assert await _notes(client, alice) == []  # not posted yet
    assert (await client.get("/api/v1/notifications", headers=bob.headers)).json() == []

    listed = (await client.get("/api/v1/scheduled_statuses", headers=alice.headers)).json()
    assert [s["id"] for s in listed] == [scheduled["id"]]
    assert (await client.get("/api/v1/scheduled_statuses", headers=bob.headers)).json() == []
    path = f"/api/v1/scheduled_statuses/{scheduled['id']}"
    assert (await client.get(path, headers=alice.headers)).json() == scheduled

    later = _in(24 * 60)
    moved = await client.put(path, json={"scheduled_at": later}, headers=alice.headers)
    assert moved.status_code == 200 and moved.json()["scheduled_at"].startswith(later[:16])

    # Someone else's scheduled note is not found, whatever they try.
    for method in ("GET", "PUT", "DELETE"):
        other = await client.request(method, path, json={"scheduled_at": _in(30)}, headers=bob.headers)
        assert other.status_code == 404, method
    assert (await client.put(path, json={"scheduled_at": _in(1)}, headers=alice.headers)).status_code == 422
    assert (await client.put(path, json={}, headers=alice.headers)).status_code == 422
    assert (await client.get(path, headers=alice.headers)).json()["scheduled_at"] == moved.json()[
        "scheduled_at"
    ]

    deleted = await client.delete(path, headers=alice.headers)
    assert deleted.status_code == 200 and deleted.json() == {}
    assert (await client.get(path, headers=alice.headers)).status_code == 404
    assert (await client.delete(path, headers=alice.headers)).status_code == 404


async def test_invalid_schedules_change_nothing(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser
) -> None:
    assert (await _schedule(client, alice, scheduled_at="next tuesday")).status_code == 422
    assert (await _schedule(client, alice, status="x" * 141)).status_code == 422
    assert (await _schedule(client, alice, status=" ")).status_code == 422
    assert (await _schedule(client, alice, visibility="everyone")).status_code == 422
    hidden = await post(bob, "Followers only", visibility="private")
    assert (await _schedule(client, alice, in_reply_to_id=hidden["id"])).status_code == 404
    assert (await client.get("/api/v1/scheduled_statuses", headers=alice.headers)).json() == []

    # Without an offset, the time is UTC; an Idempotency-Key retry gives back the same one.
    naive = (datetime.now(UTC) + timedelta(hours=1)).replace(tzinfo=None).isoformat()
    headers = {**alice.headers, "Idempotency-Key": "sched-1"}
    body = {"status": "Once", "scheduled_at": naive}
    first = await client.post("/api/v1/statuses", json=body, headers=headers)
    second = await client.post("/api/v1/statuses", json=body, headers=headers)
    assert first.status_code == 200 and first.json()["id"] == second.json()["id"]
    assert first.json()["scheduled_at"].startswith(naive[:16])
    assert len((await client.get("/api/v1/scheduled_statuses", headers=alice.headers)).json()) == 1


async def test_published_once_even_after_a_restart(
    client: httpx.AsyncClient, db: Database, settings: Settings, alice: ApiUser, bob: ApiUser
) -> None:
    r = await _schedule(
        client, alice, status="Good morning @bob #dawn", visibility="unlisted", spoiler_text="hi"
    )
    scheduled = r.json()
    assert (await run_due(db, settings))["scheduled_statuses"] == 0  # not due yet
    assert await _notes(client, alice) == []

    await _make_due(db)
    restarted = Database(db.url)  # a fresh process on the same database
    try:
        assert (await run_due(restarted, settings))["scheduled_statuses"] == 1
        assert (await run_due(restarted, settings))["scheduled_statuses"] == 0
    finally:
        await restarted.dispose()
    assert (await run_due(db, settings))["scheduled_statuses"] == 0

    notes = await _notes(client, alice)
    assert len(notes) == 1
    note = notes[0]
    assert note["visibility"] == "unlisted" and note["spoiler_text"] == "hi" and note["sensitive"] is True
    assert "Good morning" in note["content"] and [t["name"] for t in note["tags"]] == ["dawn"]
    assert note["application"]["name"] == "tests"
    mentions = (await client.get("/api/v1/notifications", headers=bob.headers)).json()
    assert [(n["type"], n["status"]["id"]) for n in mentions] == [("mention", note["id"])]
    assert (await client.get("/api/v1/scheduled_statuses", headers=alice.headers)).json() == []
    gone = await client.get(f"/api/v1/scheduled_statuses/{scheduled['id']}", headers=alice.headers)
    assert gone.status_code == 404


async def test_two_runners_publish_once(
    client: httpx.AsyncClient, db: Database, settings: Settings, alice: ApiUser
) -> None:
    for i in range(3):
        assert (await _schedule(client, alice, status=f"Scheduled {i}")).status_code == 200
    await _make_due(db)
    other = Database(db.url)  # another server process
    try:
        done = await asyncio.gather(publish_due(db, settings), publish_due(other, settings))
    finally:
        await other.dispose()
    assert sum(done) == 3
    texts = sorted(n["content"] for n in await _notes(client, alice))
    assert texts == [f"<p>Scheduled {i}</p>" for i in range(3)]
    assert (await client.get(f"/api/v1/accounts/{alice.id}")).json()["statuses_count"] == 3


async def test_a_reply_whose_parent_is_gone_is_dropped(
    client: httpx.AsyncClient, db: Database, settings: Settings, post: Post, alice: ApiUser, bob: ApiUser
) -> None:
    parent = await post(bob, "Ask me later")
    reply = await _schedule(client, alice, status="@bob here is my answer", in_reply_to_id=parent["id"])
    assert reply.json()["params"]["in_reply_to_id"] == int(parent["id"])
    kept = await _schedule(client, alice, status="Still here")
    await client.delete(f"/api/v1/statuses/{parent['id']}", headers=bob.headers)
    await _make_due(db)
    assert await publish_due(db, settings) == 1
    assert [n["content"] for n in await _notes(client, alice)] == ["<p>Still here</p>"]
    assert (await client.get("/api/v1/scheduled_statuses", headers=alice.headers)).json() == []
    assert kept.status_code == 200


async def test_scheduled_poll(
    client: httpx.AsyncClient, db: Database, settings: Settings, alice: ApiUser
) -> None:
    poll = {"options": ["Tea", "Coffee"], "expires_in": 3600, "multiple": True}
    r = await _schedule(client, alice, status="Which one?", poll=poll)
    assert r.status_code == 200, r.text
    assert r.json()["params"]["poll"] == {**poll, "hide_totals": False}
    bad = await _schedule(client, alice, status="Which one?", poll={"options": ["Only"], "expires_in": 3600})
    assert bad.status_code == 422
    await _make_due(db)
    assert await publish_due(db, settings) == 1
    [note] = await _notes(client, alice)
    assert [o["title"] for o in note["poll"]["options"]] == ["Tea", "Coffee"] and note["poll"]["multiple"]


async def test_pagination(client: httpx.AsyncClient, alice: ApiUser) -> None:
    ids = [(await _schedule(client, alice, status=f"n{i}")).json()["id"] for i in range(3)]
    r = await client.get("/api/v1/scheduled_statuses?limit=2", headers=alice.headers)
    assert [s["id"] for s in r.json()] == ids[::-1][:2]
    assert 'rel="next"' in r.headers["link"]
    rest = await client.get(f"/api/v1/scheduled_statuses?max_id={ids[1]}", headers=alice.headers)
    assert [s["id"] for s in rest.json()] == [ids[0]]


async def test_scheduled_media_are_kept_for_the_note(
    client: httpx.AsyncClient, db: Database, settings: Settings, post: Post, alice: ApiUser
) -> None:
    picture, spare = await uploaded(client, alice, description="A cat"), await uploaded(client, alice)
    r = await _schedule(client, alice, status="", media_ids=[picture["id"]])
    assert r.status_code == 200, r.text
    scheduled = r.json()
    assert scheduled["params"]["media_ids"] == [picture["id"]]
    assert [(m["id"], m["description"]) for m in scheduled["media_attachments"]] == [(picture["id"], "A cat")]

    # Nobody else may take it meanwhile, not even another scheduled note; the clean-up of old
    # unattached media leaves it alone.
    taken = await client.post(
        "/api/v1/statuses", json={"status": "Mine?", "media_ids": [picture["id"]]}, headers=alice.headers
    )
    assert taken.status_code == 422
    assert (await _schedule(client, alice, media_ids=[picture["id"]])).status_code == 422
    async with db.write() as tx:
        await tx.session.execute(update(MediaAttachment).values(created_at=utcnow() - timedelta(days=3)))
    assert (await run_due(db, settings))["media.remove_unattached"] == 1  # the spare one only
    assert (await client.get(f"/api/v1/media/{spare['id']}", headers=alice.headers)).status_code == 404

    await _make_due(db)
    assert (await run_due(db, settings))["scheduled_statuses"] == 1
    [note] = await _notes(client, alice)
    assert [m["id"] for m in note["media_attachments"]] == [picture["id"]]


async def test_cancelling_frees_the_media(client: httpx.AsyncClient, post: Post, alice: ApiUser) -> None:
    picture = await uploaded(client, alice)
    scheduled = (await _schedule(client, alice, media_ids=[picture["id"]])).json()
    await client.delete(f"/api/v1/scheduled_statuses/{scheduled['id']}", headers=alice.headers)
    note = await post(alice, "Now then", media_ids=[picture["id"]])
    assert [m["id"] for m in note["media_attachments"]] == [picture["id"]]


async def test_a_disabled_author_s_notes_are_dropped(
    client: httpx.AsyncClient, db: Database, settings: Settings, alice: ApiUser
) -> None:
    assert (await _schedule(client, alice, status="Never seen")).status_code == 200
    await set_user_flags(db, "alice", disabled=True)
    await _make_due(db)
    assert await publish_due(db, settings) == 0
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(ScheduledStatus)) == 0
        assert await session.scalar(select(func.count()).select_from(Status)) == 0
