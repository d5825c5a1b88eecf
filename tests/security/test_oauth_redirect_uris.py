"""Finding 1: a redirect URI that runs script in the instance's origin (``javascript:``, ``data:``…).

Registering one is refused (422, as Doorkeeper does for Mastodon), and ``/oauth/authorize`` never
sends the browser to an unregistered or dangerous URI on any path, even for an application stored
with one before the rule existed: the person sees an error page instead.
"""

from __future__ import annotations

import secrets
from html.parser import HTMLParser
from typing import Any

import httpx

from cordee.db.engine import Database
from cordee.db.tables import Application
from tests.conftest import ApiUser

CALLBACK = "https://client.example/callback"
OOB = "urn:ietf:wg:oauth:2.0:oob"

DANGEROUS = [
    "javascript:alert(document.domain)",
    "JavaScript:alert(1)",
    "JAVASCRIPT://%0aalert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "\x01javascript:alert(1)",
    "javascript\x00:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "Data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "blob:https://cordee.test/1",
    "https://client.example/cb#fragment",
    "https:///no-host",
    "https://client.example/c b",
    "https://client.example/<script>",
    "/relative/callback",
    "no-scheme",
]
ACCEPTED = [
    CALLBACK,
    "http://localhost:4000/callback",
    "http://127.0.0.1:8080/",
    "com.example.app://oauth",
    "com.example.app:/oauth2redirect",
    "https://client.example/callback?tenant=a&x=1",
    OOB,
]


class Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.actions: list[str] = []
        self.inline_scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.actions.append(a.get("action") or "")
        if tag == "script" and not a.get("src"):
            self.inline_scripts += 1


def forms(html: str) -> Forms:
    parser = Forms()
    parser.feed(html)
    return parser


async def register(client: httpx.AsyncClient, uris: Any) -> httpx.Response:
    return await client.post("/api/v1/apps", json={"client_name": "Probe", "redirect_uris": uris})


async def test_dangerous_redirect_uris_are_refused_at_registration(client: httpx.AsyncClient) -> None:
    for uri in DANGEROUS:
        for sent in (uri, [CALLBACK, uri]):
            r = await register(client, sent)
            assert r.status_code == 422, (uri, r.status_code, r.text)
            assert "Redirect URI" in r.json()["error"], r.text
        form = await client.post("/api/v1/apps", data={"client_name": "Probe", "redirect_uris": uri})
        assert form.status_code == 422, (uri, form.text)


async def test_ordinary_redirect_uris_are_accepted(client: httpx.AsyncClient) -> None:
    for uri in ACCEPTED:
        r = await register(client, uri)
        assert r.status_code == 200, (uri, r.text)
        assert r.json()["redirect_uris"] == [uri]


async def stored_app(db: Database, uri: str) -> Application:
    """An application saved with ``uri`` before registration refused it (the rule is checked at use)."""
    async with db.write() as tx:
        app = Application(
            name="Legacy",
            redirect_uris=uri,
            scopes="read",
            client_id=secrets.token_urlsafe(16),
            client_secret=secrets.token_urlsafe(16),
        )
        tx.session.add(app)
    return app


def assert_error_page(r: httpx.Response, uri: str) -> None:
    assert r.status_code == 400, (r.status_code, r.text[:300])
    assert "location" not in r.headers
    assert "text/html" in r.headers["content-type"]
    page = forms(r.text)
    assert page.inline_scripts == 0
    assert all(not a.lower().startswith(("javascript", "data", "vbscript")) for a in page.actions)
    assert uri not in r.text


async def test_no_error_path_of_authorize_posts_to_a_dangerous_uri(
    client: httpx.AsyncClient, db: Database
) -> None:
    """The reported chain: a stored ``javascript:`` URI, a bad ``response_type`` and form_post."""
    for uri in ("javascript:alert(document.domain)", "data:text/html,<script>alert(1)</script>"):
        app = await stored_app(db, uri)
        base = {"client_id": app.client_id, "redirect_uri": uri, "response_type": "code"}
        probes: list[dict[str, str]] = [
            {"response_type": "nope", "response_mode": "form_post"},
            {"response_type": "token"},
            {"response_mode": "nope"},
            {"response_mode": "fragment", "scope": "admin:write"},
            {"response_mode": "form_post", "scope": "write"},
            {"response_mode": "form_post", "code_challenge": "short"},
            {"response_mode": "form_post"},
            {"redirect_uri": ""},  # the single registered URI would be taken by default
        ]
        for extra in probes:
            r = await client.get("/oauth/authorize", params={**base, **extra})
            assert_error_page(r, uri)


async def test_a_signed_in_victim_is_not_sent_to_a_stored_dangerous_uri(
    client: httpx.AsyncClient, db: Database, alice: ApiUser
) -> None:
    uri = "javascript:fetch('/x')"
    app = await stored_app(db, uri)
    page = await client.get("/auth/sign_in")
    csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    signed = await client.post(
        "/auth/sign_in", data={"csrf_token": csrf, "login": alice.email, "password": alice.password}
    )
    assert signed.status_code == 303
    params = {"client_id": app.client_id, "redirect_uri": uri, "response_type": "code"}
    assert_error_page(await client.get("/oauth/authorize", params=params), uri)
    for decision in ("authorize", "deny"):
        r = await client.post(
            "/oauth/authorize",
            data={**params, "response_mode": "form_post", "csrf_token": csrf, "decision": decision},
        )
        assert_error_page(r, uri)


async def test_an_unregistered_uri_is_never_used_even_with_form_post(client: httpx.AsyncClient) -> None:
    app = (await register(client, CALLBACK)).json()
    for bad_type in ("code", "nope"):
        r = await client.get(
            "/oauth/authorize",
            params={
                "client_id": app["client_id"],
                "redirect_uri": "https://evil.example/cb",
                "response_type": bad_type,
                "response_mode": "form_post",
            },
        )
        assert_error_page(r, "https://evil.example/cb")


async def test_form_post_has_no_inline_script_and_allows_only_its_target(client: httpx.AsyncClient) -> None:
    app = (await register(client, CALLBACK)).json()
    r = await client.get(
        "/oauth/authorize",
        params={
            "client_id": app["client_id"],
            "redirect_uri": CALLBACK,
            "response_type": "nope",
            "response_mode": "form_post",
            "state": "s",
        },
    )
    assert r.status_code == 200
    page = forms(r.text)
    assert page.actions == [CALLBACK]
    assert page.inline_scripts == 0
    assert '<script src="/static/form_post.js"' in r.text
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'self'" in csp
    form_action = next(d for d in csp.split(";") if d.strip().startswith("form-action"))
    assert form_action.split()[1:] == ["'self'", "https://client.example"]
    js = await client.get("/static/form_post.js")
    assert js.status_code == 200 and "submit()" in js.text
