"""Who sees what: private notes only to followers (and mentioned accounts), direct notes only to
the accounts they mention — on every read path."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests.conftest import ApiUser

Post = Callable[..., Awaitable[dict[str, Any]]]


async def _follow(client: httpx.AsyncClient, who: ApiUser, whom: ApiUser) -> None:
    r = await client.post(f"/api/v1/accounts/{whom.id}/follow", headers=who.headers)
    assert r.status_code == 200 and r.json()["following"] is True


async def _visible_paths(
    client: httpx.AsyncClient, viewer: ApiUser | None, author: ApiUser, status: dict[str, Any]
) -> dict[str, bool]:
    """For each read path, whether ``status`` shows up there for ``viewer``."""
    headers = viewer.headers if viewer else {}
    sid = status["id"]

    async def ids(path: str, **params: Any) -> list[str]:
        r = await client.get(path, params=params, headers=headers)
        if r.status_code != 200:
            return []
        body = r.json()
        if isinstance(body, dict):  # search
            body = body["statuses"]
        return [s["id"] for s in body]

    seen = {
        "show": (await client.get(f"/api/v1/statuses/{sid}", headers=headers)).status_code == 200,
        "many": sid in await ids("/api/v1/statuses", **{"id[]": sid}),
        "account": sid in await ids(f"/api/v1/accounts/{author.id}/statuses"),
        "public": sid in await ids("/api/v1/timelines/public"),
        "tag": sid in await ids("/api/v1/timelines/tag/secret"),
        "search": sid in await ids("/api/v2/search", q="secret", type="statuses"),
        "favourited_by": (
            await client.get(f"/api/v1/statuses/{sid}/favourited_by", headers=headers)
        ).status_code
        == 200,
        "context": (await client.get(f"/api/v1/statuses/{sid}/context", headers=headers)).status_code == 200,
    }
    if viewer is not None:
        seen["home"] = sid in await ids("/api/v1/timelines/home")
        seen["favourite"] = (
            await client.post(f"/api/v1/statuses/{sid}/favourite", headers=headers)
        ).status_code == 200
        seen["reply"] = (
            await client.post(
                "/api/v1/statuses", json={"status": "re", "in_reply_to_id": sid}, headers=headers
            )
        ).status_code == 200
    return seen


@pytest.mark.parametrize("visibility", ["private", "direct"])
async def test_restricted_notes_hidden_from_strangers_everywhere(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser, carol: ApiUser, visibility: str
) -> None:
    await _follow(client, bob, alice)  # bob follows alice, carol does not
    status = await post(alice, "a secret #secret", visibility=visibility)
    for viewer in (carol, None):
        seen = await _visible_paths(client, viewer, alice, status)
        assert not any(seen.values()), (viewer, seen)
    parent_reply_ctx = await client.get(f"/api/v1/statuses/{status['id']}/context", headers=carol.headers)
    assert parent_reply_ctx.status_code == 404


async def test_private_note_reaches_followers_but_not_public_timelines(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser
) -> None:
    await _follow(client, bob, alice)
    status = await post(alice, "for my followers #secret", visibility="private")
    seen = await _visible_paths(client, bob, alice, status)
    assert seen["show"] and seen["account"] and seen["home"] and seen["context"] and seen["favourite"]
    assert seen["search"] and seen["many"] and seen["reply"]
    assert not seen["public"] and not seen["tag"]
    # A follower-only note cannot be boosted by someone else.
    assert (
        await client.post(f"/api/v1/statuses/{status['id']}/reblog", headers=bob.headers)
    ).status_code == 403


async def test_direct_note_only_for_mentioned(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    await _follow(client, carol, alice)  # following is not enough for a direct note
    status = await post(alice, "@bob just between us #secret", visibility="direct")
    assert (await client.get(f"/api/v1/statuses/{status['id']}", headers=bob.headers)).status_code == 200
    assert (await client.get(f"/api/v1/statuses/{status['id']}", headers=carol.headers)).status_code == 404
    notes = (await client.get("/api/v1/notifications", headers=bob.headers)).json()
    assert [n["type"] for n in notes] == ["mention"] and notes[0]["status"]["id"] == status["id"]
    assert status["id"] not in [
        s["id"] for s in (await client.get("/api/v1/timelines/home", headers=carol.headers)).json()
    ]
    assert (
        await client.post(f"/api/v1/statuses/{status['id']}/reblog", headers=alice.headers)
    ).status_code == 403


async def test_unlisted_is_visible_but_not_on_public_timelines(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, carol: ApiUser
) -> None:
    status = await post(alice, "quietly #secret", visibility="unlisted")
    seen = await _visible_paths(client, carol, alice, status)
    assert seen["show"] and seen["account"] and seen["search"]
    assert not seen["public"] and not seen["tag"] and not seen["home"]


async def test_hidden_parent_is_cut_from_thread(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    await _follow(client, bob, alice)
    private = await post(alice, "followers only", visibility="private")
    reply = await post(bob, "a public answer", in_reply_to_id=private["id"])
    ctx = (await client.get(f"/api/v1/statuses/{reply['id']}/context", headers=carol.headers)).json()
    assert ctx["ancestors"] == []
    ctx = (await client.get(f"/api/v1/statuses/{reply['id']}/context", headers=bob.headers)).json()
    assert [s["id"] for s in ctx["ancestors"]] == [private["id"]]
