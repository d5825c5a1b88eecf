"""Posting and reading notes through the API."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from cordee.db.engine import Database
from cordee.queries import statuses as status_queries
from tests.conftest import ApiUser, MakeUser


async def test_post_and_read_back(client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser) -> None:
    r = await client.post(
        "/api/v1/statuses",
        data={"status": "Hello @bob, see https://example.org and #Cordee", "language": "en"},
        headers=alice.headers,
    )
    assert r.status_code == 200, r.text
    status = r.json()
    assert status["account"]["username"] == "alice"
    assert status["visibility"] == "public"
    assert [m["acct"] for m in status["mentions"]] == ["bob"]
    assert status["tags"] == [{"name": "cordee", "url": "http://cordee.test/tags/cordee"}]
    assert 'href="https://example.org"' in status["content"]
    assert 'class="u-url mention"' in status["content"]
    assert status["application"]["name"] == "tests"
    assert status["favourited"] is False and status["reblogged"] is False

    shown = await client.get(f"/api/v1/statuses/{status['id']}")
    assert shown.status_code == 200
    assert shown.json()["content"] == status["content"]
    assert "favourited" not in shown.json()  # anonymous readers get no per-viewer flags

    account = await client.get(f"/api/v1/accounts/{alice.id}")
    assert account.json()["statuses_count"] == 1


async def test_json_body_and_html_is_escaped(client: httpx.AsyncClient, alice: ApiUser) -> None:
    r = await client.post(
        "/api/v1/statuses", json={"status": "<script>alert(1)</script> & co"}, headers=alice.headers
    )
    assert r.status_code == 200
    assert "<script>" not in r.json()["content"]
    assert "&lt;script&gt;" in r.json()["content"]


async def test_over_long_note_is_refused_and_nothing_stored(
    client: httpx.AsyncClient, alice: ApiUser
) -> None:
    r = await client.post("/api/v1/statuses", json={"status": "x" * 141}, headers=alice.headers)
    assert r.status_code == 422
    assert "140" in r.json()["error"]
    timeline = await client.get(f"/api/v1/accounts/{alice.id}/statuses")
    assert timeline.json() == []


async def test_urls_count_23_and_mentions_count_their_local_part(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser
) -> None:
    url = "https://example.org/" + "a" * 200
    text = f"{url} @bob@cordee.test " + "y" * (140 - 23 - 1 - 4 - 1)
    r = await client.post("/api/v1/statuses", json={"status": text}, headers=alice.headers)
    assert r.status_code == 200, r.text
    r = await client.post("/api/v1/statuses", json={"status": text + "z"}, headers=alice.headers)
    assert r.status_code == 422


async def test_blank_or_malformed_input(client: httpx.AsyncClient, alice: ApiUser) -> None:
    assert (
        await client.post("/api/v1/statuses", json={"status": "  "}, headers=alice.headers)
    ).status_code == 422
    bad_json = await client.post(
        "/api/v1/statuses",
        content=b"{not json",
        headers={**alice.headers, "Content-Type": "application/json"},
    )
    assert bad_json.status_code == 400
    assert "error" in bad_json.json()
    wrong_visibility = await client.post(
        "/api/v1/statuses", json={"status": "hi", "visibility": "everyone"}, headers=alice.headers
    )
    assert wrong_visibility.status_code == 422
    assert (await client.get(f"/api/v1/accounts/{alice.id}/statuses")).json() == []


async def test_idempotency_key_never_duplicates(client: httpx.AsyncClient, alice: ApiUser) -> None:
    headers = {**alice.headers, "Idempotency-Key": "retry-42"}
    first = await client.post("/api/v1/statuses", json={"status": "only once"}, headers=headers)
    second = await client.post("/api/v1/statuses", json={"status": "only once"}, headers=headers)
    assert first.json()["id"] == second.json()["id"]
    statuses = (await client.get(f"/api/v1/accounts/{alice.id}/statuses")).json()
    assert len(statuses) == 1


async def test_auth_and_scopes(client: httpx.AsyncClient, make_user: Any) -> None:
    reader = await make_user("reader", scopes="read")
    r = await client.post("/api/v1/statuses", json={"status": "hi"}, headers=reader.headers)
    assert r.status_code == 403
    assert r.json()["error"] == "This action is outside the authorized scopes"
    assert (await client.post("/api/v1/statuses", json={"status": "hi"})).status_code == 401
    bad = await client.post(
        "/api/v1/statuses", json={"status": "hi"}, headers={"Authorization": "Bearer nope"}
    )
    assert bad.status_code == 401


async def test_unknown_ids_are_404(client: httpx.AsyncClient, alice: ApiUser) -> None:
    for path in ("/api/v1/statuses/123", "/api/v1/statuses/abc", "/api/v1/accounts/99999999999999999999"):
        r = await client.get(path, headers=alice.headers)
        assert r.status_code == 404, path
        assert r.json() == {"error": "Record not found"}
    r = await client.post("/api/v1/statuses/123/favourite", headers=alice.headers)
    assert r.status_code == 404


async def test_delete_returns_source_and_removes(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser
) -> None:
    status = (await client.post("/api/v1/statuses", json={"status": "oops"}, headers=alice.headers)).json()
    assert (await client.delete(f"/api/v1/statuses/{status['id']}", headers=bob.headers)).status_code == 403
    r = await client.delete(f"/api/v1/statuses/{status['id']}", headers=alice.headers)
    assert r.status_code == 200
    assert r.json()["text"] == "oops"
    assert (await client.get(f"/api/v1/statuses/{status['id']}")).status_code == 404
    assert (await client.get(f"/api/v1/accounts/{alice.id}")).json()["statuses_count"] == 0


async def test_thread_context(client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser) -> None:
    root = (await client.post("/api/v1/statuses", json={"status": "root"}, headers=alice.headers)).json()
    reply = (
        await client.post(
            "/api/v1/statuses",
            json={"status": "@alice reply", "in_reply_to_id": root["id"]},
            headers=bob.headers,
        )
    ).json()
    deeper = (
        await client.post(
            "/api/v1/statuses",
            json={"status": "deeper", "in_reply_to_id": reply["id"]},
            headers=alice.headers,
        )
    ).json()
    ctx = (await client.get(f"/api/v1/statuses/{reply['id']}/context")).json()
    assert [s["id"] for s in ctx["ancestors"]] == [root["id"]]
    assert [s["id"] for s in ctx["descendants"]] == [deeper["id"]]
    assert (await client.get(f"/api/v1/statuses/{root['id']}")).json()["replies_count"] == 1
    assert reply["in_reply_to_account_id"] == alice.id


async def test_favourite_and_reblog(client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser) -> None:
    status = (await client.post("/api/v1/statuses", json={"status": "nice"}, headers=alice.headers)).json()
    fav = await client.post(f"/api/v1/statuses/{status['id']}/favourite", headers=bob.headers)
    assert fav.json()["favourited"] is True and fav.json()["favourites_count"] == 1
    again = await client.post(f"/api/v1/statuses/{status['id']}/favourite", headers=bob.headers)
    assert again.json()["favourites_count"] == 1
    boost = await client.post(f"/api/v1/statuses/{status['id']}/reblog", headers=bob.headers)
    assert boost.status_code == 200
    assert boost.json()["reblog"]["id"] == status["id"]
    assert boost.json()["reblog"]["reblogs_count"] == 1
    assert boost.json()["reblog"]["reblogged"] is True
    by = (await client.get(f"/api/v1/statuses/{status['id']}/favourited_by")).json()
    assert [a["username"] for a in by] == ["bob"]
    rb = (await client.get(f"/api/v1/statuses/{status['id']}/reblogged_by")).json()
    assert [a["username"] for a in rb] == ["bob"]
    notes = (await client.get("/api/v1/notifications", headers=alice.headers)).json()
    assert sorted(n["type"] for n in notes) == ["favourite", "reblog"]
    unboost = await client.post(f"/api/v1/statuses/{status['id']}/unreblog", headers=bob.headers)
    assert unboost.json()["reblogs_count"] == 0
    unfav = await client.post(f"/api/v1/statuses/{status['id']}/unfavourite", headers=bob.headers)
    assert unfav.json()["favourites_count"] == 0
    assert (await client.get("/api/v1/notifications", headers=alice.headers)).json() == []


async def test_concurrent_retries_with_one_idempotency_key_make_one_note(
    client: httpx.AsyncClient, alice: ApiUser
) -> None:
    headers = {**alice.headers, "Idempotency-Key": "burst"}
    answers = await asyncio.gather(
        *(client.post("/api/v1/statuses", json={"status": "once"}, headers=headers) for _ in range(6))
    )
    assert {r.status_code for r in answers} == {200}
    assert len({r.json()["id"] for r in answers}) == 1
    assert len((await client.get(f"/api/v1/accounts/{alice.id}/statuses")).json()) == 1


async def test_a_thread_reads_as_the_general_walk_says_with_or_without_filters(
    client: httpx.AsyncClient, make_user: MakeUser, db: Database
) -> None:
    """Context on the hot path (``queries.threads``) against the general walk of a thread
    (``queries.statuses.ancestors``/``descendants``, through the ORM): the same ancestors and
    replies, in the same order, hidden branches left out alike, for readers who see different
    parts of the thread; then, for readers with a filter matching nothing, the same answers."""
    alice, bob, carol, dave = [await make_user(name) for name in ("alice", "bob", "carol", "dave")]
    await client.post(f"/api/v1/accounts/{carol.id}/follow", headers=alice.headers)
    await client.post(f"/api/v1/accounts/{dave.id}/block", headers=carol.headers)

    async def reply(user: ApiUser, text: str, to: str | None, visibility: str = "public") -> str:
        body = {"status": text, "in_reply_to_id": to, "visibility": visibility}
        r = await client.post("/api/v1/statuses", json=body, headers=user.headers)
        assert r.status_code == 200, r.text
        return str(r.json()["id"])

    root = await reply(alice, "root", None)
    first = await reply(bob, "first", root)
    hidden = await reply(carol, "for my followers", first, "private")
    below_hidden = await reply(alice, "below the private one", hidden)
    await reply(alice, "second under first", first)
    blocked_branch = await reply(carol, "carol again", root)
    await reply(bob, "@alice just us", blocked_branch, "direct")
    await reply(bob, "late", first)
    focus = [root, first, hidden, below_hidden]
    readers: list[ApiUser | None] = [alice, bob, carol, dave, None]
    hot: dict[tuple[int, str], Any] = {}
    for at, reader in enumerate(readers):
        viewer = int(reader.id) if reader else None
        for note in focus:
            r = await client.get(f"/api/v1/statuses/{note}/context", headers=reader.headers if reader else {})
            hot[(at, note)] = r.status_code, r.json()
            async with db.read() as session:
                status = await status_queries.visible_status(session, viewer, int(note))
                if status is None:
                    assert r.status_code == 404, (at, note)
                    continue
                walked = (
                    [str(s.id) for s in await status_queries.ancestors(session, viewer, status)],
                    [str(s.id) for s in await status_queries.descendants(session, viewer, status)],
                )
            read = ([s["id"] for s in r.json()["ancestors"]], [s["id"] for s in r.json()["descendants"]])
            assert read == walked, (at, note)
    assert [s["id"] for s in hot[(0, first)][1]["descendants"]][:2] == [hidden, below_hidden]
    assert hidden not in [s["id"] for s in hot[(1, first)][1]["descendants"]]  # bob: not a follower
    assert hot[(3, hidden)][0] == 404  # dave: carol blocks him
    for at, reader in enumerate(readers[:4]):
        assert reader is not None
        words = {"title": "nothing", "context": ["thread"], "keywords_attributes": [{"keyword": "zzyzx"}]}
        r = await client.post("/api/v2/filters", json=words, headers=reader.headers)
        assert r.status_code == 200, r.text
        for note in focus:
            r = await client.get(f"/api/v1/statuses/{note}/context", headers=reader.headers)
            assert (r.status_code, r.json()) == hot[(at, note)], (at, note)
