"""RSS and Atom feeds of profiles and hashtags, read by feedparser: what an anonymous reader may
see and nothing else, the right types, media as enclosures, conditional GET."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from xml.etree import ElementTree

import feedparser
import httpx
import pytest

from cordee.config import Settings
from cordee.web.feeds import alternate_links
from tests.api.test_media import uploaded
from tests.conftest import BASE_URL, ApiUser

Post = Callable[..., Awaitable[dict[str, Any]]]


async def notes_of_every_kind(post: Post, alice: ApiUser, bob: ApiUser) -> dict[str, dict[str, Any]]:
    bob_note = await post(bob, "bob speaks #Cats")
    return {
        "public": await post(alice, "public <b>bold</b> & #Cats", visibility="public"),
        "unlisted": await post(alice, "unlisted #Cats", visibility="unlisted"),
        "private": await post(alice, "followers only #Cats", visibility="private"),
        "direct": await post(alice, "direct to @bob #Cats", visibility="direct"),
        "reply_to_bob": await post(alice, "@bob a reply #Cats", in_reply_to_id=bob_note["id"]),
        "bob": bob_note,
    }


def xml_texts(document: bytes) -> set[str]:
    return {node.text for node in ElementTree.fromstring(document).iter() if node.text}


def links(feed: Any) -> set[str]:
    return {e.link for e in feed.entries}


@pytest.mark.parametrize("ext", ["rss", "atom"])
async def test_profile_feed_has_public_and_unlisted_notes_only(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, post: Post, ext: str
) -> None:
    notes = await notes_of_every_kind(post, alice, bob)
    thread = await post(alice, "my own thread goes on", in_reply_to_id=notes["public"]["id"])
    boost = await client.post(f"/api/v1/statuses/{notes['bob']['id']}/reblog", headers=alice.headers)
    assert boost.status_code == 200

    r = await client.get(f"/@alice.{ext}")
    assert r.status_code == 200, r.text
    expected_type = (
        "application/rss+xml; charset=utf-8" if ext == "rss" else "application/atom+xml; charset=utf-8"
    )
    assert r.headers["content-type"] == expected_type
    feed = feedparser.parse(r.content)
    assert not feed.bozo, feed.bozo_exception
    assert feed.version == ("rss20" if ext == "rss" else "atom10")
    assert feed.feed.title == "alice"
    assert feed.feed.link == f"{BASE_URL}/@alice"
    # Mastodon's rule: public and unlisted notes, the account's own threads; not its boosts,
    # not its replies to others, never followers-only or direct notes.
    assert links(feed) == {notes["public"]["url"], notes["unlisted"]["url"], thread["url"]}
    assert [e.link for e in feed.entries][0] == thread["url"]  # newest first
    public = next(e for e in feed.entries if e.link == notes["public"]["url"])
    assert "&lt;b&gt;bold&lt;/b&gt; &amp;" in (
        public.content[0].value if ext == "atom" else public.description
    )
    # The API's own HTML, escaped in the XML and back, byte for byte (feedparser reorders attributes).
    assert notes["public"]["content"] in xml_texts(r.content)
    assert {t.term for t in public.tags} == {"cats"}
    for secret in ("followers only", "direct to", "a reply", "bob speaks"):
        assert secret not in r.text


@pytest.mark.parametrize("ext", ["rss", "atom"])
async def test_hashtag_feed_has_public_notes_only(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, post: Post, ext: str
) -> None:
    notes = await notes_of_every_kind(post, alice, bob)
    r = await client.get(f"/tags/cats.{ext}")
    assert r.status_code == 200, r.text
    feed = feedparser.parse(r.content)
    assert not feed.bozo, feed.bozo_exception
    assert feed.feed.title == "#Cats"
    # The hashtag timeline's rule for nobody: public notes, replies included; not unlisted ones.
    assert links(feed) == {notes["public"]["url"], notes["bob"]["url"], notes["reply_to_bob"]["url"]}
    assert "followers only" not in r.text and "direct to" not in r.text and "unlisted #" not in r.text


async def test_content_warning_and_media(
    client: httpx.AsyncClient, settings: Settings, alice: ApiUser, post: Post
) -> None:
    media = await uploaded(client, alice, description='a red & blue "square"')
    note = await post(alice, "behind the warning", spoiler_text="<spoiler> & co", media_ids=[media["id"]])

    rss = feedparser.parse((await client.get("/@alice.rss")).content)
    (item,) = rss.entries
    assert item.title == "<spoiler> & co"  # the warning, never the text behind it
    assert item.description.startswith("<p><strong>Content warning:</strong> &lt;spoiler&gt; &amp; co</p><hr")
    assert any(t.endswith(note["content"]) for t in xml_texts((await client.get("/@alice.rss")).content))
    (enclosure,) = item.enclosures
    assert enclosure.href == media["url"]
    assert enclosure.type == "image/png" and int(enclosure.length) > 0
    assert item.media_content[0]["url"] == media["url"]

    atom = feedparser.parse((await client.get("/@alice.atom")).content)
    (entry,) = atom.entries
    (enclosure,) = entry.enclosures
    assert enclosure.href == media["url"] and enclosure.type == "image/png"
    assert entry.id == note["uri"]


@pytest.mark.parametrize("path", ["/@alice.rss", "/tags/cats.atom"])
async def test_conditional_get(client: httpx.AsyncClient, alice: ApiUser, post: Post, path: str) -> None:
    await post(alice, "first #cats")
    first = await client.get(path)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert first.headers["cache-control"].startswith("public")
    same = await client.get(path, headers={"If-None-Match": etag})
    assert same.status_code == 304 and same.content == b""
    assert same.headers["etag"] == etag
    assert (await client.get(path, headers={"If-Modified-Since": modified})).status_code == 304
    await post(alice, "second #cats")
    changed = await client.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert len(feedparser.parse(changed.content).entries) == 2


async def test_unknown_account_or_tag_is_404(client: httpx.AsyncClient) -> None:
    for path in ("/@nobody.rss", "/@nobody.atom", "/tags/nothing.rss", "/@alice@elsewhere.example.rss"):
        assert (await client.get(path)).status_code == 404, path


async def test_feeds_are_readable_cross_origin(client: httpx.AsyncClient, alice: ApiUser) -> None:
    r = await client.get("/@alice.rss", headers={"Origin": "https://reader.example"})
    assert r.headers["access-control-allow-origin"] == "*"


def test_alternate_links(settings: Settings) -> None:
    assert alternate_links(settings, username="alice") == [
        {"type": "application/rss+xml", "href": f"{BASE_URL}/@alice.rss", "title": "@alice (RSS)"},
        {"type": "application/atom+xml", "href": f"{BASE_URL}/@alice.atom", "title": "@alice (Atom)"},
    ]
    assert alternate_links(settings, tag="cats")[0]["href"] == f"{BASE_URL}/tags/cats.rss"


async def test_limit_parameter(client: httpx.AsyncClient, alice: ApiUser, post: Post) -> None:
    for i in range(3):
        await post(alice, f"note {i}")
    assert len(feedparser.parse((await client.get("/@alice.rss?limit=2")).content).entries) == 2
    # Odd values fall back to the default page: "²" is a digit to str.isdigit but not to int().
    for odd in ("²", "-1", "0", "abc", "9" * 30):
        r = await client.get("/@alice.rss", params={"limit": odd})
        assert r.status_code == 200, odd
