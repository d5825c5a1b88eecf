"""The signed-in web app in a real Chromium: two people in two browser contexts. One reads their
open home page while the other posts: the note appears without a reload. Reply, like and boost
through the page; the counter agrees with the server and turns red past the limit, and the refusal
is readable; the page in French; no Content-Security-Policy violation anywhere."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from cordee.domain.text import weighted_length
from tests.browser.conftest import CHROMIUM, docs_screenshots
from tests.clients.conftest import Server
from tests.support.axe import serious_violations
from tests.support.running import register

pytestmark = pytest.mark.clients
PASSWORD = "a long password"  # what tests.support.running.register gives

#: Strings where counting is easy to get wrong: the page must show exactly the server's number.
CORPUS = [
    "plain text",
    "see https://example.org/a/very/long/path/that/goes/on/and/on?with=query#and-fragment",
    "two https://a.example and http://b.example/x links",
    "no scheme: example.org/path and www.example.com count as typed",
    "IDN https://bücher.example/straße and https://例え.テスト/パス",
    "@alice hello",
    "@alice@social.example.org hello, the domain is free",
    "email-like text: someone@example.org is not a mention",
    "family 👨‍👩‍👧‍👦 and flag 🇫🇷 and skin tone 👍🏽",
    "combining: e\u0301 a\u0308 n\u0303 and Hangul 한국어",
    "CJK 日本語のテキストと中文文本",
    "RTL שלום עולם and مرحبا بالعالم",
    "   leading and trailing spaces are not counted   ",
    "#hashtag and #другой and (https://example.org/in-parens).",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One browser for the module (the contexts keep the people apart)."""
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.fail("Debian's chromium is required for browser tests: apt-get install chromium")
    with sync_playwright() as p:
        instance = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
        )
        yield instance
        instance.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = tmp_path / "screenshots"
    folder.mkdir()
    return folder


class Person:
    """Someone with an account (made through the API), signed in to the web app in their own
    browser context; ``problems`` collects CSP violations and script errors seen in it."""

    def __init__(self, browser: Browser, server: Server, name: str, locale: str = "en-GB") -> None:
        self.name = name
        self.server = server
        self.headers = register(server.base_url, name, locale=locale[:2])
        extra = {"Accept-Language": "fr"} if locale.startswith("fr") else {}
        self.context: BrowserContext = browser.new_context(locale=locale, extra_http_headers=extra)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on(
            "response", lambda r: self.problems.append(f"{r.status} {r.url}") if r.status >= 400 else None
        )
        self.page.goto(server.base_url + "/auth/sign_in")
        self.page.locator("input[name=login]").fill(name)
        self.page.locator("input[name=password]").fill(PASSWORD)
        self.page.locator("form[action='/auth/sign_in'] button[type=submit]").click()
        self.page.wait_for_url("**/home")

    def _console(self, message: Any) -> None:
        text = message.text
        if message.type == "error" or "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.problems.append(f"{text} ({message.location.get('url', '')})")

    def api(self, method: str, path: str, **kw: Any) -> Any:
        r = httpx.request(method, self.server.base_url + path, headers=self.headers, **kw)
        assert r.status_code < 400, r.text
        return r.json()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def people(browser: Browser, server: Server, unique: Callable[[str], str]) -> Iterator[Callable[..., Person]]:
    made: list[Person] = []

    def make(prefix: str, locale: str = "en-GB") -> Person:
        person = Person(browser, server, unique(prefix), locale)
        made.append(person)
        return person

    yield make
    for person in made:
        person.close()


def _to_docs(shot: Path, name: str) -> None:
    """A few screenshots are kept in docs/screenshots (the rest stay in the test's tmp dir)."""
    shutil.copy(shot, docs_screenshots(shot.parent / "docs") / name)


def _note(page: Page, text: str) -> Any:
    return page.locator("article.note", has_text=text).first


def test_a_note_arrives_live_then_reply_like_boost(people: Callable[..., Person], shots: Path) -> None:
    reader, author = people("reader"), people("author")
    found = reader.api("GET", "/api/v1/accounts/lookup", params={"acct": author.name})
    reader.api("POST", f"/api/v1/accounts/{found['id']}/follow")

    page = reader.page
    page.goto(reader.server.base_url + "/home")
    expect(page.locator("[data-timeline][data-live]")).to_be_attached()
    page.evaluate("window.stillTheSamePage = true")
    page.wait_for_timeout(300)  # the stream connects

    # The author writes through their own page's compose box.
    author.page.get_by_label("What's on your mind?").fill("Live from the rope team #cordee")
    author.page.get_by_role("button", name="Publish").click()
    author.page.wait_for_url("**/home#note-*")
    expect(_note(author.page, "Live from the rope team")).to_be_visible()

    note = _note(page, "Live from the rope team")
    expect(note).to_be_visible(timeout=5000)
    assert page.evaluate("window.stillTheSamePage") is True  # no reload
    expect(note.get_by_role("link", name=f"@{author.name}")).to_have_attribute("href", f"/@{author.name}")
    page.screenshot(path=str(shots / "home.png"), full_page=True)
    _to_docs(shots / "home.png", "web-home-live.png")

    note.get_by_role("button", name="Like").click()
    expect(_note(page, "Live from the rope team").get_by_role("button", name="Like")).to_have_attribute(
        "aria-pressed", "true"
    )
    _note(page, "Live from the rope team").get_by_role("button", name="Boost").click()
    expect(_note(page, "Live from the rope team").get_by_role("button", name="Boost")).to_have_attribute(
        "aria-pressed", "true"
    )
    assert page.evaluate("window.stillTheSamePage") is True

    _note(page, "Live from the rope team").get_by_role("link", name="Reply").click()
    page.wait_for_url("**/compose?in_reply_to=*")
    box = page.get_by_label("Your reply")
    expect(box).to_have_value(f"@{author.name} ")
    page.screenshot(path=str(shots / "reply.png"), full_page=True)
    box.press("End")
    box.type("Count me in!")
    page.get_by_role("button", name="Reply").last.click()
    page.wait_for_url("**/home#note-*")
    expect(_note(page, "Count me in!")).to_be_visible()

    statuses = author.api("GET", f"/api/v1/accounts/{found['id']}/statuses")
    original = next(s for s in statuses if "Live from the rope team" in s["content"])
    assert (original["favourites_count"], original["reblogs_count"], original["replies_count"]) == (1, 1, 1)
    assert reader.problems == [] and author.problems == []


def test_counter_matches_the_server_and_refusal_is_readable(
    people: Callable[..., Person], shots: Path
) -> None:
    writer = people("writer")
    page = writer.page
    counter = page.locator("[data-counter]")
    box = page.get_by_label("What's on your mind?")
    limit = int(counter.get_attribute("data-limit") or 0)  # the server's CORDEE_MAX_CHARACTERS
    for text in CORPUS:
        box.fill(text)
        expected = limit - weighted_length(text.strip())
        expect(counter).to_have_attribute("data-state", "server")
        expect(counter.locator("[data-remaining]")).to_have_text(str(expected))

    # The estimate shown between two answers of the server (measured with the server unreachable).
    page.route("**/web/count", lambda route: route.abort())
    agreed = 0
    for text in CORPUS:
        box.fill(text)
        expect(counter).to_have_attribute("data-state", "estimate")
        agreed += counter.locator("[data-remaining]").inner_text() == str(
            limit - weighted_length(text.strip())
        )
    print(f"local estimate equal to the server's count on {agreed} of {len(CORPUS)} corpus strings")
    assert agreed >= len(CORPUS) - 3  # an estimate; the server's number replaces it
    page.unroute("**/web/count")
    box.fill("")
    expect(counter).to_have_attribute("data-state", "server")

    too_long = "Rope " * (limit // 5 + 2)  # past the limit by a few characters once trimmed
    box.fill(too_long)
    expect(counter).to_have_attribute("data-state", "server")
    expect(counter.locator("[data-remaining]")).to_have_text(str(limit - len(too_long.strip())))
    expect(counter).to_have_class("counter over")
    page.screenshot(path=str(shots / "compose-too-long.png"), full_page=True)
    _to_docs(shots / "compose-too-long.png", "web-compose-too-long.png")
    assert writer.problems == []
    page.get_by_role("button", name="Publish").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("too long")
    expect(alert).to_contain_text(str(len(too_long.strip())))
    expect(page.get_by_label("What's on your mind?")).to_have_value(too_long)  # nothing lost
    expect(page.locator("[data-counter]")).to_have_class("counter over")
    # The refusal is a 422 page (Chromium logs it): nothing else went wrong.
    assert all("422" in p for p in writer.problems), writer.problems


def test_the_app_in_french(people: Callable[..., Person], shots: Path) -> None:
    person = people("grimpeur", locale="fr-FR")
    page = person.page
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    nav = page.get_by_role("navigation", name="Principale")
    for label in ("Accueil", "Notifications", "Local", "Public", "Recherche", "Réglages"):
        expect(nav.get_by_role("link", name=label)).to_be_visible()
    page.get_by_label("Qu’avez-vous en tête ?").fill("Bonjour la cordée")
    page.get_by_role("button", name="Publier").click()
    note = _note(page, "Bonjour la cordée")
    expect(note).to_be_visible()
    expect(note.get_by_role("button", name="J’aime")).to_be_visible()
    expect(note.get_by_role("button", name="Partager")).to_be_visible()
    expect(page.get_by_text("Votre note est publiée.")).to_be_visible()
    page.screenshot(path=str(shots / "home-fr.png"), full_page=True)
    _to_docs(shots / "home-fr.png", "web-home-fr.png")
    assert person.problems == []


def test_home_and_compose_have_no_serious_accessibility_violation(
    people: Callable[..., Person], shots: Path
) -> None:
    reader, author = people("looker"), people("poster")
    found = reader.api("GET", "/api/v1/accounts/lookup", params={"acct": author.name})
    reader.api("POST", f"/api/v1/accounts/{found['id']}/follow")
    first = author.api(
        "POST", "/api/v1/statuses", data={"status": "A plain note with #tags and https://example.org"}
    )
    author.api("POST", "/api/v1/statuses", data={"status": "Behind a warning", "spoiler_text": "Spoilers"})
    author.api(
        "POST",
        "/api/v1/statuses",
        data={
            "status": "Which route?",
            "poll[options][]": ["North face", "Ridge"],
            "poll[expires_in]": "3600",
        },
    )
    reader.api("POST", f"/api/v1/statuses/{first['id']}/favourite")
    reader.api("POST", f"/api/v1/statuses/{first['id']}/reblog")
    page = reader.page
    measured = {}
    for path in ("/home", f"/compose?in_reply_to={first['id']}"):
        page.goto(reader.server.base_url + path)
        expect(page.locator("article.note").first).to_be_visible()
        measured[path] = serious_violations(page)
    page.goto(reader.server.base_url + "/home")
    page.get_by_label("What's on your mind?").fill("x" * 1000)
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("alert")).to_be_visible()
    measured["/compose (refused)"] = serious_violations(page)
    page.screenshot(path=str(shots / "compose-refused.png"), full_page=True)
    assert measured == {path: [] for path in measured}
    assert all("422" in p for p in reader.problems), reader.problems


def test_the_page_reconnects_and_catches_up_after_a_drop(people: Callable[..., Person]) -> None:
    reader, author = people("climber"), people("leader")
    found = reader.api("GET", "/api/v1/accounts/lookup", params={"acct": author.name})
    reader.api("POST", f"/api/v1/accounts/{found['id']}/follow")
    page = reader.page
    streams: list[str] = []
    catch_ups: list[str] = []
    page.on("request", lambda r: streams.append(r.url) if r.url.endswith("/web/stream") else None)
    page.on("request", lambda r: catch_ups.append(r.url) if "/web/timeline/home?since_id=" in r.url else None)
    author.api("POST", "/api/v1/statuses", data={"status": "Before the drop"})
    page.goto(reader.server.base_url + "/home")
    expect(_note(page, "Before the drop")).to_be_visible()
    page.evaluate("window.stillTheSamePage = true")
    page.wait_for_timeout(300)
    assert len(streams) == 1

    # A password change in another tab of the same browser ends every stream of the account (the
    # session that made the change stays signed in): this page's stream drops.
    other = reader.context.new_page()
    other.goto(reader.server.base_url + "/settings/password")
    other.get_by_label("Current password").fill(PASSWORD)
    other.get_by_label("New password", exact=True).fill("another long password")
    other.get_by_label("New password again").fill("another long password")
    other.get_by_role("button", name="Change my password").click()
    expect(page.locator("[data-live-status]")).not_to_have_text("")  # "reconnecting…"
    author.api("POST", "/api/v1/statuses", data={"status": "Posted while the page was cut off"})

    expect(_note(page, "Posted while the page was cut off")).to_be_visible(timeout=10_000)
    expect(page.locator("[data-live-status]")).to_have_text("")
    assert len(streams) >= 2 and catch_ups, (streams, catch_ups)
    assert page.evaluate("window.stillTheSamePage") is True
    # Then new notes arrive over the new stream as before.
    author.api("POST", "/api/v1/statuses", data={"status": "After the reconnection"})
    expect(_note(page, "After the reconnection")).to_be_visible(timeout=5000)
    assert reader.problems == []


def test_a_reader_who_scrolled_gets_a_new_notes_bar_on_a_phone(
    people: Callable[..., Person], shots: Path
) -> None:
    reader, author = people("phone"), people("talker")
    found = reader.api("GET", "/api/v1/accounts/lookup", params={"acct": author.name})
    reader.api("POST", f"/api/v1/accounts/{found['id']}/follow")
    for n in range(8):
        author.api(
            "POST", "/api/v1/statuses", data={"status": f"Pitch {n}: " + "a long line of rope talk " * 4}
        )
    page = reader.page
    page.set_viewport_size({"width": 390, "height": 700})
    page.goto(reader.server.base_url + "/home")
    expect(page.locator("article.note")).to_have_count(8)
    page.wait_for_timeout(300)
    page.screenshot(path=str(shots / "home-phone.png"))
    _to_docs(shots / "home-phone.png", "web-home-phone.png")
    page.mouse.wheel(0, 2000)
    page.wait_for_function("window.scrollY > 600")

    author.api("POST", "/api/v1/statuses", data={"status": "Arrived while you were reading"})
    bar = page.get_by_role("button", name="1 new note")
    expect(bar).to_be_visible(timeout=5000)
    expect(page.locator("article.note", has_text="Arrived while you were reading")).to_have_count(0)
    bar.click()
    arrived = _note(page, "Arrived while you were reading")
    expect(arrived).to_be_visible()
    expect(arrived).to_be_focused()
    expect(bar).to_be_hidden()
    assert reader.problems == []
