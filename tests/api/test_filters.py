"""Filters v2: CRUD with keywords and statuses, and their effect where notes are shown — hidden or
flagged per context (home, public, notifications, thread, account)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update

from cordee.db.engine import Database
from cordee.db.tables_curation import Filter
from cordee.events.types import Event, FiltersChanged
from tests.conftest import ApiUser

Post = Callable[..., Awaitable[dict[str, Any]]]


def _ids(r: httpx.Response) -> list[str]:
    assert r.status_code == 200, r.text
    return [s["id"] for s in r.json()]


async def _filter(client: httpx.AsyncClient, user: ApiUser, **fields: Any) -> dict[str, Any]:
    r = await client.post("/api/v2/filters", json=fields, headers=user.headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_filter_crud_keywords_and_statuses(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser, events: Sequence[Event]
) -> None:
    created = await _filter(
        client,
        alice,
        title="Spoilers",
        context=["home", "public"],
        filter_action="hide",
        expires_in=3600,
        keywords_attributes=[{"keyword": "finale", "whole_word": False}, {"keyword": "ending"}],
    )
    assert created["title"] == "Spoilers" and created["context"] == ["home", "public"]
    assert created["filter_action"] == "hide" and created["statuses"] == []
    expires = datetime.fromisoformat(created["expires_at"].replace("Z", "+00:00"))
    assert timedelta(minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=1)
    assert [(k["keyword"], k["whole_word"]) for k in created["keywords"]] == [
        ("finale", False),
        ("ending", True),
    ]
    assert [e for e in events if isinstance(e, FiltersChanged)] == [FiltersChanged(int(alice.id))]

    # The same through a form, Rails style, as some apps send it.
    form = await client.post(
        "/api/v2/filters",
        data={
            "title": "Form",
            "context[]": ["thread"],
            "keywords_attributes[0][keyword]": "alpha",
            "keywords_attributes[0][whole_word]": "false",
            "keywords_attributes[1][keyword]": "beta",
        },
        headers=alice.headers,
    )
    assert [(k["keyword"], k["whole_word"]) for k in form.json()["keywords"]] == [
        ("alpha", False),
        ("beta", True),
    ]

    url = f"/api/v2/filters/{created['id']}"
    finale, ending = created["keywords"]
    changed = await client.put(
        url,
        json={
            "title": "TV",
            "context": ["home"],
            "filter_action": "warn",
            "expires_in": "",
            "keywords_attributes": [
                {"id": finale["id"], "_destroy": True},
                {"id": ending["id"], "keyword": "the end"},
                {"keyword": "season"},
            ],
        },
        headers=alice.headers,
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["title"], body["context"], body["filter_action"], body["expires_at"]) == (
        "TV",
        ["home"],
        "warn",
        None,
    )
    assert [k["keyword"] for k in body["keywords"]] == ["the end", "season"]

    keyword = await client.post(f"{url}/keywords", data={"keyword": "cliffhanger"}, headers=alice.headers)
    assert keyword.json()["whole_word"] is True
    kw_url = f"/api/v2/filters/keywords/{keyword.json()['id']}"
    assert (await client.put(kw_url, data={"whole_word": "false"}, headers=alice.headers)).json()[
        "whole_word"
    ] is False
    assert (
        await client.get(f"/api/v2/filter_keywords/{keyword.json()['id']}", headers=alice.headers)
    ).status_code == 200
    assert len((await client.get(f"{url}/keywords", headers=alice.headers)).json()) == 3

    note = await post(bob, "a note to filter")
    filtered = await client.post(f"{url}/statuses", data={"status_id": note["id"]}, headers=alice.headers)
    assert filtered.json()["status_id"] == note["id"]
    assert (
        await client.post(f"{url}/statuses", data={"status_id": note["id"]}, headers=alice.headers)
    ).status_code == 422
    assert (
        await client.post(f"{url}/statuses", data={"status_id": "999"}, headers=alice.headers)
    ).status_code == 404
    st_url = f"/api/v2/filters/statuses/{filtered.json()['id']}"
    assert (await client.get(st_url, headers=alice.headers)).json() == filtered.json()
    assert [s["status_id"] for s in (await client.get(f"{url}/statuses", headers=alice.headers)).json()] == [
        note["id"]
    ]

    # Bad input: clear errors, nothing changed.
    before = (await client.get(url, headers=alice.headers)).json()
    bad: dict[str, Any]
    for bad in (
        {"context": ["everywhere"]},
        {"filter_action": "explode"},
        {"title": " "},
        {"expires_in": -5},
        {"keywords_attributes": [{"keyword": ""}]},
        {"title": "new", "keywords_attributes": [{"id": "42", "keyword": "x"}]},
    ):
        r = await client.put(url, json=bad, headers=alice.headers)
        assert r.status_code in (404, 422), (bad, r.text)
    assert (await client.get(url, headers=alice.headers)).json() == before
    for bad in (
        {"context": ["home"]},
        {"title": "No context"},
        {"title": "x", "context": ["home"], "filter_action": "x"},
    ):
        assert (await client.post("/api/v2/filters", json=bad, headers=alice.headers)).status_code == 422
    assert len((await client.get("/api/v2/filters", headers=alice.headers)).json()) == 2

    # Someone else's filter, keyword or status rule: not found, and untouched.
    for method, path in (
        ("GET", url),
        ("PUT", url),
        ("DELETE", url),
        ("GET", f"{url}/keywords"),
        ("POST", f"{url}/keywords"),
        ("GET", kw_url),
        ("DELETE", kw_url),
        ("GET", st_url),
        ("DELETE", st_url),
    ):
        r = await client.request(method, path, json={"keyword": "mine", "title": "mine"}, headers=bob.headers)
        assert r.status_code == 404, (method, path)
    assert (await client.get(url, headers=alice.headers)).json() == before
    assert (await client.get("/api/v2/filters", headers=bob.headers)).json() == []

    assert (await client.delete(st_url, headers=alice.headers)).json() == {}
    assert (await client.delete(kw_url, headers=alice.headers)).json() == {}
    assert (await client.delete(url, headers=alice.headers)).json() == {}
    assert (await client.get(url, headers=alice.headers)).status_code == 404
    assert len([e for e in events if isinstance(e, FiltersChanged)]) == 9


async def test_hide_filter_in_home_but_not_on_profile(
    client: httpx.AsyncClient, db: Database, post: Post, alice: ApiUser, bob: ApiUser
) -> None:
    await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice.headers)
    hidden = await post(bob, "The Finale was great")
    kept = await post(bob, "Nothing to see")
    spoiler = await post(bob, "careful", spoiler_text="finale inside")
    flt = await _filter(
        client,
        alice,
        title="No spoilers",
        context=["home"],
        filter_action="hide",
        keywords_attributes=[{"keyword": "finale"}],
    )

    assert _ids(await client.get("/api/v1/timelines/home", headers=alice.headers)) == [kept["id"]]
    profile = (await client.get(f"/api/v1/accounts/{bob.id}/statuses", headers=alice.headers)).json()
    assert [s["id"] for s in profile] == [spoiler["id"], kept["id"], hidden["id"]]
    assert all(s["filtered"] == [] for s in profile)
    # Bob's own view, and everyone else's, are not Alice's business.
    assert hidden["id"] in _ids(await client.get("/api/v1/timelines/home", headers=bob.headers))

    await client.put(
        f"/api/v2/filters/{flt['id']}", json={"context": ["home", "account"]}, headers=alice.headers
    )
    assert _ids(await client.get(f"/api/v1/accounts/{bob.id}/statuses", headers=alice.headers)) == [
        kept["id"]
    ]
    assert len(_ids(await client.get(f"/api/v1/accounts/{bob.id}/statuses"))) == 3  # anonymous

    # A page holds fewer notes when some are hidden, but the Link header follows the rows read.
    page = await client.get("/api/v1/timelines/home", params={"limit": 2}, headers=alice.headers)
    assert _ids(page) == [kept["id"]]
    assert f"max_id={kept['id']}" in page.headers["link"] and 'rel="next"' in page.headers["link"]

    # An expired filter no longer applies.
    async with db.write() as tx:
        past = datetime.now(UTC) - timedelta(minutes=1)
        await tx.session.execute(update(Filter).where(Filter.id == int(flt["id"])).values(expires_at=past))
    assert len(_ids(await client.get("/api/v1/timelines/home", headers=alice.headers))) == 3


async def test_warn_filter_flags_notes_where_shown(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    await client.post(f"/api/v1/accounts/{carol.id}/follow", headers=alice.headers)
    cat = await post(bob, "My Cat! #pets")
    category = await post(bob, "a category of things")
    other = await post(bob, "a dog")
    flt = await _filter(
        client,
        alice,
        title="Cats",
        context=["public", "home", "thread"],
        filter_action="warn",
        keywords_attributes=[
            {"keyword": "cat", "whole_word": True},
            {"keyword": "#pets", "whole_word": True},
        ],
    )
    await client.post(
        f"/api/v2/filters/{flt['id']}/statuses", data={"status_id": other["id"]}, headers=alice.headers
    )

    public = {
        s["id"]: s for s in (await client.get("/api/v1/timelines/public", headers=alice.headers)).json()
    }
    [result] = public[cat["id"]]["filtered"]
    assert result["filter"] == {
        "id": flt["id"],
        "title": "Cats",
        "context": ["public", "home", "thread"],
        "filter_action": "warn",
        "expires_at": None,
    }
    assert sorted(result["keyword_matches"]) == ["#pets", "cat"] and result["status_matches"] is None
    assert public[category["id"]]["filtered"] == []
    assert public[other["id"]]["filtered"][0]["status_matches"] == [other["id"]]
    anonymous = (await client.get("/api/v1/timelines/public")).json()
    assert all(s["filtered"] == [] for s in anonymous)
    assert (await client.get("/api/v1/timelines/tag/pets", headers=alice.headers)).json()[0]["filtered"]

    # A boost is judged by the note it carries.
    boost = (await client.post(f"/api/v1/statuses/{cat['id']}/reblog", headers=carol.headers)).json()
    home = {s["id"]: s for s in (await client.get("/api/v1/timelines/home", headers=alice.headers)).json()}
    assert home[boost["id"]]["filtered"][0]["filter"]["id"] == flt["id"]
    assert home[boost["id"]]["reblog"]["filtered"][0]["keyword_matches"]

    # Threads: replies are flagged, or left out when the filter hides.
    reply = await post(carol, "@bob your cat is cute", in_reply_to_id=other["id"])
    context = (await client.get(f"/api/v1/statuses/{other['id']}/context", headers=alice.headers)).json()
    assert [s["id"] for s in context["descendants"]] == [reply["id"]] and context["descendants"][0][
        "filtered"
    ]
    await client.put(f"/api/v2/filters/{flt['id']}", json={"filter_action": "hide"}, headers=alice.headers)
    context = (await client.get(f"/api/v1/statuses/{reply['id']}/context", headers=alice.headers)).json()
    assert context == {"ancestors": [], "descendants": []}  # its parent is filtered by status
    assert (await client.get(f"/api/v1/statuses/{reply['id']}/context", headers=bob.headers)).json()[
        "ancestors"
    ]

    # One's own notes are never filtered.
    mine = await post(alice, "my cat")
    assert mine["id"] in _ids(await client.get("/api/v1/timelines/public", headers=alice.headers))


async def test_filters_in_notifications(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser
) -> None:
    rude = await post(bob, "@alice you absolute donkey")
    nice = await post(bob, "@alice hello")
    await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)
    await _filter(
        client,
        alice,
        title="Rude",
        context=["notifications"],
        filter_action="hide",
        keywords_attributes=[{"keyword": "donkey"}],
    )
    notes = (await client.get("/api/v1/notifications", headers=alice.headers)).json()
    assert [(n["type"], n.get("status", {}).get("id")) for n in notes] == [
        ("follow", None),
        ("mention", nice["id"]),
    ]
    assert rude["id"] in _ids(await client.get("/api/v1/timelines/public", headers=alice.headers))


async def test_home_and_profile_pages_read_the_same_with_a_filter_that_matches_nothing(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    """A reader with filters reads the hot paths' pages rendered through them: with a filter that
    matches nothing, every page is the one read without filters, whole (bodies, marks, counters)."""
    for followed in (bob, carol):
        await client.post(f"/api/v1/accounts/{followed.id}/follow", headers=alice.headers)
    notes = [await post(bob if i % 2 else carol, f"note {i}") for i in range(12)]
    await client.post(f"/api/v1/statuses/{notes[2]['id']}/reblog", headers=bob.headers)
    await client.post(f"/api/v1/statuses/{notes[3]['id']}/favourite", headers=alice.headers)
    await post(bob, "a reply", in_reply_to_id=notes[4]["id"])
    bounds = [{}, {"limit": 5}, {"max_id": notes[7]["id"]}, {"since_id": notes[3]["id"], "limit": 4}]
    pages = [("/api/v1/timelines/home", b) for b in [*bounds, {"min_id": notes[9]["id"]}]]
    pages += [(f"/api/v1/accounts/{bob.id}/statuses", b) for b in [*bounds, {"exclude_replies": "true"}]]
    before = [(await client.get(url, params=p, headers=alice.headers)).json() for url, p in pages]
    words = [{"keyword": "zzyzx"}]
    await _filter(client, alice, title="nothing", context=["home", "account"], keywords_attributes=words)
    for (url, params), expected in zip(pages, before, strict=True):
        r = await client.get(url, params=params, headers=alice.headers)
        assert r.status_code == 200 and r.json() == expected, (url, params)
