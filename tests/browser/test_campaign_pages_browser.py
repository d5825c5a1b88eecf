"""The campaign pages in a real Chromium, signed in as the organiser who sees every form, in
French: no serious accessibility violation (axe), no console error, no CSP violation."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser

from tests.clients.conftest import Server
from tests.support.axe import serious_violations
from tests.support.running import register

pytestmark = pytest.mark.clients
PASSWORD = "a long password"  # what tests.support.running.register gives


def test_campaign_pages_have_no_serious_accessibility_violation(
    browser: Browser, server: Server, unique: Callable[[str], str]
) -> None:
    name = unique("organiser")
    headers = register(server.base_url, name, locale="fr")

    def api(method: str, path: str, **kw: Any) -> Any:
        r = httpx.request(method, server.base_url + path, headers=headers, **kw)
        assert r.status_code < 400, r.text
        return r.json()

    tag = unique("Refuges")
    campaign = api(
        "POST",
        "/api/v1/campaigns",
        json={"title": "Nuit des refuges", "hashtag": tag, "goal_cents": 500_000, "currency": "EUR"},
    )
    ch = api(
        "POST",
        f"/api/v1/campaigns/{campaign['id']}/chapters",
        json={
            "city": "Grenoble",
            "venue": "La Bastille",
            "starts_at": "2027-02-12T19:00:00+01:00",
            "time_zone": "Europe/Paris",
            "hashtag": unique("RefugesGrenoble"),
            "currency": "EUR",
            "locale": "fr_FR",
            "capacity": 120,
        },
    )["id"]
    tier = api("POST", f"/api/v1/chapters/{ch}/tiers", json={"name": "Entrée", "price_cents": 1200})
    api("POST", f"/api/v1/chapters/{ch}/tickets", json={"tier_id": tier["id"]})  # the attendees' table
    api(
        "POST",
        f"/api/v1/chapters/{ch}/ledger",
        json={"kind": "donation", "amount_cents": 2500, "currency": "EUR"},
    )
    commitment = hashlib.sha256(b"seed").hexdigest()
    api(
        "POST",
        f"/api/v1/chapters/{ch}/raffle",
        json={"price_cents": 200, "prizes": 1, "commitment": commitment},
    )
    api("POST", "/api/v1/statuses", data={"status": f"Ça commence ! #{tag}"})

    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"{m.text} {m.location}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(server.base_url + "/auth/sign_in?next=/campaigns")
    page.locator("input[name=login]").fill(name)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form[action='/auth/sign_in'] button[type=submit]").click()
    page.wait_for_url("**/campaigns")
    found: dict[str, list[dict[str, Any]]] = {}
    for path in (
        "/campaigns",
        f"/campaigns/{campaign['id']}",
        f"/campaigns/{campaign['id']}/report",
        f"/chapters/{ch}",
        f"/chapters/{ch}/door",
        f"/chapters/{ch}/wall",
    ):
        page.goto(server.base_url + path)
        assert page.locator("html").get_attribute("lang") == "fr", path
        found[path] = serious_violations(page)
    assert {path: v for path, v in found.items() if v} == {}
    assert problems == []
    context.close()
