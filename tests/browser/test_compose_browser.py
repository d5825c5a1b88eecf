"""The compose box's poll, images and editing in a real Chromium, and the main pages' screenshots.

One person composes a poll and a note with two described images through the page (axe measured
with every part of the box open), another votes from the note and sees the results swapped in
without a reload, and the author edits a note, which then shows "edited". Then a screenshot of each
main page (kept in docs/screenshots with ``CORDEE_SCREENSHOTS=docs``), and the main navigation on a
phone-sized screen: every link reachable, nothing wider than the screen. One test, so that the
people (and their sign-ins) are made once."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import docs_screenshots
from tests.browser.test_web_app import Person, browser, people, shots  # noqa: F401  (fixtures)
from tests.support.axe import serious_violations

pytestmark = pytest.mark.clients


def _image(folder: Path, name: str, colour: tuple[int, int, int]) -> Path:
    out = io.BytesIO()
    Image.new("RGB", (120, 80), colour).save(out, "PNG")
    path = folder / name
    path.write_bytes(out.getvalue())
    return path


def _shot(page: Page, folder: Path, name: str) -> None:
    """A screenshot of the visible part of the page, kept small for docs/ (no full-page capture, a
    256-colour palette: text and flat colours lose nothing visible)."""
    path = docs_screenshots(folder) / name
    page.screenshot(path=str(path))
    Image.open(path).convert("RGB").quantize(256).save(path, optimize=True)


def test_poll_images_vote_and_edit_then_the_main_pages(
    browser: Browser,  # noqa: F811  (the module's fixture)
    people: Callable[..., Person],  # noqa: F811
    shots: Path,  # noqa: F811
) -> None:
    """One test for all of it: the people, the server and the browser are made once."""
    author, voter = people("pollster"), people("voter")
    found = voter.api("GET", "/api/v1/accounts/lookup", params={"acct": author.name})
    voter.api("POST", f"/api/v1/accounts/{found['id']}/follow")
    hello = author.api(
        "POST", "/api/v1/statuses", data={"status": f"Hello @{voter.name}, rope at 7? #cordee"}
    )
    voter.api("POST", f"/api/v1/statuses/{hello['id']}/favourite")
    voter.api("POST", "/api/v1/lists", data={"title": "Rope team"})
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    voter.api(
        "POST", "/api/v1/statuses", data={"status": "Dawn start: bring a headlamp", "scheduled_at": tomorrow}
    )
    page = author.page
    page.set_viewport_size({"width": 900, "height": 1100})
    page.goto(author.server.base_url + "/compose")
    for summary in ("Add images", "Add a poll", "Publish later"):
        page.get_by_text(summary, exact=True).click()
    expect(page.get_by_label("Choice 1")).to_be_visible()
    # The reader's zone, sent by the page's script (Playwright's default is the machine's).
    assert page.locator("input[name=timezone]").input_value() != ""
    assert serious_violations(page) == []

    page.get_by_label("What's on your mind?").fill("Which summit on Sunday?")
    page.get_by_label("Choice 1").fill("Grande Casse")
    page.get_by_label("Choice 2").fill("Dent Parrachée")
    page.get_by_label("Open for").select_option(label="1 day")
    page.get_by_text("Add images", exact=True).click()  # closed again: the poll in the screenshot
    _shot(page, shots, "web-compose-poll.png")
    page.get_by_role("button", name="Publish").click()
    page.wait_for_url("**/home#note-*")
    poll_note = page.locator("article.note", has_text="Which summit on Sunday?")
    expect(poll_note.locator(".poll li")).to_have_count(2)

    page.goto(author.server.base_url + "/compose")
    page.get_by_text("Add images", exact=True).click()
    page.get_by_label("What's on your mind?").fill("The two faces")
    page.locator("#compose-media-1").set_input_files(str(_image(shots, "north.png", (40, 60, 160))))
    page.locator("#compose-alt-1").fill("The north face in shadow")
    page.locator("#compose-media-2").set_input_files(str(_image(shots, "south.png", (220, 170, 60))))
    page.locator("#compose-alt-2").fill("The south face in the sun")
    page.get_by_role("button", name="Publish").click()
    page.wait_for_url("**/home#note-*")
    pictures = page.locator("article.note", has_text="The two faces")
    expect(pictures.get_by_role("img", name="The north face in shadow")).to_be_visible()
    expect(pictures.get_by_role("img", name="The south face in the sun")).to_be_visible()

    # The other person votes from the note's page: the results replace the form, no reload.
    note_id = poll_note.get_attribute("data-id")
    other = voter.page
    other.goto(f"{voter.server.base_url}/@{author.name}/{note_id}")
    other.evaluate("window.stillTheSamePage = true")
    other.get_by_label("Dent Parrachée").check()
    other.get_by_role("button", name="Vote").click()
    shown = other.locator(f"#note-{note_id}")
    expect(shown.get_by_text("1 vote in all")).to_be_visible()
    expect(shown.locator(".poll li", has_text="Dent Parrachée")).to_contain_text("(your choice)")
    expect(shown.get_by_role("button", name="Vote")).to_have_count(0)
    assert other.evaluate("window.stillTheSamePage") is True
    _shot(other, shots, "web-note.png")

    # The author edits the note with images: its page then says it was edited.
    pictures.get_by_role("link", name="Edit").click()
    page.wait_for_url("**/notes/*/edit")
    assert serious_violations(page) == []
    page.get_by_label("Text").fill("The two faces of the Grande Casse")
    page.get_by_role("button", name="Save the changes").click()
    page.wait_for_url(f"**/@{author.name}/*")
    edited = page.locator("article.note", has_text="The two faces of the Grande Casse")
    expect(edited.get_by_text("(edited)")).to_be_visible()
    expect(edited.get_by_role("img", name="The north face in shadow")).to_be_visible()
    _main_pages(browser, voter, author, shots)
    assert author.problems == [] and voter.problems == []


def _main_pages(chromium: Browser, reader: Person, friend: Person, folder: Path) -> None:
    """A screenshot of each main page, and the main navigation on a phone-sized screen."""
    base = reader.server.base_url
    page = reader.page
    page.set_viewport_size({"width": 1000, "height": 800})
    for path, name in (
        ("/home", "web-home.png"),
        (f"/@{friend.name}", "web-profile.png"),
        ("/notifications", "web-notifications.png"),
        ("/search?q=summit", "web-search.png"),
        ("/lists", "web-lists.png"),
        ("/settings/profile", "web-settings.png"),
        ("/widget", "web-widget-builder.png"),
        ("/scheduled", "web-scheduled.png"),
    ):
        page.goto(base + path)
        expect(page.locator("main h1").first).to_be_visible()
        _shot(page, folder, name)
    assert serious_violations(page) == []  # the scheduled notes page, new here
    anonymous = chromium.new_context(locale="en-GB")
    visitor = anonymous.new_page()
    visitor.set_viewport_size({"width": 1000, "height": 800})
    visitor.goto(f"{base}/@{friend.name}")
    expect(visitor.locator("article.note").first).to_be_visible()
    _shot(visitor, folder, "web-public-profile.png")
    anonymous.close()

    # The main navigation on a phone: every reader page is one tap away, nothing overflows.
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(base + "/home")
    nav = page.get_by_role("navigation", name="Main")
    for label in (
        "Home",
        "Write",
        "Notifications",
        "Search",
        "Bookmarks",
        "Lists",
        "Follow requests",
        "Scheduled notes",
        "Blog widget",
        "Campaigns",
        "Settings",
    ):
        expect(nav.get_by_role("link", name=label, exact=True)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    _shot(page, folder, "web-nav-phone.png")
    nav.get_by_role("link", name="Blog widget").click()
    page.wait_for_url("**/widget")
