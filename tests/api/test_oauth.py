"""OAuth through the API: registering apps, the token endpoint's grants, revocation, metadata.

The browser side of the authorization-code flow is in tests/web/test_auth_pages.py.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:  # imported by name at run time, pytest would try to collect it as a test class
    from tests.conftest import ApiUser as TestUser

OOB = "urn:ietf:wg:oauth:2.0:oob"


async def register(
    client: httpx.AsyncClient, scopes: str = "read write follow push", uris: str = OOB
) -> dict[str, Any]:
    r = await client.post(
        "/api/v1/apps", data={"client_name": "Test app", "redirect_uris": uris, "scopes": scopes}
    )
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def password_token(
    client: httpx.AsyncClient, app: dict[str, Any], user: TestUser, **extra: str
) -> httpx.Response:
    return await client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": user.email,
            "password": user.password,
            **extra,
        },
    )


def basic(app: dict[str, Any]) -> dict[str, str]:
    raw = f"{app['client_id']}:{app['client_secret']}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


async def test_register_app_with_a_form(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/v1/apps",
        data={
            "client_name": "Pinafore",
            "redirect_uris": "https://pinafore.example/callback",
            "scopes": "read write",
            "website": "https://pinafore.example",
        },
    )
    assert r.status_code == 200, r.text
    app = r.json()
    assert app["name"] == "Pinafore"
    assert app["website"] == "https://pinafore.example"
    assert app["scopes"] == ["read", "write"]
    assert app["redirect_uris"] == ["https://pinafore.example/callback"]
    assert app["client_id"] and app["client_secret"]


async def test_register_app_with_json_and_several_uris(client: httpx.AsyncClient) -> None:
    uris = ["https://a.example/cb", "com.example.app://oauth"]
    r = await client.post("/api/v1/apps", json={"client_name": "Multi", "redirect_uris": uris})
    assert r.status_code == 200, r.text
    app = r.json()
    assert app["redirect_uris"] == uris
    assert app["redirect_uri"] == "\n".join(uris)
    assert app["scopes"] == ["read"]  # Mastodon's default


async def test_register_app_rejects_a_relative_redirect_uri(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/apps", data={"client_name": "Bad", "redirect_uris": "/callback"})
    assert r.status_code == 422
    assert "Redirect URI" in r.text


async def test_password_grant_with_email_or_username(client: httpx.AsyncClient, alice: TestUser) -> None:
    app = await register(client)
    r = await password_token(client, app, alice, scope="read write")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "read write"
    assert isinstance(body["created_at"], int)
    assert body["refresh_token"] and body["access_token"]
    assert r.headers["cache-control"] == "no-store"
    me = await client.get(
        "/api/v1/apps/verify_credentials", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.status_code == 200 and me.json()["name"] == "Test app"

    by_name = await client.post(
        "/oauth/token",
        json={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": "ALICE",
            "password": alice.password,
        },
    )
    assert by_name.status_code == 200, by_name.text
    assert by_name.json()["scope"] == "read"  # no scope asked: read, as in Mastodon


async def test_password_grant_wrong_password(client: httpx.AsyncClient, alice: TestUser) -> None:
    app = await register(client)
    r = await password_token(client, app, alice, password="not the password")
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_grant"
    assert r.json()["error_description"]


async def test_password_grant_scope_wider_than_the_app(client: httpx.AsyncClient, alice: TestUser) -> None:
    app = await register(client, scopes="read")
    r = await password_token(client, app, alice, scope="read write")
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_scope"


async def test_client_credentials_then_verify_app(client: httpx.AsyncClient) -> None:
    app = await register(client, scopes="read write")
    r = await client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "scope": "read",
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["scope"] == "read"
    assert "refresh_token" not in body  # nobody to refresh for
    me = await client.get(
        "/api/v1/apps/verify_credentials", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json()["name"] == "Test app"
    assert "client_secret" not in me.json()


async def test_client_authentication_by_basic_header(client: httpx.AsyncClient) -> None:
    app = await register(client)
    r = await client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=basic(app))
    assert r.status_code == 200, r.text


async def test_wrong_client_secret(client: httpx.AsyncClient, alice: TestUser) -> None:
    app = await register(client)
    r = await password_token(client, app, alice, client_secret="nope")
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client"
    assert r.headers["www-authenticate"].startswith("Basic")
    bad_basic = await client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": "Basic %%%"}
    )
    assert bad_basic.status_code == 401
    assert bad_basic.json()["error"] == "invalid_client"


async def test_unsupported_and_missing_grant_type(client: httpx.AsyncClient) -> None:
    app = await register(client)
    creds = {"client_id": app["client_id"], "client_secret": app["client_secret"]}
    r = await client.post("/oauth/token", data={"grant_type": "implicit", **creds})
    assert r.status_code == 400
    assert r.json()["error"] == "unsupported_grant_type"
    assert r.json()["error_description"]
    missing = await client.post("/oauth/token", data=creds)
    assert missing.status_code == 400
    assert missing.json()["error"] == "invalid_request"


async def test_refresh_token_rotates(client: httpx.AsyncClient, alice: TestUser) -> None:
    app = await register(client)
    first = (await password_token(client, app, alice)).json()
    r = await client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        headers=basic(app),
    )
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    assert second["scope"] == first["scope"]

    def auth(token: dict[str, Any]) -> dict[str, str]:
        return {"Authorization": f"Bearer {token['access_token']}"}

    assert (await client.get("/api/v1/apps/verify_credentials", headers=auth(first))).status_code == 401
    assert (await client.get("/api/v1/apps/verify_credentials", headers=auth(second))).status_code == 200
    again = await client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        headers=basic(app),
    )
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


async def test_revoke_makes_the_token_unusable(client: httpx.AsyncClient, alice: TestUser) -> None:
    app = await register(client)
    token = (await password_token(client, app, alice)).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/apps/verify_credentials", headers=headers)).status_code == 200
    r = await client.post(
        "/oauth/revoke",
        data={"client_id": app["client_id"], "client_secret": app["client_secret"], "token": token},
    )
    assert r.status_code == 200
    assert r.json() == {}
    assert (await client.get("/api/v1/apps/verify_credentials", headers=headers)).status_code == 401


async def test_revoke_needs_the_client(client: httpx.AsyncClient, alice: TestUser) -> None:
    app = await register(client)
    token = (await password_token(client, app, alice)).json()["access_token"]
    r = await client.post("/oauth/revoke", data={"client_id": app["client_id"], "token": token})
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client"


async def test_authorization_server_metadata(client: httpx.AsyncClient) -> None:
    r = await client.get("/.well-known/oauth-authorization-server")
    assert r.status_code == 200
    meta = r.json()
    base = "http://cordee.test"
    assert meta["issuer"] == f"{base}/"
    assert meta["authorization_endpoint"] == f"{base}/oauth/authorize"
    assert meta["token_endpoint"] == f"{base}/oauth/token"
    assert meta["revocation_endpoint"] == f"{base}/oauth/revoke"
    assert meta["app_registration_endpoint"] == f"{base}/api/v1/apps"
    assert {"read", "write", "follow", "push", "profile", "read:statuses", "write:media"} <= set(
        meta["scopes_supported"]
    )
    assert not [s for s in meta["scopes_supported"] if s.startswith("admin:")]
    assert meta["response_types_supported"] == ["code"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert {"authorization_code", "password", "client_credentials", "refresh_token"} == set(
        meta["grant_types_supported"]
    )
    assert meta["token_endpoint_auth_methods_supported"] == ["client_secret_basic", "client_secret_post"]
