"""The answer to a post is rendered from what the post wrote (``rendering/new_notes.py``), and the
note's body it builds is kept for every later reader: both must be exactly what reading the note
from the database renders — mentions in their order, tags as their rows name them, the app, a
content warning, a reply in a thread its author muted."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from cordee.db.engine import Database
from tests.api.test_query_counts import counting
from tests.conftest import ApiUser, MakeUser

Post = Callable[..., Awaitable[dict[str, Any]]]


async def _read_afresh(db: Database, client: httpx.AsyncClient, user: ApiUser, note_id: str) -> Any:
    """The note as a read renders it from the database (nothing kept from the post)."""
    db.entities.clear()
    r = await client.get(f"/api/v1/statuses/{note_id}", headers=user.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_the_answer_is_the_note_as_read_from_the_database(
    db: Database, client: httpx.AsyncClient, make_user: MakeUser, alice: ApiUser, bob: ApiUser, post: Post
) -> None:
    carol = await make_user("carol")
    await post(bob, "#Cordee first, so the tag's row says Cordee")
    notes = [
        {"status": "plain"},
        {"status": f"@{carol.username} and @{bob.username} and @nobody@elsewhere.example, hi"},
        {"status": "#cordee #Nouveau #cordee twice", "language": "fr"},
        {"status": "behind a warning", "spoiler_text": "  cw  ", "visibility": "unlisted"},
        {"status": "for followers", "visibility": "private", "sensitive": True},
        {"status": f"@{bob.username} just us", "visibility": "direct"},
    ]
    for fields in notes:
        answer = await post(alice, **fields)
        assert answer == await _read_afresh(db, client, alice, answer["id"]), fields
        assert answer["application"] is not None

    parent = await post(bob, "a thread")
    reply = await post(alice, f"@{bob.username} a reply", in_reply_to_id=parent["id"])
    assert reply == await _read_afresh(db, client, alice, reply["id"])
    r = await client.post(f"/api/v1/statuses/{parent['id']}/mute", headers=alice.headers)
    assert r.status_code == 200, r.text
    muted = await post(alice, f"@{bob.username} again", in_reply_to_id=parent["id"])
    assert muted["muted"] is True
    assert muted == await _read_afresh(db, client, alice, muted["id"])


async def test_followers_see_the_body_the_post_kept(
    db: Database, client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, post: Post
) -> None:
    r = await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)
    assert r.status_code == 200, r.text
    answer = await post(alice, f"#Cordee for @{bob.username}")
    with counting(db) as counter:
        r = await client.get("/api/v1/timelines/home", headers=bob.headers)
    [shown] = [s for s in r.json() if s["id"] == answer["id"]]
    assert not [s for s in counter.statements if "content" in s and "FROM statuses" in s]  # its body, kept
    own = ("application", "pinned")  # shown to the author alone
    assert {k: v for k, v in shown.items() if k not in own} == {
        k: v for k, v in answer.items() if k not in own
    }
    assert shown["application"] is None and "pinned" not in shown
