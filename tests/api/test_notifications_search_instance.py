"""Notifications, search, instance information, and the events actions emit after commit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx

from cordee.events.types import Event, NotificationCreated, StatusCreated, StatusDeleted
from tests.conftest import ApiUser, MakeUser

Post = Callable[..., Awaitable[dict[str, Any]]]


async def test_notifications_filter_show_dismiss_clear(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser
) -> None:
    await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)
    mention = await post(bob, "@alice hello")
    await client.post(
        f"/api/v1/statuses/{mention['id']}/favourite", headers=alice.headers
    )  # self-notification? no
    status = await post(alice, "like me")
    await client.post(f"/api/v1/statuses/{status['id']}/favourite", headers=bob.headers)
    every = (await client.get("/api/v1/notifications", headers=alice.headers)).json()
    assert [n["type"] for n in every] == ["favourite", "mention", "follow"]
    assert every[1]["status"]["id"] == mention["id"] and every[0]["account"]["username"] == "bob"
    only = (
        await client.get(
            "/api/v1/notifications", params={"types[]": ["mention", "follow"]}, headers=alice.headers
        )
    ).json()
    assert [n["type"] for n in only] == ["mention", "follow"]
    excl = (
        await client.get(
            "/api/v1/notifications", params={"exclude_types[]": "favourite"}, headers=alice.headers
        )
    ).json()
    assert [n["type"] for n in excl] == ["mention", "follow"]
    bad = await client.get("/api/v1/notifications", params={"types[]": "nonsense"}, headers=alice.headers)
    assert bad.status_code == 422
    one = await client.get(f"/api/v1/notifications/{every[0]['id']}", headers=alice.headers)
    assert one.json()["id"] == every[0]["id"]
    assert (
        await client.get(f"/api/v1/notifications/{every[0]['id']}", headers=bob.headers)
    ).status_code == 404
    assert (
        await client.post(f"/api/v1/notifications/{every[0]['id']}/dismiss", headers=bob.headers)
    ).status_code == 404
    assert (
        await client.post(f"/api/v1/notifications/{every[0]['id']}/dismiss", headers=alice.headers)
    ).json() == {}
    assert len((await client.get("/api/v1/notifications", headers=alice.headers)).json()) == 2
    assert (await client.post("/api/v1/notifications/clear", headers=alice.headers)).json() == {}
    assert (await client.get("/api/v1/notifications", headers=alice.headers)).json() == []
    # bob's own notifications are untouched by alice clearing hers
    assert len((await client.get("/api/v1/notifications", headers=bob.headers)).json()) == 1


async def test_search_v2(client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser) -> None:
    await post(alice, "Fundraising night in #Lyon tonight")
    await post(bob, "Nothing about that")
    r = await client.get("/api/v2/search", params={"q": "lyon"}, headers=bob.headers)
    body = r.json()
    assert [t["name"] for t in body["hashtags"]] == ["lyon"]
    assert [s["account"]["username"] for s in body["statuses"]] == ["alice"]
    accounts = (await client.get("/api/v2/search", params={"q": "bo", "type": "accounts"})).json()
    assert [a["username"] for a in accounts["accounts"]] == ["bob"] and accounts["statuses"] == []
    assert (await client.get("/api/v2/search", params={"q": ""})).status_code == 422
    assert (await client.get("/api/v2/search", params={"q": "x", "type": "things"})).status_code == 422


async def test_instance_advertises_limits_and_version(client: httpx.AsyncClient) -> None:
    v2 = (await client.get("/api/v2/instance")).json()
    assert v2["version"].startswith("4.5.0 (compatible; Cordée")
    assert v2["configuration"]["statuses"]["max_characters"] == 140
    assert v2["configuration"]["statuses"]["characters_reserved_per_url"] == 23
    assert v2["api_versions"]["mastodon"] >= 1
    assert v2["domain"] == "cordee.test" and v2["registrations"]["enabled"] is True
    v1 = (await client.get("/api/v1/instance")).json()
    assert v1["uri"] == "cordee.test" and v1["configuration"]["statuses"]["max_characters"] == 140


async def test_unsupported_endpoints_say_so(client: httpx.AsyncClient, alice: ApiUser) -> None:
    r = await client.get("/api/v1/annual_reports", headers=alice.headers)
    assert r.status_code == 404 and "not supported" in r.json()["error"]
    wrong_method = await client.put("/api/v1/timelines/home", headers=alice.headers)
    assert wrong_method.status_code == 404 and "PUT /api/v1/timelines/home" in wrong_method.json()["error"]


async def test_events_are_published_after_commit(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser, events: Sequence[Event]
) -> None:
    status = await post(alice, "@bob hi #tag", visibility="private")
    created = [e for e in events if isinstance(e, StatusCreated)]
    assert created == [
        StatusCreated(
            int(status["id"]), alice.account_id, "private", True, None, None, (bob.account_id,), ("tag",)
        )
    ]
    assert [e.account_id for e in events if isinstance(e, NotificationCreated)] == [bob.account_id]
    await client.delete(f"/api/v1/statuses/{status['id']}", headers=alice.headers)
    assert isinstance(events[-1], StatusDeleted) and events[-1].status_id == int(status["id"])
    before = len(events)
    failed = await client.post("/api/v1/statuses", json={"status": "y" * 500}, headers=alice.headers)
    assert failed.status_code == 422 and len(events) == before  # nothing committed, nothing emitted


async def test_instance_figures_are_counted_once_however_many_ask_at_once(
    client: httpx.AsyncClient, monkeypatch: Any
) -> None:
    """Every app reads the instance entity at start: with no figures kept (a fresh process) or
    kept too long, each request in flight counted every user and note again (at a million notes,
    tens of ms each, 32 at once in the benchmark). One counts; the others wait for it, or, when
    figures are kept but stale, get those while it counts."""
    import asyncio

    from cordee.api.mastodon import instance

    builds = 0
    real = instance._instance_v1

    async def counted(ctx: Any) -> dict[str, Any]:
        nonlocal builds
        builds += 1
        await asyncio.sleep(0.05)  # a slow count
        return {**await real(ctx), "build": builds}  # which build an answer came from

    monkeypatch.setattr(instance, "_instance_v1", counted)
    answers = await asyncio.gather(*(client.get("/api/v1/instance") for _ in range(20)))
    assert [r.status_code for r in answers] == [200] * 20 and builds == 1
    first = answers[0].json()

    monkeypatch.setattr(instance, "CACHE_SECONDS", 0.0)  # every figure kept is stale from now on
    answers = await asyncio.gather(*(client.get("/api/v1/instance") for _ in range(20)))
    assert all(r.json() == first for r in answers)  # the kept entity, not a wait for the new one
    await asyncio.sleep(0.2)  # the one count under way ends
    assert builds == 2
    monkeypatch.setattr(instance, "CACHE_SECONDS", 30.0)
    assert (await client.get("/api/v1/instance")).json()["build"] == 2  # then the new one is served


async def test_notification_pages_read_the_same_on_the_hot_and_general_paths(
    client: httpx.AsyncClient, make_user: MakeUser, post: Post
) -> None:
    """Notifications on the hot path (``queries.notification_pages``) against the general path,
    which a reader with a filter takes (here one matching nothing): the same pages for every
    bound, type list and direction, hidden ones left out alike."""
    alice, bob, carol, dave = [await make_user(name) for name in ("alice", "bob", "carol", "dave")]
    for fan in (bob, carol, dave):
        assert (
            await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=fan.headers)
        ).status_code == 200
    mine = await post(alice, "mine")
    private = await post(alice, "for followers", visibility="private")
    for fan in (bob, carol):
        await client.post(f"/api/v1/statuses/{mine['id']}/favourite", headers=fan.headers)
        await client.post(f"/api/v1/statuses/{mine['id']}/reblog", headers=fan.headers)
        await client.post(f"/api/v1/statuses/{private['id']}/favourite", headers=fan.headers)
    await post(bob, "@alice hello")
    await post(carol, "@alice private word", visibility="direct")
    await post(dave, "@alice from dave")
    await client.post(f"/api/v1/accounts/{dave.id}/block", headers=alice.headers)  # his are hidden now
    await client.post(
        f"/api/v1/accounts/{carol.id}/mute", json={"notifications": True}, headers=alice.headers
    )
    everything = (await client.get("/api/v1/notifications", headers=alice.headers)).json()
    assert {n["account"]["username"] for n in everything} == {"bob"}
    await client.post(f"/api/v1/accounts/{carol.id}/unmute", headers=alice.headers)
    ids = [int(n["id"]) for n in (await client.get("/api/v1/notifications", headers=alice.headers)).json()]
    assert len(ids) == 10  # bob's and carol's each: a follow, 2 favourites, a boost, a mention
    asked: list[dict[str, Any]] = [
        {},
        {"limit": 3},
        {"max_id": ids[2], "limit": 2},
        {"min_id": ids[-2], "limit": 3},
        {"since_id": ids[5]},
        {"types[]": ["mention", "favourite"]},
        {"exclude_types[]": ["follow", "reblog"]},
        {"types[]": "follow", "exclude_types[]": "follow"},
        {"account_id": bob.id},
    ]
    hot = []
    for params in asked:
        r = await client.get("/api/v1/notifications", params=params, headers=alice.headers)
        hot.append((r.status_code, r.json(), r.headers.get("link")))
    assert [n["type"] for n in hot[5][1]] and {n["type"] for n in hot[5][1]} <= {"mention", "favourite"}
    words = {"title": "nothing", "context": ["notifications"], "keywords_attributes": [{"keyword": "zzyzx"}]}
    assert (await client.post("/api/v2/filters", json=words, headers=alice.headers)).status_code == 200
    for params, answer in zip(asked, hot, strict=True):
        r = await client.get("/api/v1/notifications", params=params, headers=alice.headers)
        assert (r.status_code, r.json(), r.headers.get("link")) == answer, params
