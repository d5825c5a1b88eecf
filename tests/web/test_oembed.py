"""oEmbed for notes (Mastodon's /api/oembed) and the embed page it frames: the fields a blog needs,
maxwidth and maxheight honoured, and nothing an anonymous reader may not see."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest

from cordee.config import Settings
from cordee.web.oembed import oembed_link
from tests.conftest import BASE_URL, ApiUser

Post = Callable[..., Awaitable[dict[str, Any]]]


class Frame(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.iframes: list[dict[str, str | None]] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "iframe":
            self.iframes.append(dict(attrs))
        self.scripts += tag == "script"


def read_html(html: str) -> Frame:
    frame = Frame()
    frame.feed(html)
    return frame


async def test_oembed_of_a_public_note(client: httpx.AsyncClient, alice: ApiUser, post: Post) -> None:
    await client.patch(
        "/api/v1/accounts/update_credentials", data={"display_name": 'Alice "A" <&>'}, headers=alice.headers
    )
    note = await post(alice, "hello <embedded> world")
    r = await client.get("/api/oembed", params={"url": note["url"]})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert body["type"] == "rich" and body["version"] == "1.0"
    assert body["author_name"] == 'Alice "A" <&>'
    assert body["author_url"] == f"{BASE_URL}/@alice"
    assert body["provider_name"] == "cordee.test"
    assert body["provider_url"] == f"{BASE_URL}/"
    assert body["width"] == 400 and body["height"] > 0
    parsed = read_html(body["html"])
    assert parsed.scripts == 0
    (iframe,) = parsed.iframes
    assert iframe["src"] == note["url"] + "/embed"
    assert iframe["width"] == "400" and iframe["height"] == str(body["height"])
    assert iframe["title"] == 'Alice "A" <&>'  # escaped in the attribute, read back whole

    # The note's uri works too, and maxwidth/maxheight bound the frame.
    r = await client.get("/api/oembed", params={"url": note["uri"], "maxwidth": "250", "maxheight": "90"})
    assert (r.json()["width"], r.json()["height"]) == (250, 90)
    assert 'width="250" height="90"' in r.json()["html"]
    # A larger maxwidth does not stretch it past the default.
    assert (await client.get("/api/oembed", params={"url": note["url"], "maxwidth": "900"})).json()[
        "width"
    ] == 400


async def test_the_embed_page(client: httpx.AsyncClient, alice: ApiUser, post: Post) -> None:
    note = await post(alice, "framed <b>text</b>", visibility="unlisted")
    r = await client.get(note["url"] + "/embed")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    policy = r.headers["content-security-policy"]
    assert "frame-ancestors *" in policy and "script-src 'self'" in policy
    assert "x-frame-options" not in r.headers
    assert "set-cookie" not in r.headers  # framed by someone else's page: no cookie
    assert "<script" not in r.text
    assert note["content"] in r.text
    assert "&lt;b&gt;text&lt;/b&gt;" in r.text
    # Every other page still refuses to be framed.
    other = await client.get(note["url"].replace(f"/{note['id']}", ".rss"))
    assert other.status_code == 200
    page = await client.get("/auth/sign_in")
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


async def test_french_embed_page(client: httpx.AsyncClient, alice: ApiUser, post: Post) -> None:
    note = await post(alice, "bonjour")
    r = await client.get(note["url"] + "/embed", headers={"Accept-Language": "fr"})
    assert '<html lang="fr">' in r.text and "Voir sur" in r.text


@pytest.mark.parametrize("visibility", ["private", "direct"])
async def test_hidden_notes_are_not_embedded(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, post: Post, visibility: str
) -> None:
    note = await post(alice, "not for everyone @bob", visibility=visibility)
    missing = await client.get("/api/oembed", params={"url": f"{BASE_URL}/@alice/123456789"})
    assert missing.status_code == 404
    hidden = await client.get("/api/oembed", params={"url": note["url"]})
    assert (hidden.status_code, hidden.content) == (404, missing.content)
    # Not even for a reader who may see it: an embed is for everyone.
    with_token = await client.get("/api/oembed", params={"url": note["url"]}, headers=bob.headers)
    assert (with_token.status_code, with_token.content) == (404, missing.content)
    assert (await client.get(note["url"] + "/embed")).status_code == 404
    assert "not for everyone" not in (await client.get(note["url"] + "/embed")).text


async def test_other_addresses_are_404(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, post: Post
) -> None:
    note = await post(alice, "mine")
    boost = await client.post(f"/api/v1/statuses/{note['id']}/reblog", headers=bob.headers)
    missing = (await client.get("/api/oembed", params={"url": f"{BASE_URL}/@alice/1"})).content
    for url in (
        note["url"].replace("http://cordee.test", "https://elsewhere.example"),  # not this instance
        note["url"].replace("/@alice/", "/@bob/"),  # the wrong author
        f"{BASE_URL}/@bob/{boost.json()['id']}",  # a boost
        f"{BASE_URL}/@alice/99999999999999999999999",  # past 64 bits
        f"{BASE_URL}/tags/cats",
        "not a url at all",
        "",
    ):
        r = await client.get("/api/oembed", params={"url": url})
        assert (r.status_code, r.content) == (404, missing), url
    assert (await client.get("/api/oembed", params={"url": note["url"], "format": "xml"})).status_code == 501


def test_discovery_link(settings: Settings) -> None:
    link = oembed_link(settings, f"{BASE_URL}/@alice/42")
    assert link == {
        "type": "application/json+oembed",
        "href": f"{BASE_URL}/api/oembed?url=http%3A%2F%2Fcordee.test%2F%40alice%2F42",
        "title": "oEmbed",
    }


async def test_odd_sizes_are_ignored(client: httpx.AsyncClient, alice: ApiUser, post: Post) -> None:
    note = await post(alice, "sized")
    for odd in ("²", "-5", "0", "wide", "9" * 30):
        r = await client.get("/api/oembed", params={"url": note["url"], "maxwidth": odd, "maxheight": odd})
        assert r.status_code == 200, odd
        assert r.json()["width"] == 400
