"""A reader visits a profile in Chromium, in French, follows it and sees the button change; the page
runs under the strict Content-Security-Policy without a single violation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import docs_screenshots
from tests.clients.conftest import PASSWORD, Server

pytestmark = pytest.mark.clients


def token_of(server: Server, name: str) -> str:
    app = httpx.post(
        server.base_url + "/api/v1/apps",
        data={"client_name": "test", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read write"},
    ).json()
    r = httpx.post(
        server.base_url + "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": f"{name}@asso.example",
            "password": PASSWORD,
            "scope": "read write",
        },
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def test_follow_from_a_profile_in_french(
    browser: Browser, server: Server, unique: Callable[[str], str], tmp_path: Path
) -> None:
    poet, reader = unique("poet"), unique("reader")
    for name in (poet, reader):
        made = server.cordee(
            "user",
            "create",
            name,
            "--email",
            f"{name}@asso.example",
            "--password",
            PASSWORD,
            "--locale",
            "fr",
        )
        assert made.returncode == 0, made.stderr
    auth = {"Authorization": f"Bearer {token_of(server, poet)}"}
    httpx.patch(
        server.base_url + "/api/v1/accounts/update_credentials",
        data={"display_name": "Le Poète", "note": "Des vers, le matin."},
        headers=auth,
    ).raise_for_status()
    httpx.post(
        server.base_url + "/api/v1/statuses",
        data={"status": "Le vent se lève, il faut tenter de vivre. #poésie"},
        headers=auth,
    ).raise_for_status()

    context = browser.new_context(locale="fr-FR", viewport={"width": 900, "height": 1000})
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        page.goto(f"{server.base_url}/@{poet}")  # readable without an account
        expect(page.get_by_role("heading", name="Le Poète", exact=True)).to_be_visible()
        expect(page.get_by_text("Le vent se lève")).to_be_visible()
        page.get_by_role("link", name="Se connecter pour suivre").click()
        page.get_by_label("Adresse de courriel ou nom d’utilisateur").fill(reader)
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        page.goto(f"{server.base_url}/@{poet}")
        page.get_by_role("button", name="Suivre", exact=True).click()
        expect(page.get_by_role("button", name="Ne plus suivre")).to_be_visible()
        expect(page.get_by_text("Vous suivez ce compte.")).to_be_visible()
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        page.screenshot(path=str(docs_screenshots(tmp_path) / "profile.png"), full_page=True)
        page.get_by_role("button", name="Ne plus suivre").click()
        expect(page.get_by_role("button", name="Suivre", exact=True)).to_be_visible()
    finally:
        context.close()
    assert violations == []


def test_notifications_arrive_live(browser: Browser, server: Server, unique: Callable[[str], str]) -> None:
    """The notifications page gets new ones without a reload, through the home page's live mechanism."""
    watched, fan = unique("watched"), unique("fan")
    for name in (watched, fan):
        made = server.cordee(
            "user", "create", name, "--email", f"{name}@asso.example", "--password", PASSWORD
        )
        assert made.returncode == 0, made.stderr
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        page.goto(f"{server.base_url}/auth/sign_in?next=/notifications")
        page.get_by_label("E-mail address or username").fill(watched)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
        page.wait_for_timeout(300)  # the stream is open
        fan_auth = {"Authorization": f"Bearer {token_of(server, fan)}"}
        found = httpx.get(
            server.base_url + "/api/v1/accounts/lookup", params={"acct": watched}, headers=fan_auth
        ).json()
        httpx.post(
            f"{server.base_url}/api/v1/accounts/{found['id']}/follow", headers=fan_auth
        ).raise_for_status()
        expect(page.locator("li.notification-follow")).to_have_count(1, timeout=5000)
        expect(page.get_by_text("followed you")).to_be_visible()
    finally:
        context.close()
    assert violations == []
