"""Finding 1 in a real browser: under the strict Content-Security-Policy, the consent page still
reaches the app's registered address (browsers check form-action on the redirect that answers a
form) and form_post still submits itself (from a script file), with no CSP violation; and an app
stored with a ``javascript:`` address runs nothing."""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Callable
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from playwright.sync_api import Dialog, Page, Request, Route, expect

from tests.browser.conftest import browser, page  # noqa: F401  (Chromium fixtures)
from tests.clients.conftest import Server, server, unique  # noqa: F401  (running-server fixtures)

pytestmark = pytest.mark.clients
CALLBACK = "https://client.example/callback"


def sign_in(tab: Page, instance: Server, name: str) -> None:
    password = "a long enough password"
    made = instance.cordee("user", "create", name, "--email", f"{name}@asso.example", "--password", password)
    assert made.returncode == 0, made.stderr
    tab.goto(instance.base_url + "/auth/sign_in")
    tab.get_by_label("E-mail address or username").fill(name)
    tab.get_by_label("Password").fill(password)
    tab.get_by_role("button", name="Sign in").click()
    expect(tab.get_by_text(f"@{name}").first).to_be_visible()


def watch(tab: Page) -> tuple[list[str], list[Request]]:
    """CSP violations in the console, and what reached the app's callback (answered here)."""
    violations: list[str] = []
    arrived: list[Request] = []
    tab.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)

    def callback(route: Route) -> None:
        arrived.append(route.request)
        route.fulfill(status=200, content_type="text/plain", body="back at the app")

    tab.route("https://client.example/**", callback)
    return violations, arrived


def test_consent_and_form_post_reach_the_app_under_the_policy(
    page: Page,  # noqa: F811
    server: Server,  # noqa: F811
    unique: Callable[[str], str],  # noqa: F811
) -> None:
    sign_in(page, server, unique("consenting"))
    violations, arrived = watch(page)
    app = httpx.post(
        server.base_url + "/api/v1/apps",
        data={"client_name": "Web client", "redirect_uris": CALLBACK, "scopes": "read"},
    ).json()
    query = {"response_type": "code", "client_id": app["client_id"], "redirect_uri": CALLBACK, "state": "q1"}

    page.goto(server.base_url + "/oauth/authorize?" + urlencode(query))
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_text("back at the app")).to_be_visible()
    assert parse_qs(urlsplit(arrived[-1].url).query)["state"] == ["q1"]

    page.goto(server.base_url + "/oauth/authorize?" + urlencode({**query, "response_mode": "form_post"}))
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_text("back at the app")).to_be_visible()
    posted = arrived[-1]
    assert posted.method == "POST"
    assert parse_qs(posted.post_data or "")["code"][0]
    assert violations == []


def test_a_stored_javascript_uri_runs_nothing(
    page: Page,  # noqa: F811
    server: Server,  # noqa: F811
    unique: Callable[[str], str],  # noqa: F811
) -> None:
    """The reported chain, replayed against an app saved before registration refused the URI."""
    sign_in(page, server, unique("victim"))
    client_id = secrets.token_urlsafe(16)
    with sqlite3.connect(server.data_dir / "cordee.sqlite3") as db:
        db.execute(
            "INSERT INTO applications (id, name, redirect_uris, scopes, client_id, client_secret, created_at)"
            " VALUES (?, 'Legacy', 'javascript:document.title=\"pwned\"', 'read', ?, 's', CURRENT_TIMESTAMP)",
            (secrets.randbelow(2**53), client_id),
        )
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    query = {
        "response_type": "nope",
        "response_mode": "form_post",
        "client_id": client_id,
        "redirect_uri": 'javascript:document.title="pwned"',
    }
    page.goto(server.base_url + "/oauth/authorize?" + urlencode(query))
    expect(page.get_by_role("heading", name="Invalid return address")).to_be_visible()
    page.wait_for_timeout(300)
    assert page.title() != "pwned" and dialogs == []
