"""The door page checks ticket codes in the browser with the chapter's public key while the
network is down, queues the scans, and sends them once it is back (the server records them)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.clients.conftest import Server
from tests.support.running import register

pytestmark = pytest.mark.clients
PASSWORD = "a long password"  # what tests.support.running.register gives


def _api(server: Server, headers: dict[str, str], method: str, path: str, **kw: Any) -> Any:
    r = httpx.request(method, server.base_url + path, headers=headers, **kw)
    assert r.status_code < 400, r.text
    return r.json()


def test_the_door_checks_codes_offline_and_syncs_later(
    server: Server, unique: Callable[[str], str], browser: Browser
) -> None:
    organiser, guest = unique("organiser"), unique("guest")
    org, gst = register(server.base_url, organiser), register(server.base_url, guest)
    campaign = _api(
        server,
        org,
        "POST",
        "/api/v1/campaigns",
        json={"title": "Night", "hashtag": unique("Night"), "goal_cents": 100_000, "currency": "EUR"},
    )
    chapter = _api(
        server,
        org,
        "POST",
        f"/api/v1/campaigns/{campaign['id']}/chapters",
        json={
            "city": "Lyon",
            "venue": "Hall",
            "starts_at": "2027-02-12T19:00:00+01:00",
            "time_zone": "Europe/Paris",
            "hashtag": "NightLyon",
            "currency": "EUR",
            "locale": "fr_FR",
        },
    )
    ch = chapter["id"]
    tier = _api(server, org, "POST", f"/api/v1/chapters/{ch}/tiers", json={"name": "RSVP", "price_cents": 0})
    ticket = _api(server, gst, "POST", f"/api/v1/chapters/{ch}/tickets", json={"tier_id": tier["id"]})
    code = ticket["code"]

    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(server.base_url + "/auth/sign_in")
    page.locator("input[name=login]").fill(organiser)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form[action='/auth/sign_in'] button[type=submit]").click()
    page.wait_for_url("**/home")
    page.goto(f"{server.base_url}/chapters/{ch}/door")

    context.set_offline(True)
    result, pending = page.locator("#door-result"), page.locator("#door-pending")
    field = page.locator("#door-code")
    field.fill(code)
    field.press("Enter")
    expect(result).to_have_text("Welcome: ticket valid.")
    forged = code[:-4] + ("AAAA" if not code.endswith("AAAA") else "BBBB")
    field.fill(forged)
    field.press("Enter")
    expect(result).to_have_text("Not a valid ticket for this event.")
    field.fill(code)
    field.press("Enter")
    expect(result).to_have_text("Already scanned on this device: check who is holding it.")
    expect(pending).to_have_text("2")
    assert _api(server, gst, "GET", f"/api/v1/tickets/{ticket['id']}")["checked_in_at"] is None

    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(pending).to_have_text("0")
    expect(page.locator("#door-server li")).to_contain_text("already checked in")  # the second scan, flagged
    assert _api(server, gst, "GET", f"/api/v1/tickets/{ticket['id']}")["checked_in_at"] is not None
    assert [
        e for e in errors if "net::ERR_INTERNET_DISCONNECTED" not in e and "Failed to fetch" not in e
    ] == []
    context.close()
