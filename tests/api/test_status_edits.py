"""Editing notes: ``PUT /api/v1/statuses/:id``, its ``history`` and ``source``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx

from cordee.events.types import Event, StatusUpdated
from tests.conftest import ApiUser

Post = Callable[..., Awaitable[dict[str, Any]]]


async def _edit(client: httpx.AsyncClient, user: ApiUser, status_id: str, **fields: Any) -> httpx.Response:
    return await client.put(f"/api/v1/statuses/{status_id}", json=fields, headers=user.headers)


async def _types(client: httpx.AsyncClient, user: ApiUser) -> list[str]:
    return sorted(n["type"] for n in (await client.get("/api/v1/notifications", headers=user.headers)).json())


async def test_edit_keeps_the_history_and_the_source(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    original = await post(alice, "Hello @bob, this is #first", language="en")
    assert original["edited_at"] is None

    r = await _edit(client, alice, original["id"], status="Hello @carol, this is #second", spoiler_text="cw")
    assert r.status_code == 200, r.text
    edited = r.json()
    assert edited["id"] == original["id"] and edited["edited_at"] is not None
    assert "#second" not in edited["content"] and "second</span>" in edited["content"]
    assert edited["spoiler_text"] == "cw" and edited["sensitive"] is True  # a content warning implies it
    assert edited["language"] == "en"  # not given: kept
    assert [m["acct"] for m in edited["mentions"]] == ["carol"]
    assert [t["name"] for t in edited["tags"]] == ["second"]
    assert edited["created_at"] == original["created_at"]

    shown = (await client.get(f"/api/v1/statuses/{original['id']}")).json()
    assert shown["content"] == edited["content"] and shown["edited_at"] == edited["edited_at"]

    history = (await client.get(f"/api/v1/statuses/{original['id']}/history")).json()
    assert [h["content"] for h in history] == [original["content"], edited["content"]]
    assert history[0]["created_at"] == original["created_at"]
    assert history[1]["created_at"] == edited["edited_at"]
    assert [h["spoiler_text"] for h in history] == ["", "cw"]
    assert [h["sensitive"] for h in history] == [False, True]
    assert all(h["account"]["id"] == alice.id and h["media_attachments"] == [] for h in history)

    source = (await client.get(f"/api/v1/statuses/{original['id']}/source", headers=alice.headers)).json()
    assert source == {"id": original["id"], "text": "Hello @carol, this is #second", "spoiler_text": "cw"}

    # Carol, newly mentioned, is told; Bob, no longer mentioned, no longer has the mention.
    assert await _types(client, carol) == ["mention"]
    assert await _types(client, bob) == []
    tagged = (await client.get("/api/v1/timelines/tag/second")).json()
    assert [s["id"] for s in tagged] == [original["id"]]
    assert (await client.get("/api/v1/timelines/tag/first")).json() == []

    again = (await _edit(client, alice, original["id"], status="Third time")).json()
    assert again["spoiler_text"] == "" and again["sensitive"] is False  # PUT replaces, as in Mastodon
    history = (await client.get(f"/api/v1/statuses/{original['id']}/history")).json()
    assert len(history) == 3 and history[-1]["content"] == again["content"]


async def test_a_note_never_edited_has_itself_as_history(
    client: httpx.AsyncClient, post: Post, alice: ApiUser
) -> None:
    note = await post(alice, "As posted")
    history = (await client.get(f"/api/v1/statuses/{note['id']}/history")).json()
    assert len(history) == 1
    assert history[0]["content"] == note["content"] and history[0]["created_at"] == note["created_at"]

    # Submitting it unchanged is not an edit.
    same = await _edit(client, alice, note["id"], status="As posted")
    assert same.status_code == 200 and same.json()["edited_at"] is None
    assert len((await client.get(f"/api/v1/statuses/{note['id']}/history")).json()) == 1


async def test_only_the_author_edits(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser
) -> None:
    public = await post(alice, "Public words")
    private = await post(alice, "Followers only", visibility="private")

    r = await _edit(client, bob, public["id"], status="Hijacked")
    assert r.status_code == 403 and r.json() == {"error": "This action is not allowed"}
    assert (await _edit(client, bob, private["id"], status="Hijacked")).status_code == 404  # cannot see it
    assert (await _edit(client, bob, "123456", status="Nope")).status_code == 404
    assert (await _edit(client, alice, "not-an-id", status="Nope")).status_code == 404
    assert (await client.put(f"/api/v1/statuses/{public['id']}", json={"status": "anon"})).status_code == 401

    assert (
        await client.get(f"/api/v1/statuses/{public['id']}/source", headers=bob.headers)
    ).status_code == 403
    assert (
        await client.get(f"/api/v1/statuses/{private['id']}/source", headers=bob.headers)
    ).status_code == 404
    assert (
        await client.get(f"/api/v1/statuses/{private['id']}/history", headers=bob.headers)
    ).status_code == 404
    assert (await client.get(f"/api/v1/statuses/{private['id']}/history")).status_code == 404

    # A boost is not editable content, even by its booster.
    boost = (await client.post(f"/api/v1/statuses/{public['id']}/reblog", headers=bob.headers)).json()
    assert (await _edit(client, bob, boost["id"], status="Mine now")).status_code == 404

    shown = (await client.get(f"/api/v1/statuses/{public['id']}")).json()
    assert "Public words" in shown["content"] and shown["edited_at"] is None


async def test_edits_follow_the_posting_rules(client: httpx.AsyncClient, post: Post, alice: ApiUser) -> None:
    note = await post(alice, "Short and sweet")
    too_long = await _edit(client, alice, note["id"], status="x" * 141)
    assert too_long.status_code == 422 and "140" in too_long.json()["error"]
    cw_counts = await _edit(client, alice, note["id"], status="x" * 100, spoiler_text="y" * 41)
    assert cw_counts.status_code == 422
    assert (await _edit(client, alice, note["id"], status="   ")).status_code == 422
    assert (await _edit(client, alice, note["id"], status="ok", language="x")).status_code == 422

    shown = (await client.get(f"/api/v1/statuses/{note['id']}")).json()
    assert "Short and sweet" in shown["content"] and shown["edited_at"] is None
    assert len((await client.get(f"/api/v1/statuses/{note['id']}/history")).json()) == 1
    # Booleans are read as Rails reads them (any text but a "false" word is true), as Mastodon does.
    maybe = await _edit(client, alice, note["id"], status="ok", sensitive="maybe")
    assert maybe.status_code == 200 and maybe.json()["sensitive"] is True


async def test_boosters_hear_of_edits_and_the_event_is_emitted(
    client: httpx.AsyncClient,
    post: Post,
    alice: ApiUser,
    bob: ApiUser,
    carol: ApiUser,
    events: Sequence[Event],
) -> None:
    note = await post(alice, "Boost me")
    await client.post(f"/api/v1/statuses/{note['id']}/reblog", headers=bob.headers)
    await client.post(f"/api/v1/statuses/{note['id']}/favourite", headers=carol.headers)

    r = await _edit(client, alice, note["id"], status="Boost me, edited #news")
    assert r.status_code == 200
    bob_notes = (await client.get("/api/v1/notifications", headers=bob.headers)).json()
    assert [(n["type"], n["status"]["id"], n["account"]["id"]) for n in bob_notes] == [
        ("update", note["id"], alice.id)
    ]
    assert "edited" in bob_notes[0]["status"]["content"]
    assert await _types(client, carol) == []  # favourites are not told, as in Mastodon
    assert await _types(client, alice) == ["favourite", "reblog"]  # nothing for herself

    updated = [e for e in events if isinstance(e, StatusUpdated)]
    assert updated == [
        StatusUpdated(
            status_id=int(note["id"]),
            account_id=alice.account_id,
            visibility="public",
            local=True,
            in_reply_to_id=None,
            mentioned_account_ids=(),
            tags=("news",),
        )
    ]
