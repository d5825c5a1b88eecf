"""Public pages (profile, note and thread, hashtag, timelines) and the relationship forms of a profile.

Everything goes through HTTP as a browser would: anonymous readers, and signed-in ones with their
own cookie jar, submitting the forms read from the page (CSRF token included).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import httpx

from tests.web.test_auth_pages import form_to, sign_in

if TYPE_CHECKING:
    from tests.conftest import ApiUser as TestUser

Post = Callable[..., Awaitable[dict[str, Any]]]


@asynccontextmanager
async def browser_of(app: Any, user: TestUser | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """A client with its own cookies, signed in as ``user`` when given."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://cordee.test") as c:
        if user is not None:
            await sign_in(c, user)
        yield c


def meta(html: str, prop: str) -> str | None:
    found = re.search(rf'<meta (?:property|name)="{re.escape(prop)}" content="([^"]*)"', html)
    return found.group(1) if found else None


async def notes_of_every_kind(post: Post, author: TestUser) -> dict[str, dict[str, Any]]:
    return {
        v: await post(author, f"a {v} note by {author.username}", visibility=v)
        for v in ("public", "unlisted", "private", "direct")
    }


async def test_anonymous_reader_sees_public_notes_only(
    app: Any, client: httpx.AsyncClient, alice: TestUser, post: Post
) -> None:
    notes = await notes_of_every_kind(post, alice)
    for path in ("/@alice", "/@alice/with_replies"):
        r = await client.get(path)
        assert r.status_code == 200, r.text
        assert "a public note by alice" in r.text and "a unlisted note by alice" in r.text
        assert "a private note" not in r.text and "a direct note" not in r.text
    local = await client.get("/public/local")
    assert "a public note by alice" in local.text
    assert "unlisted note" not in local.text and "private note" not in local.text
    assert "a public note by alice" in (await client.get("/public")).text
    for kind in ("public", "unlisted"):
        r = await client.get(f"/@alice/{notes[kind]['id']}")
        assert r.status_code == 200 and f"a {kind} note by alice" in r.text


async def test_hidden_and_missing_answer_the_same_404(
    app: Any, client: httpx.AsyncClient, alice: TestUser, post: Post
) -> None:
    notes = await notes_of_every_kind(post, alice)

    async def page(path: str) -> str:
        r = await client.get(path)
        assert r.status_code == 404
        return r.text.replace(path, "PATH")  # the language links name the page's own address

    missing = await page("/@alice/123456789")
    for kind in ("private", "direct"):
        assert await page(f"/@alice/{notes[kind]['id']}") == missing
    assert await page(f"/@nobody/{notes['public']['id']}") == missing
    assert await page("/@nobody") == missing


async def test_signed_in_readers_see_what_the_rule_lets_them(
    app: Any, alice: TestUser, bob: TestUser, carol: TestUser, post: Post, client: httpx.AsyncClient
) -> None:
    r = await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=carol.headers)
    assert r.status_code == 200
    notes = await notes_of_every_kind(post, alice)
    async with browser_of(app, carol) as follower:
        page = await follower.get("/@alice")
        assert "a private note by alice" in page.text and "a direct note" not in page.text
        assert (await follower.get(f"/@alice/{notes['private']['id']}")).status_code == 200
    r = await client.post(f"/api/v1/accounts/{bob.id}/block", headers=alice.headers)
    assert r.status_code == 200
    async with browser_of(app, bob) as blocked:
        page = await blocked.get("/@alice")
        assert page.status_code == 200 and "a public note by alice" not in page.text
        note = await blocked.get(f"/@alice/{notes['public']['id']}")
        assert note.status_code == 404
        assert "a public note by alice" not in (await blocked.get("/public/local")).text


async def test_thread_page_shows_ancestors_and_replies(
    client: httpx.AsyncClient, alice: TestUser, bob: TestUser, post: Post
) -> None:
    first = await post(alice, "first of the thread")
    reply = await post(bob, "@alice an answer", in_reply_to_id=first["id"])
    hidden = await post(
        bob, "@alice a followers-only answer", in_reply_to_id=first["id"], visibility="private"
    )
    again = await post(alice, "@bob and a third", in_reply_to_id=reply["id"])
    page = await client.get(f"/@bob/{reply['id']}")
    assert page.status_code == 200
    text = page.text.split("<main", 1)[1]
    assert text.index("first of the thread") < text.index("an answer") < text.index("and a third")
    assert "followers-only answer" not in text
    assert hidden["id"] not in text and again["id"] in text


async def test_link_previews_and_alternate_links(
    client: httpx.AsyncClient, alice: TestUser, post: Post
) -> None:
    r = await client.patch(
        "/api/v1/accounts/update_credentials",
        data={"display_name": "Alice Liddell", "note": "Down the <rabbit> hole"},
        headers=alice.headers,
    )
    assert r.status_code == 200
    note = await post(alice, "Tea party at #Wonderland, everyone welcome")
    profile = (await client.get("/@alice")).text
    assert meta(profile, "og:title") == "Alice Liddell (@alice@cordee.test)"
    assert meta(profile, "og:description") == "Down the &lt;rabbit&gt; hole"
    assert meta(profile, "og:url") == "http://cordee.test/@alice"
    assert (meta(profile, "og:image") or "").startswith("http://cordee.test/")
    assert meta(profile, "twitter:card") == "summary"
    assert 'rel="alternate" type="application/rss+xml"' in profile and 'href="/@alice.rss"' in profile
    assert 'href="/@alice.atom"' in profile
    page = (await client.get(f"/@alice/{note['id']}")).text
    assert meta(page, "og:description") == "Tea party at #Wonderland, everyone welcome"
    assert meta(page, "og:url") == note["url"]
    assert 'type="application/json+oembed"' in page
    assert "/api/oembed?url=http%3A%2F%2Fcordee.test%2F%40alice%2F" + note["id"] in page
    tag = await client.get("/tags/wonderland")
    assert tag.status_code == 200 and "Tea party" in tag.text
    assert meta(tag.text, "og:title") == "#wonderland" and 'href="/tags/wonderland.rss"' in tag.text


async def test_older_link_pages_down(client: httpx.AsyncClient, alice: TestUser, post: Post) -> None:
    for i in range(23):
        await post(alice, f"numbered note {i:02d}")
    first = (await client.get("/@alice")).text
    assert "numbered note 22" in first and "numbered note 02" not in first
    older = re.search(r'<a href="(/@alice\?max_id=\d+)" rel="next">', first)
    assert older is not None
    second = (await client.get(older.group(1))).text
    assert "numbered note 02" in second and "numbered note 00" in second and "numbered note 22" not in second


async def relationship(client: httpx.AsyncClient, user: TestUser, target: TestUser) -> dict[str, Any]:
    r = await client.get("/api/v1/accounts/relationships", params={"id[]": target.id}, headers=user.headers)
    return r.json()[0]  # type: ignore[no-any-return]


async def test_follow_unfollow_block_mute_forms(
    app: Any, client: httpx.AsyncClient, alice: TestUser, bob: TestUser
) -> None:
    async with browser_of(app, bob) as browser:
        page = (await browser.get("/@alice")).text
        follow = form_to(page, "/@alice/follow")
        refused = await browser.post("/@alice/follow", data={})
        assert refused.status_code == 400
        assert (await relationship(client, bob, alice))["following"] is False
        done = await browser.post("/@alice/follow", data=follow.fields)
        assert done.status_code == 303 and done.headers["location"] == "/@alice"
        assert (await relationship(client, bob, alice))["following"] is True
        page = (await browser.get("/@alice")).text
        assert "You follow this account." in page
        await browser.post("/@alice/unfollow", data=form_to(page, "/@alice/unfollow").fields)
        assert (await relationship(client, bob, alice))["following"] is False
        page = (await browser.get("/@alice")).text
        await browser.post("/@alice/mute", data=form_to(page, "/@alice/mute").fields)
        assert (await relationship(client, bob, alice))["muting"] is True
        page = (await browser.get("/@alice")).text
        assert "/@alice/unmute" in page
        assert (await browser.post("/@alice/block", data={"csrf_token": "forged"})).status_code == 400
        await browser.post("/@alice/block", data=form_to(page, "/@alice/block").fields)
        rel = await relationship(client, bob, alice)
        assert rel["blocking"] is True
        page = (await browser.get("/@alice")).text
        assert "You block this account." in page and 'action="/@alice/follow"' not in page
        await browser.post("/@alice/unblock", data=form_to(page, "/@alice/unblock").fields)
        assert (await relationship(client, bob, alice))["blocking"] is False
    anonymous = await client.post("/@alice/follow", data={})
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/auth/sign_in")


async def test_request_to_follow_a_locked_account(
    app: Any, client: httpx.AsyncClient, alice: TestUser, bob: TestUser
) -> None:
    r = await client.patch(
        "/api/v1/accounts/update_credentials", data={"locked": "true"}, headers=alice.headers
    )
    assert r.status_code == 200
    async with browser_of(app, bob) as browser:
        page = (await browser.get("/@alice")).text
        assert "Request to follow" in page
        await browser.post("/@alice/follow", data=form_to(page, "/@alice/follow").fields)
        page = (await browser.get("/@alice")).text
        assert "Follow request sent: waiting for approval." in page
        rel = await relationship(client, bob, alice)
        assert rel["requested"] is True and rel["following"] is False


async def test_french_profile(client: httpx.AsyncClient, alice: TestUser) -> None:
    r = await client.get("/@alice/followers", headers={"Accept-Language": "fr"})
    assert '<html lang="fr">' in r.text and "Abonnés" in r.text


async def test_own_profile_links_to_its_settings(app: Any, alice: TestUser) -> None:
    async with browser_of(app, alice) as browser:
        page = (await browser.get("/@alice")).text
    assert "Edit your profile" in page and 'action="/@alice/follow"' not in page
