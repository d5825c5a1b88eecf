"""A new person signs up on the web page, then lets an app use their account (OAuth, oob)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.clients.conftest import Server

pytestmark = pytest.mark.clients
OOB = "urn:ietf:wg:oauth:2.0:oob"


def test_sign_up_then_authorize_an_app(
    page: Page, server: Server, unique: Callable[[str], str], tmp_path: Path
) -> None:
    name = unique("walker")
    page.goto(server.base_url + "/")
    page.get_by_role("link", name="Create an account").first.click()
    page.get_by_label("Username").fill(name)
    page.get_by_label("E-mail address").fill(f"{name}@asso.example")
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Create my account").click()
    # One field is wrong: a readable message, and what was typed is kept.
    expect(page.get_by_role("alert").first).to_be_visible()
    expect(page.get_by_label("Username")).to_have_value(name)
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_text(f"@{name}").first).to_be_visible()

    app = httpx.post(
        server.base_url + "/api/v1/apps",
        data={"client_name": "Wall screen", "redirect_uris": OOB, "scopes": "read write"},
    ).json()
    query = {
        "response_type": "code",
        "client_id": app["client_id"],
        "redirect_uri": OOB,
        "scope": "read write",
    }
    page.goto(server.base_url + "/oauth/authorize?" + urlencode(query))
    expect(page.get_by_text("Wall screen").first).to_be_visible()
    page.screenshot(path=str(tmp_path / "consent.png"))
    page.get_by_role("button", name="Authorize").click()
    code = page.locator("#authorization-code").inner_text().strip()
    token = httpx.post(
        server.base_url + "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": OOB,
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
        },
    ).json()
    me = httpx.get(
        server.base_url + "/api/v1/accounts/verify_credentials",
        headers={"Authorization": f"Bearer {token['access_token']}"},
    ).json()
    assert me["username"] == name and token["scope"] == "read write"


def test_pages_speak_french(page: Page, server: Server) -> None:
    page.goto(server.base_url + "/auth/sign_in?lang=fr")
    assert page.locator("html").get_attribute("lang") == "fr"
    expect(page.get_by_role("button", name="Se connecter")).to_be_visible()
    page.get_by_label("Adresse de courriel ou nom d’utilisateur").fill("personne")
    page.get_by_label("Mot de passe").fill("mauvais mot de passe")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("alert").first).to_be_visible()
