"""A browser app on another origin (a second local port) uses the API with a token, as Elk or
Phanpy do: real Chromium enforces CORS, so what passes here passes for them. It also checks what
must not pass: a request with credentials (cookies), and reading an HTML page."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page

from tests.clients.conftest import Server
from tests.support.running import register

pytestmark = pytest.mark.clients

#: The app: plain fetch() calls with the token, the results left in ``window.results``.
APP = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>A browser app</title></head>
<body><p id="status">working</p>
<script>
const params = new URLSearchParams(location.hash.slice(1));
const api = params.get("api"), token = params.get("token"), meId = params.get("me");
const auth = {Authorization: "Bearer " + token};
async function attempt(label, run) {
  try { window.results[label] = await run(); }
  catch (e) { window.results[label] = "refused: " + e.name; }
}
window.results = {};
(async () => {
  await attempt("me", async () => (await (await fetch(api + "/api/v1/accounts/verify_credentials",
    {headers: auth})).json()).username);
  await attempt("posted", async () => {
    const r = await fetch(api + "/api/v1/statuses", {method: "POST",
      headers: {...auth, "Content-Type": "application/json"},
      body: JSON.stringify({status: "posted from another origin"})});
    return [r.status, (await r.json()).content];
  });
  await attempt("timeline", async () => {
    const r = await fetch(api + "/api/v1/accounts/" + meId + "/statuses?limit=1", {headers: auth});
    return [r.status, r.headers.get("Link") !== null, r.headers.get("X-RateLimit-Remaining") !== null];
  });
  await attempt("deleted", async () => {
    const r = await fetch(api + "/api/v1/statuses/999999", {method: "DELETE", headers: auth});
    return [r.status, (await r.json()).error];
  });
  await attempt("with_cookies", async () => (await fetch(api + "/api/v1/instance",
    {credentials: "include"})).status);
  await attempt("html_page", async () => (await fetch(api + "/auth/sign_in")).status);
  document.getElementById("status").textContent = "done";
})();
</script></body></html>
"""


@pytest.fixture
def other_origin(tmp_path: Path) -> Iterator[str]:
    """A tiny static web server on another port: another origin than the Cordée server."""
    (tmp_path / "app.html").write_text(APP)
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_page_on_another_origin_uses_the_api(
    page: Page, server: Server, other_origin: str, unique: Callable[[str], str]
) -> None:
    name = unique("elkuser")
    headers = register(server.base_url, name)
    token = headers["Authorization"].removeprefix("Bearer ")
    me = httpx.get(server.base_url + "/api/v1/accounts/verify_credentials", headers=headers).json()
    httpx.post(server.base_url + "/api/v1/statuses", data={"status": "an earlier note"}, headers=headers)
    assert other_origin != server.base_url

    page.goto(f"{other_origin}/app.html#api={server.base_url}&token={token}&me={me['id']}")
    page.wait_for_function("document.getElementById('status').textContent === 'done'", timeout=15_000)
    results: dict[str, Any] = page.evaluate("window.results")

    assert results["me"] == name
    assert results["posted"] == [200, "<p>posted from another origin</p>"]
    assert results["timeline"] == [200, True, True]  # Link and X-RateLimit-* are readable
    assert results["deleted"] == [404, "Record not found"]  # errors are readable too
    # Never with credentials: ``Access-Control-Allow-Origin: *`` without Allow-Credentials makes
    # the browser refuse a credentialed request; and an HTML page is not readable from elsewhere.
    assert results["with_cookies"] == "refused: TypeError"
    assert results["html_page"] == "refused: TypeError"
    notes = httpx.get(f"{server.base_url}/api/v1/accounts/{me['id']}/statuses", headers=headers).json()
    assert notes[0]["content"] == "<p>posted from another origin</p>"


def test_a_blog_on_another_origin_frames_an_embedded_note(
    page: Page, server: Server, other_origin: str, unique: Callable[[str], str], tmp_path: Path
) -> None:
    """The oEmbed answer's HTML pasted into a blog page: Chromium shows the note in the frame (its
    policy allows any ancestor), while an ordinary page of the instance refuses to be framed."""
    headers = register(server.base_url, unique("blogger"))
    note = httpx.post(
        server.base_url + "/api/v1/statuses", data={"status": "embedded in a blog"}, headers=headers
    ).json()
    oembed = httpx.get(server.base_url + "/api/oembed", params={"url": note["url"]}).json()
    blog = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>A blog</title></head><body>
    {oembed["html"]}
    <iframe id="framed-page" src="{server.base_url}/auth/sign_in"></iframe></body></html>"""
    (tmp_path / "blog.html").write_text(blog)
    page.goto(f"{other_origin}/blog.html")
    embed = page.frame_locator("iframe.cordee-embed")
    embed.get_by_text("embedded in a blog").wait_for(timeout=10_000)
    page.screenshot(path=str(tmp_path / "blog-with-embed.png"))
    handle = page.locator("#framed-page").element_handle()
    assert handle is not None
    blocked = handle.content_frame()
    assert blocked is not None
    assert not blocked.url.startswith(server.base_url)  # Chromium shows its error page instead
