"""What real Mastodon clients and a fuzzer tripped on (the fidelity issue, items 2 to 11): each
answer as Mastodon gives it (its source is the reference: services, controllers, validators)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import update

from cordee.actions.accounts import Registration, create_local_account
from cordee.config import Settings
from cordee.db.engine import Database
from cordee.db.tables import AccessToken, User
from cordee.db.types import utcnow
from tests.conftest import ApiUser, MakeUser

DAY = 86_400


async def test_account_search_finds_accounts_one_blocked(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser
) -> None:
    # Mastodon's account search applies no block filter: one must find them to unblock them.
    assert (await client.post(f"/api/v1/accounts/{bob.id}/block", headers=alice.headers)).status_code == 200
    for path in ("/api/v1/accounts/search", "/api/v2/search"):
        r = await client.get(path, params={"q": "bob"}, headers=alice.headers)
        assert r.status_code == 200, r.text
        found = r.json() if path.endswith("accounts/search") else r.json()["accounts"]
        assert [a["id"] for a in found] == [bob.id], path


async def test_the_reblog_answer_says_reblogged(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, post: Any
) -> None:
    note = await post(alice, "Worth a boost")
    await client.post(f"/api/v1/statuses/{note['id']}/favourite", headers=bob.headers)
    r = await client.post(f"/api/v1/statuses/{note['id']}/reblog", headers=bob.headers)
    assert r.status_code == 200, r.text
    boost = r.json()
    assert boost["reblog"]["id"] == note["id"]
    # Mastodon serializes the answer without a relationships presenter: the wrapper tells the
    # viewer's state of the boosted note (Account#reblogged? and favourited? look at status.proper).
    assert boost["reblogged"] is True and boost["reblog"]["reblogged"] is True
    assert boost["favourited"] is True and boost["bookmarked"] is False
    again = await client.post(f"/api/v1/statuses/{note['id']}/reblog", headers=bob.headers)
    assert again.json()["id"] == boost["id"] and again.json()["reblogged"] is True


async def test_a_lone_hashtag_or_address_query_finds_no_statuses(
    client: httpx.AsyncClient, alice: ApiUser, post: Any
) -> None:
    await post(alice, "About #hashtag_x and @alice, hashtag, alice@cordee.test")
    for q, kinds in (
        ("#hashtag", {"hashtags"}),
        ("@alice", {"accounts"}),
        ("alice@cordee.test", {"accounts"}),
    ):
        r = await client.get("/api/v2/search", params={"q": q}, headers=alice.headers)
        assert r.status_code == 200, r.text
        found = {k for k, v in r.json().items() if v}
        assert found == kinds, (q, r.json())
    # A query with a space and an "@" is a phrase: statuses, no accounts.
    r = await client.get("/api/v2/search", params={"q": "and @alice"}, headers=alice.headers)
    assert r.json()["accounts"] == [] and len(r.json()["statuses"]) == 1
    # Plain words still find notes.
    r = await client.get("/api/v2/search", params={"q": "hashtag"}, headers=alice.headers)
    assert len(r.json()["statuses"]) == 1


async def test_an_app_website_must_be_a_url(client: httpx.AsyncClient) -> None:
    base = {"client_name": "x", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"}
    for website in ("not a url", "javascript:alert(1)", "ftp://example.org", "http://"):
        r = await client.post("/api/v1/apps", json={**base, "website": website})
        assert r.status_code == 422, (website, r.text)
        assert r.json()["error"] == "Validation failed: Website is invalid"
    for website in ("https://example.org/app", ""):
        r = await client.post("/api/v1/apps", json={**base, "website": website})
        assert r.status_code == 200, (website, r.text)
        assert r.json()["website"] == (website or None)


async def _poll(post: Any, user: ApiUser, multiple: bool = False) -> str:
    note = await post(
        user, "Which?", poll={"options": ["A", "B", "C"], "expires_in": DAY, "multiple": multiple}
    )
    return str(note["poll"]["id"])


async def test_poll_and_schedule_errors_in_mastodon_words(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, post: Any
) -> None:
    single = await _poll(post, alice)
    # Mastodon's VoteValidator: a second vote on a single-choice poll, in one request or two.
    r = await client.post(f"/api/v1/polls/{single}/votes", json={"choices": [0, 1]}, headers=bob.headers)
    assert (
        r.status_code == 422 and r.json()["error"] == "Validation failed: You have already voted on this poll"
    )
    r = await client.post(f"/api/v1/polls/{single}/votes", json={"choices": [0]}, headers=bob.headers)
    assert r.status_code == 200
    r = await client.post(f"/api/v1/polls/{single}/votes", json={"choices": [1]}, headers=bob.headers)
    assert (
        r.status_code == 422 and r.json()["error"] == "Validation failed: You have already voted on this poll"
    )
    # An unreadable scheduled_at: PostStatusService raises a bare RecordInvalid (toot's suite reads it).
    for when in ("foobar", "2026-13-45"):
        r = await client.post(
            "/api/v1/statuses", json={"status": "later", "scheduled_at": when}, headers=alice.headers
        )
        assert r.status_code == 422 and r.json()["error"] == "Record invalid", (when, r.text)


async def test_voting_again_on_a_multiple_choice_poll(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, post: Any
) -> None:
    poll = await _poll(post, alice, multiple=True)
    votes = f"/api/v1/polls/{poll}/votes"
    assert (await client.post(votes, json={"choices": [0]}, headers=bob.headers)).status_code == 200
    # Mastodon: more choices may be added later; one voter still counts once.
    r = await client.post(votes, json={"choices": [2]}, headers=bob.headers)
    assert r.status_code == 200, r.text
    assert r.json()["own_votes"] == [0, 2]
    assert r.json()["votes_count"] == 2 and r.json()["voters_count"] == 1
    # The same choice twice is refused, and nothing of that request is kept.
    r = await client.post(votes, json={"choices": [1, 2]}, headers=bob.headers)
    assert (
        r.status_code == 422 and r.json()["error"] == "Validation failed: You have already voted on this poll"
    )
    r = await client.get(f"/api/v1/polls/{poll}", headers=bob.headers)
    assert r.json()["own_votes"] == [0, 2] and r.json()["votes_count"] == 2


async def test_adding_an_existing_list_member(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser
) -> None:
    await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice.headers)
    listed = (await client.post("/api/v1/lists", json={"title": "Friends"}, headers=alice.headers)).json()
    members = f"/api/v1/lists/{listed['id']}/accounts"
    assert (
        await client.post(members, json={"account_ids": [bob.id]}, headers=alice.headers)
    ).status_code == 200
    # Mastodon's ListAccount validates uniqueness: a 422, as Rails words it.
    r = await client.post(members, json={"account_ids": [bob.id]}, headers=alice.headers)
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "Validation failed: Account has already been taken"
    assert [a["id"] for a in (await client.get(members, headers=alice.headers)).json()] == [bob.id]


async def test_oauth_userinfo(client: httpx.AsyncClient, make_user: MakeUser) -> None:
    meta = (await client.get("/.well-known/oauth-authorization-server")).json()
    assert meta["userinfo_endpoint"] == "http://cordee.test/oauth/userinfo"
    dora = await make_user("dora", scopes="profile")
    for method in ("GET", "POST"):
        r = await client.request(method, "/oauth/userinfo", headers=dora.headers)
        assert r.status_code == 200, r.text
        assert r.json() == {
            "iss": "http://cordee.test/",
            "sub": "http://cordee.test/users/dora",
            "name": "",
            "preferred_username": "dora",
            "profile": "http://cordee.test/@dora",
            "picture": "http://cordee.test/static/avatar.png",
        }
    assert (await client.get("/oauth/userinfo")).status_code == 401
    reader = await make_user("eve", scopes="read")
    assert (await client.get("/oauth/userinfo", headers=reader.headers)).status_code == 403


async def test_numbers_and_booleans_are_coerced_as_rails_does(
    client: httpx.AsyncClient, alice: ApiUser, post: Any
) -> None:
    await post(alice, "hello")
    # Ruby's to_i: leading digits, else 0 (Mastodon then applies its default or its bounds).
    for params in (
        {"limit": "0.5"},
        {"limit": "AAA"},
        {"limit": "2abc"},
        {"local": "AAA"},
        {"only_media": "x"},
    ):
        r = await client.get("/api/v1/timelines/public", params=params, headers=alice.headers)
        assert r.status_code == 200, (params, r.text)
    r = await client.get("/api/v1/timelines/public", params={"limit": "1.9"}, headers=alice.headers)
    assert len(r.json()) == 1
    # ActiveModel::Type::Boolean: any text but the false words is true.
    r = await client.get("/api/v1/timelines/public", params={"only_media": "AAA"}, headers=alice.headers)
    assert r.json() == []
    r = await client.get("/api/v1/timelines/public", params={"only_media": "false"}, headers=alice.headers)
    assert len(r.json()) == 1
    r = await client.get("/api/v2/search", params={"q": "hello", "limit": "0.5"}, headers=alice.headers)
    assert r.status_code == 200 and len(r.json()["statuses"]) == 1
    r = await client.get("/api/v1/timelines/public", params={"limit": 0.5}, headers=alice.headers)
    assert r.status_code == 200
    r = await client.post("/api/v1/accounts/search", json={}, headers=alice.headers)  # not a route: 405
    assert r.status_code in (404, 405)


async def test_instance_figures(
    client: httpx.AsyncClient, alice: ApiUser, make_user: MakeUser, post: Any
) -> None:
    await make_user("idle")  # has never signed in nor used a token
    v2 = (await client.get("/api/v2/instance")).json()
    assert v2["configuration"]["accounts"]["max_pinned_statuses"] == 5
    v1 = (await client.get("/api/v1/instance")).json()
    # Mastodon's default site_contact_email is '' (config/settings.yml): the same when unset.
    assert v2["contact"]["email"] == "" and v1["email"] == ""


async def test_active_month_counts_active_users(
    client: httpx.AsyncClient, db: Database, settings: Settings, alice: ApiUser, bob: ApiUser
) -> None:
    # Mastodon counts the users who signed in during the last four weeks: here a token issued, a
    # browser seen, a note posted, or a sign-up within 30 days. Bob's were all long ago.
    _, idle = await create_local_account(
        db, settings, Registration("idle", "idle@example.org", "correct horse battery"), enforce_mode=False
    )
    long_ago = utcnow() - timedelta(days=90)
    async with db.write() as tx:
        await tx.session.execute(
            update(User).where(User.id.in_([idle, bob.user_id])).values(created_at=long_ago)
        )
        await tx.session.execute(
            update(AccessToken).where(AccessToken.user_id == bob.user_id).values(created_at=long_ago)
        )
    v2 = (await client.get("/api/v2/instance")).json()
    assert v2["usage"]["users"]["active_month"] == 1


async def test_a_follow_with_notify_sends_status_notifications(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, carol: ApiUser, post: Any
) -> None:
    r = await client.post(f"/api/v1/accounts/{alice.id}/follow", json={"notify": True}, headers=bob.headers)
    assert r.json()["notifying"] is True
    await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=carol.headers)
    note = await post(alice, "News!")
    await post(alice, "To myself", in_reply_to_id=note["id"])  # a self-reply counts too
    other = await post(carol, "Hi")
    await post(alice, "@carol answer", in_reply_to_id=other["id"])  # a reply to someone else: no
    await client.post(f"/api/v1/statuses/{other['id']}/reblog", headers=alice.headers)  # a boost: no
    await post(alice, "secret", visibility="direct")  # not for bob: no
    r = await client.get("/api/v1/notifications", params={"types[]": "status"}, headers=bob.headers)
    got = r.json()
    assert [n["status"]["content"] for n in got] == ["<p>To myself</p>", "<p>News!</p>"]
    assert all(n["type"] == "status" and n["account"]["id"] == alice.id for n in got)
    carols = await client.get("/api/v1/notifications", params={"types[]": "status"}, headers=carol.headers)
    assert carols.json() == []


async def test_follow_languages_apply_to_the_home_timeline(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, post: Any
) -> None:
    r = await client.post(
        f"/api/v1/accounts/{alice.id}/follow", json={"languages": ["fr"]}, headers=bob.headers
    )
    assert r.json()["languages"] == ["fr"]
    await post(alice, "Bonjour", language="fr")
    await post(alice, "Hello", language="en")
    # Built from the database on first read, then fed by fan-out on each post: both apply them.
    for _ in range(2):
        home = [
            s["content"] for s in (await client.get("/api/v1/timelines/home", headers=bob.headers)).json()
        ]
        assert "<p>Hello</p>" not in home and "<p>Hi</p>" not in home
        assert "<p>Bonjour</p>" in home
        await post(alice, "Hi", language="en")
        await post(alice, "Salut", language="fr")
    assert "<p>Salut</p>" in home


async def test_muting_notifications_follows_the_mute(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser
) -> None:
    for notifications in (True, False):
        r = await client.post(
            f"/api/v1/accounts/{bob.id}/mute", json={"notifications": notifications}, headers=alice.headers
        )
        assert r.json()["muting"] is True and r.json()["muting_notifications"] is notifications
