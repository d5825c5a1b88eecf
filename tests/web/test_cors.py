"""CORS for browser apps, as Mastodon answers them: any origin, the bearer token allowed, pagination
and rate-limit headers readable, never credentials, and nothing for HTML pages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest

from cordee.web.cors import Cors
from tests.conftest import BASE_URL
from tests.web.test_auth_pages import sign_in

if TYPE_CHECKING:
    from tests.conftest import ApiUser

APP_ORIGIN = "https://elk.example"


def preflight(method: str, headers: str = "authorization, content-type") -> dict[str, str]:
    return {
        "Origin": APP_ORIGIN,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers,
    }


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/api/v1/statuses", "POST"),
        ("/api/v1/accounts/verify_credentials", "GET"),
        ("/api/v1/statuses/1", "DELETE"),
        ("/api/v1/streaming/user", "GET"),
        ("/oauth/token", "POST"),
        ("/oauth/revoke", "POST"),
        ("/.well-known/oauth-authorization-server", "GET"),
    ],
)
async def test_preflight_is_answered_without_the_handler(
    client: httpx.AsyncClient, path: str, method: str
) -> None:
    r = await client.options(path, headers=preflight(method))
    # /oauth/token has no OPTIONS route and /api/v1/statuses/1 does not exist: a 204 here means
    # the router was never reached.
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert r.headers["access-control-allow-origin"] == "*"
    assert method in r.headers["access-control-allow-methods"]
    assert "authorization" in r.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in r.headers
    assert int(r.headers["access-control-max-age"]) > 0


async def test_simple_request_exposes_link_and_rate_limits(
    client: httpx.AsyncClient, alice: ApiUser, post: object
) -> None:
    r = await client.get(
        "/api/v1/timelines/home", headers={**alice.headers, "Origin": APP_ORIGIN}, params={"limit": 1}
    )
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "*"
    exposed = {h.strip().lower() for h in r.headers["access-control-expose-headers"].split(",")}
    assert {"link", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"} <= exposed
    assert "access-control-allow-credentials" not in r.headers


async def test_errors_are_readable_cross_origin(client: httpx.AsyncClient) -> None:
    for r in (
        await client.get("/api/v1/accounts/verify_credentials", headers={"Origin": APP_ORIGIN}),
        await client.get("/api/v1/nothing/here", headers={"Origin": APP_ORIGIN}),
        await client.post("/oauth/token", data={"grant_type": "password"}, headers={"Origin": APP_ORIGIN}),
    ):
        assert r.status_code in (400, 401, 404), r.text
        assert r.headers["access-control-allow-origin"] == "*"
        assert "error" in r.json()


async def test_answers_are_the_same_with_or_without_origin(client: httpx.AsyncClient) -> None:
    """A shared cache may store the answer to a request without Origin and give it to a browser
    app: it must carry the headers too (no Vary: Origin needed)."""
    for path in ("/api/v1/instance", "/.well-known/oauth-authorization-server"):
        r = await client.get(path)
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == "*"
        assert "origin" not in r.headers.get("vary", "").lower()


async def test_html_pages_get_no_cors(client: httpx.AsyncClient) -> None:
    for path in ("/", "/auth/sign_in", "/oauth/authorize"):
        r = await client.get(path, headers={"Origin": APP_ORIGIN})
        assert "access-control-allow-origin" not in r.headers, path
        r = await client.options(path, headers=preflight("POST"))
        assert r.status_code != 204, path
        assert "access-control-allow-origin" not in r.headers, path


async def test_the_api_ignores_the_web_session_cookie(client: httpx.AsyncClient, alice: ApiUser) -> None:
    """A cross-origin page could make the browser send this site's cookies (if credentials were
    allowed, or by a form): the API must not count them as being signed in."""
    await sign_in(client, alice)
    assert client.cookies.get("cordee_sid")
    page = await client.get("/settings/password")
    assert page.status_code == 200  # the cookie is a live web session
    r = await client.get("/api/v1/accounts/verify_credentials", headers={"Origin": APP_ORIGIN})
    assert r.status_code == 401
    r = await client.post("/api/v1/statuses", json={"status": "via cookie"}, headers={"Origin": APP_ORIGIN})
    assert r.status_code == 401


async def test_a_handler_that_sets_its_own_cors_keeps_it() -> None:
    async def own(scope: Any, receive: Any, send: Any) -> None:
        headers = [
            (b"content-type", b"application/json"),
            (b"access-control-allow-origin", b"https://a.example"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"{}"})

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=Cors(own)), base_url=BASE_URL) as c:
        r = await c.get("/api/v1/x", headers={"Origin": APP_ORIGIN})
    assert r.headers.get_list("access-control-allow-origin") == ["https://a.example"]
