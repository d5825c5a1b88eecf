"""Pages of a signed-in reader: notifications, search, follow requests, bookmarks, profile settings."""

from __future__ import annotations

from io import BytesIO
from typing import TYPE_CHECKING, Any

import httpx
from PIL import Image

from tests.web.test_auth_pages import form_to
from tests.web.test_public_pages import Post, browser_of, relationship

if TYPE_CHECKING:
    from tests.conftest import ApiUser as TestUser


async def test_pages_ask_to_sign_in(client: httpx.AsyncClient) -> None:
    for path in ("/notifications", "/follow_requests", "/bookmarks", "/settings/profile"):
        r = await client.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/auth/sign_in?next="), path


async def test_notifications_list_what_the_api_lists(
    app: Any, client: httpx.AsyncClient, alice: TestUser, bob: TestUser, carol: TestUser, post: Post
) -> None:
    note = await post(alice, "hello")
    await client.post(f"/api/v1/statuses/{note['id']}/favourite", headers=bob.headers)
    await post(carol, "@alice psst, a secret", visibility="direct")
    await client.post(f"/api/v1/accounts/{carol.id}/block", headers=alice.headers)  # carol's mention goes
    async with browser_of(app, alice) as browser:
        page = (await browser.get("/notifications")).text
    assert "liked your note" in page and "hello" in page
    assert "psst" not in page and "carol" not in page.split("<main", 1)[1]


async def test_search_finds_people_tags_and_visible_notes(
    app: Any, client: httpx.AsyncClient, alice: TestUser, bob: TestUser, post: Post
) -> None:
    await post(alice, "kayak trip on the #Loire")
    await post(alice, "kayak secret for followers", visibility="private")
    async with browser_of(app, bob) as browser:
        page = (await browser.get("/search", params={"q": "kayak"})).text
        assert "kayak trip" in page and "kayak secret" not in page
        page = (await browser.get("/search", params={"q": "ali"})).text
        assert 'href="/@alice"' in page
        page = (await browser.get("/search", params={"q": "#loi"})).text
        assert 'href="/tags/loire"' in page


async def test_accept_and_reject_follow_requests(
    app: Any, client: httpx.AsyncClient, alice: TestUser, bob: TestUser, carol: TestUser
) -> None:
    await client.patch("/api/v1/accounts/update_credentials", data={"locked": "true"}, headers=alice.headers)
    for asker in (bob, carol):
        await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=asker.headers)
    async with browser_of(app, alice) as browser:
        page = (await browser.get("/follow_requests")).text
        accept = form_to(page, f"/follow_requests/{bob.id}/authorize")
        assert (await browser.post(accept.action, data={})).status_code == 400
        assert (await browser.post(accept.action, data=accept.fields)).status_code == 303
        reject = form_to(page, f"/follow_requests/{carol.id}/reject")
        assert (await browser.post(reject.action, data=reject.fields)).status_code == 303
        assert "No follow requests." in (await browser.get("/follow_requests")).text
    assert (await relationship(client, bob, alice))["following"] is True
    carol_rel = await relationship(client, carol, alice)
    assert carol_rel["following"] is False and carol_rel["requested"] is False


async def test_bookmarks_page(app: Any, client: httpx.AsyncClient, alice: TestUser, post: Post) -> None:
    kept = await post(alice, "worth keeping")
    await post(alice, "not kept")
    await client.post(f"/api/v1/statuses/{kept['id']}/bookmark", headers=alice.headers)
    async with browser_of(app, alice) as browser:
        page = (await browser.get("/bookmarks")).text
    assert "worth keeping" in page and "not kept" not in page


async def test_profile_settings(app: Any, client: httpx.AsyncClient, alice: TestUser) -> None:
    async with browser_of(app, alice) as browser:
        page = (await browser.get("/settings/profile")).text
        form = form_to(page, "/settings/profile")
        fields = {
            **form.fields,
            "display_name": "Alice L.",
            "note": "Tea & rabbits",
            "locked": "on",
            "default_visibility": "unlisted",
            "default_language": "fr",
        }
        assert (
            await browser.post("/settings/profile", data={**fields, "csrf_token": "x"})
        ).status_code == 400
        bad = await browser.post("/settings/profile", data={**fields, "display_name": "x" * 31})
        assert bad.status_code == 422 and "The display name is too long" in bad.text
        bad = await browser.post("/settings/profile", data={**fields, "default_visibility": "direct"})
        assert bad.status_code == 422
        me = (await client.get("/api/v1/accounts/verify_credentials", headers=alice.headers)).json()
        assert me["display_name"] == "" and me["locked"] is False  # nothing stored on bad input
        ok = await browser.post("/settings/profile", data=fields)
        assert ok.status_code == 303
        assert "Your profile is saved." in (await browser.get("/settings/profile")).text
    me = (await client.get("/api/v1/accounts/verify_credentials", headers=alice.headers)).json()
    assert me["display_name"] == "Alice L." and me["locked"] is True
    assert me["source"]["privacy"] == "unlisted" and me["source"]["language"] == "fr"
    assert "Tea &amp; rabbits" in (await client.get("/@alice")).text


async def test_the_pages_speak_the_account_language_chosen_in_settings(app: Any, alice: TestUser) -> None:
    async with browser_of(app, alice) as browser:
        browser.headers["Accept-Language"] = "en-GB"
        form = form_to((await browser.get("/settings/profile")).text, "/settings/profile")
        fields = {**form.fields, "default_visibility": "public", "interface_language": "de"}
        bad = await browser.post("/settings/profile", data=fields)
        assert bad.status_code == 422 and "Choose one of the languages offered." in bad.text
        ok = await browser.post("/settings/profile", data={**fields, "interface_language": "fr"})
        assert ok.status_code == 303
        assert "Votre profil est enregistré." in (await browser.get("/settings/profile")).text
    # A later sign-in, from an English browser: the account's language wins over the browser's.
    async with browser_of(app, alice) as browser:
        browser.headers["Accept-Language"] = "en-GB"
        page = (await browser.get("/settings/profile")).text
        assert '<html lang="fr"' in page and "Langue des pages" in page
        assert '<option value="fr" lang="fr" selected>' in page


async def test_avatar_upload_and_refused_image(app: Any, client: httpx.AsyncClient, alice: TestUser) -> None:
    picture = BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(picture, "PNG")
    async with browser_of(app, alice) as browser:
        form = form_to((await browser.get("/settings/profile")).text, "/settings/profile")
        fields = {**form.fields, "default_visibility": "public"}
        bad = await browser.post(
            "/settings/profile", data=fields, files={"avatar": ("a.png", b"not an image", "image/png")}
        )
        assert bad.status_code == 422 and "This image was refused" in bad.text
        ok = await browser.post(
            "/settings/profile", data=fields, files={"avatar": ("a.png", picture.getvalue(), "image/png")}
        )
        assert ok.status_code == 303, ok.text
    me = (await client.get("/api/v1/accounts/verify_credentials", headers=alice.headers)).json()
    assert not me["avatar"].endswith("/static/avatar.png")
    assert (await client.get(me["avatar"].removeprefix("http://cordee.test"))).status_code == 200


async def test_lists(
    app: Any, client: httpx.AsyncClient, alice: TestUser, bob: TestUser, carol: TestUser, post: Post
) -> None:
    await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice.headers)
    await post(bob, "bob in the list")
    await post(carol, "carol not in the list")
    async with browser_of(app, alice) as browser:
        page = (await browser.get("/lists")).text
        create = form_to(page, "/lists")
        assert (await browser.post("/lists", data={**create.fields, "title": "  "})).status_code == 422
        made = await browser.post("/lists", data={**create.fields, "title": "Friends"})
        assert made.status_code == 303
        address = made.headers["location"]
        page = (await browser.get(address)).text
        add = form_to(page, f"{address}/members/add")
        refused = await browser.post(add.action, data={**add.fields, "acct": "carol"})
        assert refused.status_code == 422 and "Only people you follow" in refused.text
        assert (await browser.post(add.action, data={**add.fields, "acct": "bob"})).status_code == 303
        page = (await browser.get(address)).text
        assert "bob in the list" in page and "carol not in the list" not in page
        assert 'href="/@bob"' in page
    async with browser_of(app, bob) as other:
        assert (await other.get(address)).status_code == 404  # someone else's list
    async with browser_of(app, alice) as browser:
        page = (await browser.get(address)).text
        delete = form_to(page, f"{address}/delete")
        assert (await browser.post(delete.action, data=delete.fields)).status_code == 303
        assert (await browser.get(address)).status_code == 404


async def test_notification_fragments_for_the_live_page(
    app: Any, client: httpx.AsyncClient, alice: TestUser, bob: TestUser, carol: TestUser, post: Post
) -> None:
    note = await post(alice, "hello")
    async with browser_of(app, alice) as browser:
        page = (await browser.get("/notifications")).text
        assert 'data-live="/web/stream"' in page and 'data-newest=""' in page
        await client.post(f"/api/v1/statuses/{note['id']}/favourite", headers=bob.headers)
        await client.post(f"/api/v1/statuses/{note['id']}/favourite", headers=carol.headers)
        [by_bob, by_carol] = sorted(
            (await client.get("/api/v1/notifications", headers=alice.headers)).json(),
            key=lambda n: n["account"]["username"],
        )
        one = await browser.get(f"/web/notifications/{by_bob['id']}")
        assert one.status_code == 200 and f'id="notification-{by_bob["id"]}"' in one.text
        await client.post(f"/api/v1/accounts/{carol.id}/block", headers=alice.headers)
        hidden = await browser.get(f"/web/notifications/{by_carol['id']}")
        assert hidden.status_code == 200 and "notification-" not in hidden.text  # the API's rule
        since = await browser.get("/web/notifications/since", params={"since_id": "0"})
        assert f'id="notification-{by_bob["id"]}"' in since.text and by_carol["id"] not in since.text
        assert (await browser.get("/web/notifications/since")).status_code == 400
    async with browser_of(app, bob) as other:  # someone else's notification: nothing
        assert "notification-" not in (await other.get(f"/web/notifications/{by_bob['id']}")).text
    assert (await client.get(f"/web/notifications/{by_bob['id']}")).status_code == 401
