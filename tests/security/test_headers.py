"""Finding 1 (defences): the response headers every answer carries.

Every HTML page has a strict Content-Security-Policy (no inline script can run, nothing frames it,
forms post only to this site), every response says ``nosniff`` (API, static files, uploaded media,
errors), a referrer policy keeps addresses on this site, and HSTS is sent only over https.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from PIL import Image

from cordee.app import build_app
from cordee.config import Settings
from cordee.db.engine import Database
from tests.conftest import BASE_URL, ApiUser

CALLBACK = "https://client.example/callback"


def directives(csp: str) -> dict[str, list[str]]:
    parsed = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            parsed[words[0]] = words[1:]
    return parsed


def assert_strict_page(r: httpx.Response) -> None:
    assert "text/html" in r.headers["content-type"], r.headers
    policy = directives(r.headers["content-security-policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"][0] == "'self'"
    assert "'unsafe-inline'" not in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"
    assert r.headers["x-frame-options"] == "DENY"
    assert "<script>" not in r.text  # every script is a file of this site


@pytest.fixture
async def https_client(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(replace(settings, base_url="https://cordee.test"), database=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://cordee.test") as c:
        yield c


async def test_every_html_page_has_a_strict_policy(client: httpx.AsyncClient) -> None:
    app = (await client.post("/api/v1/apps", json={"client_name": "P", "redirect_uris": CALLBACK})).json()
    pages = [
        await client.get("/"),
        await client.get("/auth/sign_in"),
        await client.get("/auth/sign_up"),
        await client.get("/no/such/page"),
        await client.get("/oauth/authorize", params={"client_id": "nope"}),
        await client.get(
            "/oauth/authorize",
            params={"client_id": app["client_id"], "redirect_uri": CALLBACK, "response_type": "code"},
        ),
    ]
    for r in pages:
        assert_strict_page(r)
        assert directives(r.headers["content-security-policy"])["form-action"] == ["'self'"]
        assert "strict-transport-security" not in r.headers  # plain http: HSTS would be ignored anyway


async def test_every_other_response_says_nosniff(client: httpx.AsyncClient, alice: ApiUser) -> None:
    image = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 200, 30)).save(image, format="PNG")
    media = await client.post(
        "/api/v2/media", files={"file": ("a.png", image.getvalue(), "image/png")}, headers=alice.headers
    )
    assert media.status_code == 200, media.text
    answers: list[httpx.Response] = [
        media,
        await client.get("/api/v1/instance"),
        await client.get("/api/v1/timelines/home", headers=alice.headers),
        await client.get("/api/v1/timelines/home"),  # 401
        await client.get("/api/v1/statuses/1"),  # 404
        await client.get("/api/v1/nothing/here"),
        await client.post("/oauth/token", data={"grant_type": "password"}),
        await client.get("/static/style.css"),
        await client.get("/static/missing.css"),
        await client.get(media.json()["url"].removeprefix(BASE_URL)),
        await client.get(media.json()["preview_url"].removeprefix(BASE_URL)),
    ]
    for r in answers:
        assert r.headers.get("x-content-type-options") == "nosniff", (r.url, r.status_code)
        assert r.headers.get("referrer-policy") == "same-origin", r.url
    media_file = answers[-1]
    assert media_file.status_code == 200
    # Uploaded files are the users' content: opened on their own, they can never run script here.
    assert directives(media_file.headers["content-security-policy"])["default-src"] == ["'none'"]
    assert "sandbox" in directives(media_file.headers["content-security-policy"])


async def test_hsts_only_over_https(https_client: httpx.AsyncClient) -> None:
    for path in ("/", "/api/v1/instance", "/static/style.css"):
        r = await https_client.get(path)
        assert r.headers["strict-transport-security"] == "max-age=63072000", path
        assert r.headers["x-content-type-options"] == "nosniff"


async def test_an_unhandled_error_still_carries_the_headers(settings: Settings, db: Database) -> None:
    app: Any = build_app(settings, database=db)

    async def boom(request: Any) -> Any:
        raise RuntimeError("a bug")

    app.add_route("/boom", boom)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as c:
        r = await c.get("/boom")
    assert r.status_code == 500
    assert r.headers["x-content-type-options"] == "nosniff"
