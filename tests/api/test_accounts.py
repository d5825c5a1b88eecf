"""Profiles, follows, relationships, account search, registration."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from cordee.config import Settings
from tests.conftest import ApiUser

Post = Callable[..., Awaitable[dict[str, Any]]]


async def test_verify_and_update_credentials(client: httpx.AsyncClient, alice: ApiUser) -> None:
    me = (await client.get("/api/v1/accounts/verify_credentials", headers=alice.headers)).json()
    assert me["username"] == "alice" and me["acct"] == "alice" and me["source"]["privacy"] == "public"
    r = await client.patch(
        "/api/v1/accounts/update_credentials",
        data={"display_name": "Alice A.", "note": "Line one\nhttps://example.org", "bot": "true"},
        headers=alice.headers,
    )
    assert r.status_code == 200, r.text
    me = r.json()
    assert me["display_name"] == "Alice A." and me["bot"] is True
    assert me["source"]["note"] == "Line one\nhttps://example.org"
    assert "<br" in me["note"] and 'href="https://example.org"' in me["note"]
    too_long = await client.patch(
        "/api/v1/accounts/update_credentials", data={"display_name": "x" * 31}, headers=alice.headers
    )
    assert too_long.status_code == 422
    assert (await client.get(f"/api/v1/accounts/{alice.id}")).json()["display_name"] == "Alice A."


async def test_follow_unfollow_and_lists(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    rel = (
        await client.post(f"/api/v1/accounts/{bob.id}/follow", data={"notify": "true"}, headers=alice.headers)
    ).json()
    assert rel["following"] and rel["notifying"] and rel["showing_reblogs"] and not rel["followed_by"]
    await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=carol.headers)
    await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)
    followers = (await client.get(f"/api/v1/accounts/{bob.id}/followers")).json()
    assert [a["username"] for a in followers] == ["carol", "alice"]  # newest follow first
    following = (await client.get(f"/api/v1/accounts/{alice.id}/following")).json()
    assert [a["username"] for a in following] == ["bob"]
    bob_profile = (await client.get(f"/api/v1/accounts/{bob.id}")).json()
    assert bob_profile["followers_count"] == 2 and bob_profile["following_count"] == 1
    rels = (
        await client.get(
            "/api/v1/accounts/relationships", params={"id[]": [bob.id, carol.id]}, headers=alice.headers
        )
    ).json()
    assert [(r["id"], r["following"], r["followed_by"]) for r in rels] == [
        (bob.id, True, True),
        (carol.id, False, False),
    ]
    notes = (
        await client.get("/api/v1/notifications", params={"types[]": "follow"}, headers=bob.headers)
    ).json()
    assert sorted(n["account"]["username"] for n in notes) == ["alice", "carol"]
    unf = (await client.post(f"/api/v1/accounts/{bob.id}/unfollow", headers=alice.headers)).json()
    assert unf["following"] is False and unf["followed_by"] is True
    assert (await client.get(f"/api/v1/accounts/{bob.id}")).json()["followers_count"] == 1
    assert (
        await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=alice.headers)
    ).status_code == 403
    assert (await client.post("/api/v1/accounts/42/follow", headers=alice.headers)).status_code == 404
    # An account's notes: none yet is an empty page, no such account a 404 (signed in or not).
    assert (await client.get(f"/api/v1/accounts/{bob.id}/statuses", headers=alice.headers)).json() == []
    for headers in (alice.headers, {}):
        missing = await client.get("/api/v1/accounts/42/statuses", headers=headers)
        assert missing.status_code == 404 and missing.json() == {"error": "Record not found"}


async def test_lookup_and_search(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, make_user: Any
) -> None:
    await make_user("alicia")
    assert (await client.get("/api/v1/accounts/lookup", params={"acct": "@ALICE"})).json()["id"] == alice.id
    assert (await client.get("/api/v1/accounts/lookup", params={"acct": "alice@cordee.test"})).json()[
        "id"
    ] == alice.id
    assert (await client.get("/api/v1/accounts/lookup", params={"acct": "nobody"})).status_code == 404
    found = (await client.get("/api/v1/accounts/search", params={"q": "alic"}, headers=bob.headers)).json()
    assert {a["username"] for a in found} == {"alice", "alicia"}
    exact_first = (
        await client.get("/api/v1/accounts/search", params={"q": "alice"}, headers=bob.headers)
    ).json()
    assert exact_first[0]["username"] == "alice"
    assert (await client.get("/api/v1/accounts/search", params={"q": "%"}, headers=bob.headers)).json() == []


async def test_registration_through_api(client: httpx.AsyncClient) -> None:
    app = (
        await client.post(
            "/api/v1/apps",
            json={
                "client_name": "signup",
                "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                "scopes": "read write",
            },
        )
    ).json()
    assert "client_secret" in app
    # The app token needs the client_credentials grant (oauth endpoints), which lives in the OAuth module:
    token = await client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "scope": "read write",
        },
    )
    assert token.status_code == 200, token.text
    app_headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    r = await client.post(
        "/api/v1/accounts",
        data={
            "username": "newbie",
            "email": "newbie@example.org",
            "password": "long enough pw",
            "agreement": "true",
            "locale": "fr",
        },
        headers=app_headers,
    )
    assert r.status_code == 200, r.text
    user_headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    me = (await client.get("/api/v1/accounts/verify_credentials", headers=user_headers)).json()
    assert me["username"] == "newbie" and me["source"]["language"] == "fr"

    taken = await client.post(
        "/api/v1/accounts",
        data={"username": "NEWBIE", "email": "x@example.org", "password": "short", "agreement": "true"},
        headers=app_headers,
    )
    assert taken.status_code == 422
    details = taken.json()["details"]
    assert (
        details["username"][0]["error"] == "ERR_TAKEN" and details["password"][0]["error"] == "ERR_TOO_SHORT"
    )
    no_token = await client.post("/api/v1/accounts", data={"username": "x"})
    assert no_token.status_code == 401


async def test_registration_modes(client: httpx.AsyncClient, settings: Settings, app: Any) -> None:
    from dataclasses import replace

    from cordee.actions.accounts import Registration, create_local_account
    from cordee.actions.errors import Forbidden

    db = app.state.db
    closed = replace(settings, registration_mode="closed")
    try:
        await create_local_account(db, closed, Registration("zed", "zed@example.org", "long enough pw"))
        raise AssertionError("closed registrations accepted an account")
    except Forbidden as e:
        assert "closed" in e.message
    approval = replace(settings, registration_mode="approval")
    await create_local_account(db, approval, Registration("pending", "p@example.org", "long enough pw"))
    restricted = replace(settings, allowed_email_domains=("asso.org",))
    try:
        await create_local_account(db, restricted, Registration("other", "o@example.org", "long enough pw"))
        raise AssertionError("e-mail domain list ignored")
    except Exception as e:
        assert "domain" in str(getattr(e, "details", e))
