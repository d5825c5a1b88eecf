"""The blog widget on a plain HTML page served from another origin (a second local port), in
Chromium: a note posted after the page loaded appears in it, the host page is left as it was, and
nothing is asked of any site but the instance.

The host page has its own strict policy (scripts, requests, pictures and frames only from the
instance; no inline style): the widget must live with it, as it would on a careful intranet.
"""

from __future__ import annotations

import functools
import http.server
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import docs_screenshots
from tests.clients.conftest import Server
from tests.support.running import free_port, register

pytestmark = pytest.mark.clients


HOST_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'self' {base};
 connect-src {base}; img-src {base}; frame-src {base}">
<title>The association's blog</title>
<script src="/globals.js"></script>
</head>
<body>
<h1>Our association</h1>
<p id="before">Welcome to our blog.</p>
<script src="{base}/widget.js" data-account="{name}" data-theme="dark" data-accent="#ffb000" data-lang="fr"
 data-limit="5" async></script>
<p id="after">More below.</p>
<iframe src="{base}/widget/frame?account={name}&amp;theme=light&amp;lang=en" title="Our notes" width="420"
 height="420"></iframe>
</body>
</html>
"""
# Records the window's own names before the widget runs, to see that it adds none.
GLOBALS_JS = "window.hostNames = Object.getOwnPropertyNames(window);"
OUTSIDE = """() => Array.from(document.body.children).map(
  e => e.tagName === 'DIV' ? 'DIV:' + e.attributes.length + ':' + e.childNodes.length : e.outerHTML)"""


@pytest.fixture
def blog(tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """A static site on another port; ``blog(html)`` publishes a page and returns its address."""
    handler = functools.partial(_Quiet, directory=str(tmp_path))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    (tmp_path / "globals.js").write_text(GLOBALS_JS)

    def publish(html: str) -> str:
        (tmp_path / "index.html").write_text(html)
        return f"http://127.0.0.1:{httpd.server_address[1]}/index.html"

    yield publish
    httpd.shutdown()
    httpd.server_close()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def test_widget_on_another_origin(
    page: Page, server: Server, unique: Callable[[str], str], blog: Callable[[str], str], tmp_path: Path
) -> None:
    name = unique("asso")
    author = register(server.base_url, name)

    def post(status: str, visibility: str = "public") -> None:
        r = httpx.post(
            f"{server.base_url}/api/v1/statuses",
            json={"status": status, "visibility": visibility},
            headers=author,
        )
        assert r.status_code == 200, r.text

    post("Our first meeting is on Monday")
    post("Members only: the door code", visibility="private")
    url = blog(HOST_PAGE.format(base=server.base_url, name=name))
    origins = (server.base_url, url.rsplit("/", 1)[0])
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", lambda r: None if r.url.startswith(origins) else problems.append("request: " + r.url))
    cookies_sent: list[str] = []
    page.on("request", lambda r: cookies_sent.append(r.url) if "cookie" in r.headers else None)

    page.goto(url)
    widget = page.get_by_role("region", name=f"Notes de {name}")
    expect(widget.get_by_text("Our first meeting is on Monday")).to_be_visible()
    frame = page.frame_locator("iframe")
    expect(frame.get_by_role("region", name=f"Notes by {name}")).to_be_visible()
    expect(frame.get_by_text("Our first meeting is on Monday")).to_be_visible()
    outside = page.evaluate(OUTSIDE)
    page.wait_for_timeout(300)  # the stream is open (the widget listens right after its first page)

    started = time.monotonic()
    post("Live: the hall is booked for Saturday")
    expect(widget.get_by_text("Live: the hall is booked for Saturday")).to_be_visible(timeout=5000)
    delay = time.monotonic() - started
    expect(frame.get_by_text("Live: the hall is booked for Saturday")).to_be_visible(timeout=5000)
    print(f"post → widget: {delay * 1000:.0f} ms")
    assert delay < 2.0, delay

    assert page.get_by_text("the door code").count() == 0
    assert frame.get_by_text("the door code").count() == 0
    feed = widget.get_by_role("feed")
    assert feed.get_by_role("article").count() == 2
    assert feed.get_by_role("article").first.get_attribute("aria-posinset") == "1"

    # The host page: the same elements, untouched, plus the widget's box (no attribute, nothing
    # in its light DOM); the widget's styles stay in it; not one global added.
    assert (
        outside[:3]
        == [
            "<h1>Our association</h1>",
            '<p id="before">Welcome to our blog.</p>',
            outside[2],
        ]
        and outside[3] == "DIV:0:0"
    )
    assert page.evaluate(OUTSIDE) == outside
    assert page.evaluate("getComputedStyle(document.querySelector('h1')).color") == "rgb(0, 0, 0)"
    added = page.evaluate("Object.getOwnPropertyNames(window).filter(n => !window.hostNames.includes(n))")
    assert added == ["0", "hostNames"]  # the iframe (window[0]) and the test's own record
    assert page.evaluate("document.cookie") == ""
    assert problems == []
    assert cookies_sent == []

    page.keyboard.press("Tab")  # the widget's links and notes take the keyboard focus in order
    page.set_viewport_size({"width": 900, "height": 900})
    page.screenshot(path=str(docs_screenshots(tmp_path) / "widget.png"), full_page=True)


def test_builder_page_previews_the_widget(page: Page, server: Server, unique: Callable[[str], str]) -> None:
    name = unique("club")
    author = register(server.base_url, name)
    httpx.post(f"{server.base_url}/api/v1/statuses", json={"status": "Training at six"}, headers=author)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)

    page.goto(server.base_url + "/widget")
    page.get_by_label("Account", exact=True).fill(name)
    page.get_by_label("Theme").select_option("dark")
    snippet = page.get_by_label("Copy this line into your page:")
    expect(snippet).to_have_value(
        f'<script src="{server.base_url}/widget.js" data-account="{name}" data-theme="dark" async></script>'
    )
    expect(page.get_by_label("Or, for a site that does not accept scripts:")).to_have_value(
        f'<iframe src="{server.base_url}/widget/frame?account={name}&theme=dark" title="{name}" width="400"'
        ' height="600" style="border:0;max-width:100%" loading="lazy"></iframe>'
    )
    preview = page.frame_locator("#widget-preview")
    expect(preview.get_by_text("Training at six")).to_be_visible()
    assert problems == []


def test_widget_catches_up_after_a_dropped_stream(
    page: Page, server: Server, unique: Callable[[str], str], blog: Callable[[str], str]
) -> None:
    """The first stream fails; a note posted meanwhile is fetched on reconnection (``since_id``),
    and the next one arrives live on the new stream."""
    name = unique("asso")
    author = register(server.base_url, name)

    def post(status: str) -> None:
        r = httpx.post(f"{server.base_url}/api/v1/statuses", json={"status": status}, headers=author)
        assert r.status_code == 200, r.text

    post("Before the page")
    streams: list[str] = []

    def stream(route: Route) -> None:
        streams.append(route.request.url)
        if len(streams) == 1:
            post("While the stream was down")  # committed before the widget tries again
            route.abort()
        else:
            route.continue_()

    page.route("**/widget/stream?*", stream)
    tag = f'<script src="{server.base_url}/widget.js" data-account="{name}"></script>'
    # Pasted where the parser puts it in <head>: the widget draws at the end of the body.
    page.goto(blog(f"<!DOCTYPE html><title>Blog</title>{tag}<p>The blog.</p>"))
    widget = page.get_by_role("region", name=f"Notes by {name}")
    expect(widget.get_by_text("While the stream was down")).to_be_visible(timeout=5000)
    page.wait_for_timeout(300)
    post("Live again")
    expect(widget.get_by_text("Live again")).to_be_visible(timeout=5000)
    assert len(streams) == 2
    assert widget.get_by_role("article").count() == 3
