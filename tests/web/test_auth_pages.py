"""The web pages: sign-in, sign-up, the OAuth authorization page (with PKCE), languages.

Forms are read from the HTML the way a browser would submit them (hidden fields included), so the
CSRF token and the authorization parameters travel exactly as they do for a person.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from cordee.app import build_app
from cordee.config import Settings
from cordee.db.engine import Database
from cordee.web.i18n import LANGUAGES, catalog_path, translations

if TYPE_CHECKING:  # imported by name at run time, pytest would try to collect it as a test class
    from tests.conftest import ApiUser as TestUser

OOB = "urn:ietf:wg:oauth:2.0:oob"
CALLBACK = "https://client.example/callback"
WEB_DIR = Path(__file__).resolve().parents[2] / "src" / "cordee" / "web"


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)


class FormReader(HTMLParser):
    """Collects forms and their hidden inputs, and the text of the element with a given id."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.by_id: dict[str, str] = {}
        self._open_id: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
        elif tag == "input" and self.forms and a.get("type") == "hidden":
            self.forms[-1].fields[a["name"]] = a.get("value", "")
        if "id" in a:
            self._open_id = a["id"]
            self.by_id[a["id"]] = ""

    def handle_data(self, data: str) -> None:
        if self._open_id is not None:
            self.by_id[self._open_id] += data

    def handle_endtag(self, tag: str) -> None:
        self._open_id = None


def read(html: str) -> FormReader:
    reader = FormReader()
    reader.feed(html)
    return reader


def form_to(html: str, action: str) -> Form:
    return next(f for f in read(html).forms if f.action == action and f.method == "post")


async def register(
    client: httpx.AsyncClient, uri: str = CALLBACK, scopes: str = "read write"
) -> dict[str, Any]:
    r = await client.post(
        "/api/v1/apps", json={"client_name": "Phanpy", "redirect_uris": uri, "scopes": scopes}
    )
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


async def sign_in(client: httpx.AsyncClient, user: TestUser, next_url: str = "/") -> None:
    page = await client.get("/auth/sign_in", params={"next": next_url})
    form = form_to(page.text, "/auth/sign_in")
    r = await client.post(
        "/auth/sign_in", data={**form.fields, "login": user.email, "password": user.password}
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"] == next_url


async def consent(
    client: httpx.AsyncClient, params: dict[str, str], decision: str = "authorize"
) -> httpx.Response:
    page = await client.get("/oauth/authorize", params=params)
    assert page.status_code == 200, page.text
    form = form_to(page.text, "/oauth/authorize")
    return await client.post("/oauth/authorize", data={**form.fields, "decision": decision})


@asynccontextmanager
async def client_with(settings: Settings, db: Database, **changes: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(replace(settings, **changes), database=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://cordee.test") as c:
        yield c


# --- the authorization-code flow ------------------------------------------------------------------


async def test_authorization_code_flow_with_pkce(client: httpx.AsyncClient, alice: TestUser) -> None:
    app = await register(client)
    verifier, challenge = pkce()
    params = {
        "response_type": "code",
        "client_id": app["client_id"],
        "redirect_uri": CALLBACK,
        "scope": "read",
        "state": "xyz 1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }

    page = await client.get("/oauth/authorize", params=params)
    assert page.status_code == 200
    assert 'name="login"' in page.text and "Phanpy" in page.text  # not signed in yet: the sign-in form
    sign_in_form = form_to(page.text, "/auth/sign_in")
    assert sign_in_form.fields["next"].startswith("/oauth/authorize?")
    r = await client.post(
        "/auth/sign_in", data={**sign_in_form.fields, "login": alice.email, "password": alice.password}
    )
    assert r.status_code == 303
    back = r.headers["location"]
    assert back == sign_in_form.fields["next"]

    page = await client.get(back)
    assert page.status_code == 200
    assert "Phanpy" in page.text and "read" in page.text and "@alice" in page.text
    assert page.headers["x-frame-options"] == "DENY"
    form = form_to(page.text, "/oauth/authorize")
    r = await client.post("/oauth/authorize", data={**form.fields, "decision": "authorize"})
    assert r.status_code == 302
    location = urlsplit(r.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    query = parse_qs(location.query)
    assert query["state"] == ["xyz 1"]
    code = query["code"][0]

    exchange = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "code_verifier": verifier,
    }
    token = await client.post("/oauth/token", data=exchange)
    assert token.status_code == 200, token.text
    assert token.json()["scope"] == "read"
    access = token.json()["access_token"]
    me = await client.get("/api/v1/apps/verify_credentials", headers={"Authorization": f"Bearer {access}"})
    assert me.status_code == 200

    reused = await client.post("/oauth/token", data=exchange)
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"


async def test_pkce_verifier_must_match(client: httpx.AsyncClient, alice: TestUser) -> None:
    app = await register(client)
    _, challenge = pkce()
    await sign_in(client, alice)
    r = await consent(
        client,
        {
            "response_type": "code",
            "client_id": app["client_id"],
            "redirect_uri": CALLBACK,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )
    code = parse_qs(urlsplit(r.headers["location"]).query)["code"][0]
    token = await client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": "x" * 50,
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
        },
    )
    assert token.status_code == 400
    assert token.json()["error"] == "invalid_grant"


async def test_oob_shows_the_code(client: httpx.AsyncClient, alice: TestUser) -> None:
    app = await register(client, uri=OOB)
    await sign_in(client, alice)
    r = await consent(client, {"response_type": "code", "client_id": app["client_id"], "redirect_uri": OOB})
    assert r.status_code == 200
    code = read(r.text).by_id["authorization-code"].strip()
    assert code
    token = await client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": OOB,
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
        },
    )
    assert token.status_code == 200, token.text
    assert token.json()["scope"] == "read"  # no scope asked: read, as in Mastodon


async def test_deny_goes_back_with_access_denied(client: httpx.AsyncClient, alice: TestUser) -> None:
    app = await register(client)
    await sign_in(client, alice)
    r = await consent(
        client,
        {"response_type": "code", "client_id": app["client_id"], "redirect_uri": CALLBACK, "state": "s1"},
        decision="deny",
    )
    assert r.status_code == 302
    query = parse_qs(urlsplit(r.headers["location"]).query)
    assert query["error"] == ["access_denied"] and query["state"] == ["s1"]
    assert "code" not in query


async def test_unknown_client_or_redirect_uri_is_an_error_page(client: httpx.AsyncClient) -> None:
    app = await register(client)
    unknown = await client.get(
        "/oauth/authorize", params={"response_type": "code", "client_id": "nope", "redirect_uri": CALLBACK}
    )
    assert unknown.status_code == 400
    assert "text/html" in unknown.headers["content-type"]
    assert "Unknown application" in unknown.text
    elsewhere = await client.get(
        "/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": app["client_id"],
            "redirect_uri": "https://evil.example/cb",
        },
    )
    assert elsewhere.status_code == 400
    assert "location" not in elsewhere.headers
    assert 'href="https://evil.example' not in elsewhere.text


async def test_errors_after_the_redirect_uri_is_known_go_back_to_the_app(client: httpx.AsyncClient) -> None:
    app = await register(client, scopes="read")
    r = await client.get(
        "/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": app["client_id"],
            "redirect_uri": CALLBACK,
            "scope": "write",
            "state": "abc",
        },
    )
    assert r.status_code == 302
    query = parse_qs(urlsplit(r.headers["location"]).query)
    assert query["error"] == ["invalid_scope"] and query["state"] == ["abc"]
    bad_type = await client.get(
        "/oauth/authorize",
        params={"response_type": "token", "client_id": app["client_id"], "redirect_uri": CALLBACK},
    )
    assert parse_qs(urlsplit(bad_type.headers["location"]).query)["error"] == ["unsupported_response_type"]


async def test_force_login_shows_the_sign_in_form(client: httpx.AsyncClient, alice: TestUser) -> None:
    app = await register(client)
    await sign_in(client, alice)
    r = await client.get(
        "/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": app["client_id"],
            "redirect_uri": CALLBACK,
            "force_login": "true",
        },
    )
    assert r.status_code == 200
    form = form_to(r.text, "/auth/sign_in")
    assert "force_login" not in form.fields["next"]  # signing in leads to the consent page, not a loop


async def test_consent_post_needs_the_csrf_token(client: httpx.AsyncClient, alice: TestUser) -> None:
    app = await register(client)
    await sign_in(client, alice)
    r = await client.post(
        "/oauth/authorize",
        data={
            "response_type": "code",
            "client_id": app["client_id"],
            "redirect_uri": CALLBACK,
            "decision": "authorize",
        },
    )
    assert r.status_code == 400
    assert "location" not in r.headers


# --- signing in, up and out -----------------------------------------------------------------------


async def test_sign_in_needs_csrf_and_the_right_password(client: httpx.AsyncClient, alice: TestUser) -> None:
    no_token = await client.post("/auth/sign_in", data={"login": alice.email, "password": alice.password})
    assert no_token.status_code == 400
    page = await client.get("/auth/sign_in")
    form = form_to(page.text, "/auth/sign_in")
    wrong = await client.post(
        "/auth/sign_in", data={**form.fields, "login": "alice", "password": "wrong pass"}
    )
    assert wrong.status_code == 422
    assert 'role="alert"' in wrong.text and "incorrect" in wrong.text
    assert 'aria-describedby="form-error"' in wrong.text
    ok = await client.post(
        "/auth/sign_in", data={**form.fields, "login": "alice", "password": alice.password}
    )
    assert ok.status_code == 303
    home = await client.get("/", follow_redirects=True)  # "/" is the home timeline once signed in
    assert '<span class="who">@alice</span>' in home.text
    out = form_to(home.text, "/auth/sign_out")
    assert (await client.post("/auth/sign_out", data=out.fields)).status_code == 303
    assert '<span class="who">@alice</span>' not in (await client.get("/", follow_redirects=True)).text


async def test_sign_in_refuses_an_off_site_next(client: httpx.AsyncClient, alice: TestUser) -> None:
    page = await client.get("/auth/sign_in", params={"next": "//evil.example/x"})
    form = form_to(page.text, "/auth/sign_in")
    assert form.fields["next"] == "/"
    r = await client.post(
        "/auth/sign_in",
        data={
            **form.fields,
            "next": "https://evil.example",
            "login": alice.email,
            "password": alice.password,
        },
    )
    assert r.headers["location"] == "/"


async def test_sign_up_in_open_mode_then_password_grant(client: httpx.AsyncClient) -> None:
    page = await client.get("/auth/sign_up")
    assert page.status_code == 200
    for name in ("username", "email", "password"):
        assert f'<label for="{name}">' in page.text and f'id="{name}"' in page.text
    form = form_to(page.text, "/auth/sign_up")
    r = await client.post(
        "/auth/sign_up",
        data={**form.fields, "username": "dora", "email": "dora@example.org", "password": "a long password"},
    )
    assert r.status_code == 303, r.text
    home = await client.get("/", follow_redirects=True)
    assert '<span class="who">@dora</span>' in home.text

    app = await register(client, uri=OOB)
    token = await client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "username": "dora@example.org",
            "password": "a long password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
        },
    )
    assert token.status_code == 200, token.text


async def test_sign_up_shows_each_field_error(client: httpx.AsyncClient, alice: TestUser) -> None:
    page = await client.get("/auth/sign_up")
    form = form_to(page.text, "/auth/sign_up")
    r = await client.post(
        "/auth/sign_up",
        data={**form.fields, "username": "alice", "email": "not-an-email", "password": "short"},
    )
    assert r.status_code == 422
    for name in ("email", "password"):
        assert f'id="{name}-error"' in r.text
        assert re.search(rf'id="{name}"[^>]*aria-describedby="[^"]*{name}-error', r.text)
    assert "too short" in r.text and "valid e-mail" in r.text
    assert 'value="alice"' in r.text and "short" not in form_to(r.text, "/auth/sign_up").fields.values()
    taken = await client.post(
        "/auth/sign_up",
        data={**form.fields, "username": "alice", "email": "other@example.org", "password": "long enough"},
    )
    assert taken.status_code == 422 and "already taken" in taken.text


async def test_sign_up_in_approval_mode_waits(settings: Settings, db: Database) -> None:
    async with client_with(settings, db, registration_mode="approval") as client:
        page = await client.get("/auth/sign_up")
        assert 'name="reason"' in page.text
        form = form_to(page.text, "/auth/sign_up")
        r = await client.post(
            "/auth/sign_up",
            data={
                **form.fields,
                "username": "eve",
                "email": "eve@example.org",
                "password": "a long password",
                "reason": "hello",
            },
        )
        assert r.status_code == 303
        home = await client.get("/")
        assert "approval" in home.text and "@eve@" not in home.text
        app = await register(client, uri=OOB)
        token = await client.post(
            "/oauth/token",
            data={
                "grant_type": "password",
                "username": "eve",
                "password": "a long password",
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
            },
        )
        assert token.status_code == 403


async def test_sign_up_when_closed_is_refused_readably(settings: Settings, db: Database) -> None:
    async with client_with(settings, db, registration_mode="closed") as client:
        page = await client.get("/auth/sign_up")
        assert page.status_code == 403
        assert "Registrations are closed" in page.text and 'name="password"' not in page.text
        posted = await client.post(
            "/auth/sign_up", data={"username": "x", "email": "x@example.org", "password": "a long password"}
        )
        assert posted.status_code == 403
        assert "Create an account" not in (await client.get("/")).text.split("<main")[0]


# --- languages and the catalogs -------------------------------------------------------------------


async def test_french_with_lang_then_remembered(client: httpx.AsyncClient) -> None:
    fr = await client.get("/", params={"lang": "fr"})
    assert '<html lang="fr">' in fr.text and "Se connecter" in fr.text
    again = await client.get("/auth/sign_in")
    assert '<html lang="fr">' in again.text and "Mot de passe" in again.text
    en = await client.get("/", params={"lang": "en"})
    assert '<html lang="en">' in en.text and "Sign in" in en.text


async def test_language_from_accept_language(client: httpx.AsyncClient) -> None:
    r = await client.get("/", headers={"Accept-Language": "de-DE, fr-CA;q=0.8, en;q=0.5"})
    assert '<html lang="fr">' in r.text
    r = await client.get("/", headers={"Accept-Language": "de, fr;q=0"})
    assert '<html lang="en">' in r.text
    assert f'href="/?{urlencode({"lang": "fr"})}"' in r.text


def test_catalogs_are_complete() -> None:
    """Every message in the templates and code is in both catalogs, and translated in French."""
    with (WEB_DIR / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)  # type: ignore[no-untyped-call]
    source = {m[2] for m in extract_from_dir(str(WEB_DIR), method_map, options_map) if isinstance(m[2], str)}
    assert len(source) > 50
    for lang in LANGUAGES:
        with catalog_path(lang).open("rb") as po:
            catalog = read_po(po)
        entries = {m.id: m for m in catalog if m.id}
        assert sorted(source - entries.keys()) == [], (
            f"{lang}: run pybabel extract and update (see web/i18n.py)"
        )
        if lang == "fr":
            assert sorted(m for m in source if not entries[m].string or entries[m].fuzzy) == []
    assert translations("fr").gettext("Sign in") == "Se connecter"
