"""The live wall on a real server: a note posted after the wall opened appears on it, the running
total follows the ledger, and a note an organiser hides leaves the wall at once; and the wall
comes back by itself after the server restarts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Route, expect

from tests.clients.conftest import Server
from tests.support.running import launch, register

pytestmark = pytest.mark.clients


def _api(server: Server | str, headers: dict[str, str], method: str, path: str, **kw: Any) -> Any:
    base = server if isinstance(server, str) else server.base_url
    r = httpx.request(method, base + path, headers=headers, **kw)
    assert r.status_code < 400, r.text
    return r.json()


def _night(server: Server | str, org: dict[str, str], tag: str, local: str) -> tuple[dict[str, Any], int]:
    """A campaign with hashtag ``tag`` and its Lyon chapter with hashtag ``local``, by ``org``."""
    campaign = _api(
        server,
        org,
        "POST",
        "/api/v1/campaigns",
        json={"title": "Night", "hashtag": tag, "goal_cents": 100_000, "currency": "EUR"},
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
            "hashtag": local,
            "currency": "EUR",
            "locale": "fr_FR",
        },
    )
    return campaign, int(chapter["id"])


def test_the_wall_shows_new_notes_and_totals_live_and_drops_hidden_ones(
    server: Server, unique: Callable[[str], str], browser: Browser
) -> None:
    organiser, fan = unique("wallorg"), unique("fan")
    org, fan_headers = register(server.base_url, organiser), register(server.base_url, fan)
    tag, local = unique("Wall"), unique("WallLyon")
    campaign, ch = _night(server, org, tag, local)
    before = _api(server, fan_headers, "POST", "/api/v1/statuses", data={"status": f"warming up #{tag}"})

    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server.base_url}/chapters/{ch}/wall")
    notes = page.locator("#wall-notes li")
    expect(notes).to_have_count(1)
    expect(notes.first).to_contain_text("warming up")

    live = _api(server, fan_headers, "POST", "/api/v1/statuses", data={"status": f"on stage now! #{local}"})
    expect(notes).to_have_count(2)
    expect(notes.first).to_contain_text("on stage now!")
    _api(server, fan_headers, "POST", "/api/v1/statuses", data={"status": "no hashtag here"})
    _api(
        server,
        org,
        "POST",
        f"/api/v1/chapters/{ch}/ledger",
        json={"kind": "donation", "amount_cents": 123456, "currency": "EUR"},
    )
    expect(page.locator("#wall-chapter-raised")).to_contain_text("1 234,56")  # fr_FR: the chapter's locale
    expect(page.locator("#wall-campaign-raised")).to_contain_text("€1,234.56")  # the page's language

    r = httpx.post(
        f"{server.base_url}/api/v1/chapters/{ch}/wall/hidden",
        data={"status_id": live["id"]},
        headers=fan_headers,
    )
    assert r.status_code == 403  # only the chapter's organisers
    _api(server, org, "POST", f"/api/v1/chapters/{ch}/wall/hidden", data={"status_id": live["id"]})
    expect(notes).to_have_count(1)
    expect(notes.first).to_contain_text("warming up")
    assert before["id"] == notes.first.get_attribute("data-id")
    page.reload()  # and it stays hidden
    expect(notes).to_have_count(1)
    button = page.get_by_role("button", name="Full screen")  # for the venue's screen
    button.click()
    page.wait_for_function("document.fullscreenElement !== null")
    expect(button).to_be_hidden()
    assert errors == []
    context.close()


def test_the_wall_reconnects_by_itself_and_catches_up_after_a_restart(
    tmp_path: Path, browser: Browser
) -> None:
    """A screen left alone: the server restarts while a proxy answers 502 for the stream (which
    makes a bare EventSource give up for good). The wall comes back by itself, shows the note posted
    meanwhile, drops the note hidden meanwhile, and has the right total."""
    first = launch(tmp_path)
    second = None
    try:
        base = first.base_url
        org, fan = register(base, "wallorg"), register(base, "fan")

        def api(headers: dict[str, str], method: str, path: str, **kw: Any) -> Any:
            r = httpx.request(method, base + path, headers=headers, **kw)
            assert r.status_code < 400, r.text
            return r.json()

        campaign, ch = _night(base, org, "Night", "NightLyon")
        api(fan, "POST", "/api/v1/statuses", data={"status": "before the cut #Night"})
        doomed = api(fan, "POST", "/api/v1/statuses", data={"status": "to be hidden #NightLyon"})

        context = browser.new_context(locale="en-GB")
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{base}/chapters/{ch}/wall")
        notes = page.locator("#wall-notes li")
        expect(notes).to_have_count(2)

        refused: list[str] = []

        def bad_gateway(route: Route) -> None:
            refused.append(route.request.url)
            route.fulfill(status=502, body="Bad gateway")

        page.route("**/wall/stream", bad_gateway)
        thermometer = context.new_page()  # the campaign page's thermometer rides the same cut
        thermometer.on("pageerror", lambda e: errors.append(str(e)))
        thermometer.goto(f"{base}/campaigns/{campaign['id']}")
        raised = thermometer.locator("[data-raised]")
        expect(raised).to_have_text("€0.00")
        thermometer.route("**/stream", bad_gateway)
        first.stop()
        expect(page.locator("#wall-status")).to_have_text("…")
        second = launch(tmp_path, first.data_dir, port=int(base.rsplit(":", 1)[1]))
        api(fan, "POST", "/api/v1/statuses", data={"status": "while you were away #NightLyon"})
        api(org, "POST", f"/api/v1/chapters/{ch}/wall/hidden", data={"status_id": doomed["id"]})
        api(
            org,
            "POST",
            f"/api/v1/chapters/{ch}/ledger",
            json={"kind": "donation", "amount_cents": 500, "currency": "EUR"},
        )
        for _ in range(200):  # the wall keeps trying through the 502s
            if len(refused) >= 2:
                break
            page.wait_for_timeout(100)
        assert len(refused) >= 2
        page.unroute("**/wall/stream")
        thermometer.unroute("**/stream")
        expect(raised).to_have_text("€5.00", timeout=30_000)

        expect(notes).to_have_count(2, timeout=30_000)
        expect(notes.first).to_contain_text("while you were away")
        expect(notes.last).to_contain_text("before the cut")
        expect(page.locator("#wall-chapter-raised")).to_contain_text("5,00")
        expect(page.locator("#wall-status")).to_have_text("")
        api(fan, "POST", "/api/v1/statuses", data={"status": "live again #Night"})  # and it is live
        expect(notes.first).to_contain_text("live again")
        assert errors == []
        context.close()
    finally:
        first.stop()
        if second is not None:
            second.stop()


def test_moderation_before_from_the_organisers_wall(
    server: Server, unique: Callable[[str], str], browser: Browser
) -> None:
    """A chapter moderated before: a new note reaches its organiser's queue live, not the screen;
    "Show on the wall" puts it on the screen, "Hide from the wall" takes it off, both at once."""
    organiser, fan = unique("wallmod"), unique("fan")
    org, fan_headers = register(server.base_url, organiser), register(server.base_url, fan)
    tag, local = unique("Mod"), unique("ModLyon")
    campaign, ch = _night(server, org, tag, local)
    _api(server, org, "POST", f"/api/v1/chapters/{ch}/wall_moderation", json={"moderation": "before"})

    screen_context, desk_context = browser.new_context(locale="en-GB"), browser.new_context(locale="en-GB")
    screen, desk = screen_context.new_page(), desk_context.new_page()
    errors: list[str] = []
    for p in (screen, desk):
        p.on("pageerror", lambda e: errors.append(str(e)))
    desk.goto(f"{server.base_url}/auth/sign_in?next=/chapters/{ch}/wall")
    desk.locator("input[name=login]").fill(organiser)
    desk.locator("input[name=password]").fill("a long password")
    desk.locator("form[action='/auth/sign_in'] button[type=submit]").click()
    desk.wait_for_url(f"**/chapters/{ch}/wall")
    screen.goto(f"{server.base_url}/chapters/{ch}/wall")
    queue, on_desk, on_screen = (
        desk.locator("#wall-queue li"),
        desk.locator("#wall-notes li"),
        screen.locator("#wall-notes li"),
    )
    expect(screen.locator("#wall-status")).to_have_text("")  # both streams are open
    expect(desk.locator("#wall-status")).to_have_text("")

    _api(server, fan_headers, "POST", "/api/v1/statuses", data={"status": f"hello Lyon #{local}"})
    expect(queue).to_have_count(1)
    expect(queue.first).to_contain_text("hello Lyon")
    screen.wait_for_timeout(500)
    expect(on_screen).to_have_count(0)  # waits for an organiser

    queue.first.get_by_role("button", name="Show on the wall").click()
    expect(queue).to_have_count(0)
    expect(on_screen).to_have_count(1)
    expect(on_screen.first).to_contain_text("hello Lyon")
    expect(on_desk).to_have_count(1)

    on_desk.first.get_by_role("button", name="Hide from the wall").click()
    expect(on_screen).to_have_count(0)
    expect(on_desk).to_have_count(0)
    assert errors == []
    screen_context.close()
    desk_context.close()
