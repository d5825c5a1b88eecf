"""Editing the media and the poll of a note (``PUT /api/v1/statuses/:id`` replaces both)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.api.test_media import uploaded
from tests.conftest import ApiUser

Post = Callable[..., Awaitable[dict[str, Any]]]
DAY = 86_400


async def _edit(client: httpx.AsyncClient, user: ApiUser, status_id: str, **fields: Any) -> httpx.Response:
    return await client.put(f"/api/v1/statuses/{status_id}", json=fields, headers=user.headers)


async def _history(client: httpx.AsyncClient, status_id: str) -> list[dict[str, Any]]:
    return (await client.get(f"/api/v1/statuses/{status_id}/history")).json()  # type: ignore[no-any-return]


async def test_edit_media(client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser) -> None:
    first, second = await uploaded(client, alice), await uploaded(client, alice)
    note = await post(alice, "Two pictures", media_ids=[first["id"]])
    assert len(await _history(client, note["id"])) == 1
    assert [m["id"] for m in (await _history(client, note["id"]))[0]["media_attachments"]] == [first["id"]]

    r = await _edit(client, alice, note["id"], status="Two pictures", media_ids=[second["id"], first["id"]])
    assert r.status_code == 200, r.text
    assert [m["id"] for m in r.json()["media_attachments"]] == [second["id"], first["id"]]
    assert r.json()["edited_at"] is not None
    history = await _history(client, note["id"])
    assert [[m["id"] for m in h["media_attachments"]] for h in history] == [
        [first["id"]],
        [second["id"], first["id"]],
    ]

    # Refused: someone else's media, media of another note, too many, media with a poll, no text
    # and no media. Nothing changes.
    bobs = await uploaded(client, bob)
    other = await uploaded(client, alice)
    await post(alice, "Another", media_ids=[other["id"]])
    five = [(await uploaded(client, alice))["id"] for _ in range(5)]
    for fields in (
        {"status": "x", "media_ids": [bobs["id"]]},
        {"status": "x", "media_ids": [other["id"]]},
        {"status": "x", "media_ids": five},
        {"status": "x", "media_ids": [first["id"]], "poll": {"options": ["a", "b"], "expires_in": DAY}},
        {"status": ""},
    ):
        bad = await _edit(client, alice, note["id"], **fields)
        assert bad.status_code == 422, fields
    shown = (await client.get(f"/api/v1/statuses/{note['id']}")).json()
    assert [m["id"] for m in shown["media_attachments"]] == [second["id"], first["id"]]
    assert len(await _history(client, note["id"])) == 2

    # Media only, no words: allowed. Then without media_ids, the note loses them, and they are free
    # to be used again.
    assert (await _edit(client, alice, note["id"], status="", media_ids=[first["id"]])).status_code == 200
    r = await _edit(client, alice, note["id"], status="No pictures after all")
    assert r.json()["media_attachments"] == []
    again = await post(alice, "Reusing it", media_ids=[first["id"], second["id"]])
    assert len(again["media_attachments"]) == 2


async def test_edit_poll(client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser) -> None:
    note = await post(alice, "Lunch?", poll={"options": ["Soup", "Salad"], "expires_in": DAY})
    poll_id = note["poll"]["id"]
    assert (
        await client.post(f"/api/v1/polls/{poll_id}/votes", json={"choices": [0]}, headers=bob.headers)
    ).status_code == 200

    # The same poll with new words: the votes stay.
    same = {"options": ["Soup", "Salad"], "expires_in": DAY}
    r = await _edit(client, alice, note["id"], status="Lunch today?", poll=same)
    assert r.status_code == 200, r.text
    assert r.json()["poll"]["id"] == poll_id and r.json()["poll"]["votes_count"] == 1

    # Other options: a new poll, votes gone.
    r = await _edit(
        client, alice, note["id"], status="Lunch today?", poll={"options": ["Soup", "Pie"], "expires_in": DAY}
    )
    assert [o["title"] for o in r.json()["poll"]["options"]] == ["Soup", "Pie"]
    assert r.json()["poll"]["votes_count"] == 0
    assert (await client.get(f"/api/v1/polls/{poll_id}", headers=bob.headers)).status_code == 404
    new_poll = r.json()["poll"]["id"]
    assert (await client.get(f"/api/v1/polls/{new_poll}", headers=bob.headers)).json()["voted"] is False

    bad = await _edit(
        client, alice, note["id"], status="Lunch?", poll={"options": ["Only one"], "expires_in": DAY}
    )
    assert bad.status_code == 422

    r = await _edit(client, alice, note["id"], status="Never mind")
    assert r.json()["poll"] is None
    history = await _history(client, note["id"])
    assert [h["poll"] and [o["title"] for o in h["poll"]["options"]] for h in history] == [
        ["Soup", "Salad"],
        ["Soup", "Salad"],
        ["Soup", "Pie"],
        None,
    ]
