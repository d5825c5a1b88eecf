"""Filters v1 (``/api/v1/filters``), still used by older apps: each v1 filter is one keyword of a
v2 filter, as in Mastodon's Api::V1::FiltersController."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.conftest import ApiUser, MakeUser

Post = Callable[..., Awaitable[dict[str, Any]]]
V1_KEYS = {"id", "phrase", "context", "whole_word", "expires_at", "irreversible"}


async def test_v1_filter_crud_is_a_keyword_of_a_v2_filter(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser
) -> None:
    r = await client.post(
        "/api/v1/filters",
        data={
            "phrase": "spoiler",
            "context[]": ["home", "public"],
            "irreversible": "true",
            "whole_word": "false",
            "expires_in": "3600",
        },
        headers=alice.headers,
    )
    assert r.status_code == 200, r.text
    made = r.json()
    assert set(made) == V1_KEYS
    assert made["phrase"] == "spoiler" and made["context"] == ["home", "public"]
    assert made["irreversible"] is True and made["whole_word"] is False
    expires = datetime.fromisoformat(made["expires_at"].replace("Z", "+00:00"))
    assert timedelta(minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=1)

    # The v2 view: a filter titled after the phrase, hiding, with that one keyword (same id).
    [v2] = (await client.get("/api/v2/filters", headers=alice.headers)).json()
    assert v2["title"] == "spoiler" and v2["filter_action"] == "hide"
    assert v2["keywords"] == [{"id": made["id"], "keyword": "spoiler", "whole_word": False}]

    listed = await client.get("/api/v1/filters", headers=alice.headers)
    assert listed.json() == [made]
    assert (await client.get(f"/api/v1/filters/{made['id']}", headers=alice.headers)).json() == made
    # Someone else's is not found, to read, change or delete.
    url = f"/api/v1/filters/{made['id']}"
    assert (await client.get(url, headers=bob.headers)).status_code == 404
    assert (await client.put(url, json={"phrase": "x"}, headers=bob.headers)).status_code == 404
    assert (await client.delete(url, headers=bob.headers)).status_code == 404
    assert (await client.get("/api/v1/filters", headers=bob.headers)).json() == []

    # Update: JSON this time; an empty expires_in means "never", irreversible=false is "warn".
    changed = await client.put(
        url,
        json={
            "phrase": "finale",
            "context": ["thread"],
            "irreversible": False,
            "whole_word": True,
            "expires_in": "",
        },
        headers=alice.headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json() == {
        "id": made["id"],
        "phrase": "finale",
        "context": ["thread"],
        "whole_word": True,
        "expires_at": None,
        "irreversible": False,
    }
    [v2] = (await client.get("/api/v2/filters", headers=alice.headers)).json()
    assert v2["title"] == "finale" and v2["filter_action"] == "warn" and v2["context"] == ["thread"]

    # Delete removes the keyword (as Mastodon: the emptied v2 filter stays).
    assert (await client.delete(url, headers=alice.headers)).json() == {}
    assert (await client.get(url, headers=alice.headers)).status_code == 404
    assert (await client.get("/api/v1/filters", headers=alice.headers)).json() == []
    [v2] = (await client.get("/api/v2/filters", headers=alice.headers)).json()
    assert v2["keywords"] == []


async def test_v1_lists_every_keyword_and_guards_shared_filters(
    client: httpx.AsyncClient, alice: ApiUser
) -> None:
    r = await client.post(
        "/api/v2/filters",
        json={
            "title": "Sports",
            "context": ["home"],
            "filter_action": "warn",
            "keywords_attributes": [{"keyword": "goal"}, {"keyword": "match", "whole_word": False}],
        },
        headers=alice.headers,
    )
    goal, match = r.json()["keywords"]
    listed = (await client.get("/api/v1/filters", headers=alice.headers)).json()
    assert [(f["id"], f["phrase"], f["context"], f["irreversible"]) for f in listed] == [
        (goal["id"], "goal", ["home"], False),
        (match["id"], "match", ["home"], False),
    ]
    # A keyword's own fields can change; the shared filter's cannot from a v1 app (Mastodon's rule).
    ok = await client.put(f"/api/v1/filters/{match['id']}", json={"whole_word": True}, headers=alice.headers)
    assert ok.status_code == 200 and ok.json()["whole_word"] is True
    for change in ({"context": ["public"]}, {"phrase": "football"}, {"irreversible": True}):
        refused = await client.put(f"/api/v1/filters/{goal['id']}", json=change, headers=alice.headers)
        assert refused.status_code == 422, (change, refused.text)
        assert "more than one filter keyword" in refused.json()["error"]
    [v2] = (await client.get("/api/v2/filters", headers=alice.headers)).json()
    assert v2["title"] == "Sports" and v2["context"] == ["home"]
    assert [k["keyword"] for k in v2["keywords"]] == ["goal", "match"]
    # The same values as the filter already has are not a change.
    same = await client.put(
        f"/api/v1/filters/{goal['id']}",
        json={"context": ["home"], "irreversible": False},
        headers=alice.headers,
    )
    assert same.status_code == 200, same.text


async def test_v1_filters_refuse_bad_input_and_hide(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, make_user: MakeUser, post: Post
) -> None:
    for fields in (
        {"context[]": ["home"]},  # no phrase
        {"phrase": "x"},  # no context
        {"phrase": "x", "context[]": ["elsewhere"]},
        {"phrase": "x", "context[]": ["home"], "expires_in": "-5"},
    ):
        r = await client.post("/api/v1/filters", data=fields, headers=alice.headers)
        assert r.status_code == 422, (fields, r.text)
        assert "error" in r.json()
    assert (await client.get("/api/v2/filters", headers=alice.headers)).json() == []
    assert (await client.get("/api/v1/filters/123", headers=alice.headers)).status_code == 404

    reader = await make_user("reader", scopes="read:filters")
    assert (await client.get("/api/v1/filters", headers=reader.headers)).status_code == 200
    denied = await client.post(
        "/api/v1/filters", data={"phrase": "x", "context[]": ["home"]}, headers=reader.headers
    )
    assert denied.status_code == 403

    # An irreversible v1 filter hides matching notes from the home timeline.
    await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice.headers)
    await client.post(
        "/api/v1/filters",
        data={"phrase": "spoiler", "context[]": ["home"], "irreversible": "true"},
        headers=alice.headers,
    )
    await post(bob, "a spoiler here")
    kept = await post(bob, "nothing to see")
    home = (await client.get("/api/v1/timelines/home", headers=alice.headers)).json()
    assert [s["id"] for s in home] == [kept["id"]]
