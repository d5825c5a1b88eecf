"""Tracked searches through the API: CRUD and errors, matches recorded at posting time under the
owner's visibility, the column, sharing, alerts once per batch, digests, spikes, analytics on a
seeded data set (exact counts), CSV/JSON exports that round-trip, share of voice, corrections."""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

from cordee.config import Settings
from cordee.db.engine import Database
from cordee.db.types import utcnow
from cordee.domain.sentiment import label, score
from cordee.jobs.runner import run_due
from cordee.jobs.tracking import send_tracking_alerts
from tests.conftest import ApiUser

Post = Callable[..., Awaitable[dict[str, Any]]]
BASE = "/api/v1/cordee/tracked_searches"

sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


async def _create(client: httpx.AsyncClient, user: ApiUser, **fields: Any) -> dict[str, Any]:
    r = await client.post(BASE, json={"name": "Vélo", "query": "#velo", **fields}, headers=user.headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def _column(client: httpx.AsyncClient, user: ApiUser, search_id: str) -> list[str]:
    r = await client.get(f"{BASE}/{search_id}/statuses", headers=user.headers)
    assert r.status_code == 200, r.text
    return [s["id"] for s in r.json()]


@sqlite_only
async def test_crud_and_bad_input(client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser) -> None:
    created = await _create(client, alice, notify=True, spike_factor="4")
    assert created["name"] == "Vélo" and created["query"] == "#velo" and created["notify"] is True
    assert created["spike_factor"] == 4.0 and created["owned"] is True
    sid = created["id"]
    r = await client.put(f"{BASE}/{sid}", json={"name": "Bikes", "email_digest": True}, headers=alice.headers)
    assert r.status_code == 200 and r.json()["name"] == "Bikes" and r.json()["email_digest"] is True
    assert [s["id"] for s in (await client.get(BASE, headers=alice.headers)).json()] == [sid]
    second = (await _create(client, alice, name="Ponts", query="pont"))["id"]
    r = await client.post(f"{BASE}/order", json={"ids": [second]}, headers=alice.headers)
    assert r.status_code == 200 and [s["id"] for s in r.json()] == [second, sid]
    assert (
        await client.post(f"{BASE}/order", json={"ids": ["123"]}, headers=alice.headers)
    ).status_code == 404

    bad = [
        ({"name": "x", "query": '"unclosed'}, "Query is invalid: a quotation mark is not closed"),
        ({"name": "x", "query": "a OR"}, "Query is invalid: OR needs"),
        ({"name": "x", "query": "  "}, "Query can't be blank"),
        ({"name": "", "query": "velo"}, "Name can't be blank"),
        ({"name": "x", "query": "velo", "spike_factor": "lots"}, "spike_factor must be a number"),
        ({"name": "x", "query": "velo", "spike_window_minutes": 7}, "Spike window minutes must be one of"),
        ({"name": "x", "query": "velo", "member_ids": ["12345"]}, "members must be local accounts"),
    ]
    for body, reason in bad:
        r = await client.post(BASE, json=body, headers=alice.headers)
        assert r.status_code == 422, (body, r.text)
        assert reason in r.json()["error"]
    # Someone else's search is missing to bob, in every verb.
    for method in ("GET", "PUT", "DELETE"):
        r = await client.request(method, f"{BASE}/{sid}", json={"name": "mine"}, headers=bob.headers)
        assert r.status_code == 404 and r.json() == {"error": "Record not found"}
    assert (
        await client.get(f"{BASE}/{sid}/analytics?since=yesterday", headers=alice.headers)
    ).status_code == 422
    r = await client.get(f"{BASE}/{sid}/analytics?since=2026-01-01&until=2025-01-01", headers=alice.headers)
    assert r.status_code == 422 and "since must be before until" in r.json()["error"]
    r = await client.get(f"{BASE}/share_of_voice?ids[]={sid}", headers=alice.headers)
    assert r.status_code == 422
    assert (await client.get(BASE)).status_code == 401
    assert (await client.delete(f"{BASE}/{sid}", headers=alice.headers)).status_code == 200
    assert (await client.get(f"{BASE}/{sid}", headers=alice.headers)).status_code == 404


@sqlite_only  # the analytics test below covers the matching hook on PostgreSQL too
async def test_matches_follow_the_owners_visibility_and_sharing(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    old = await post(bob, "Un vieux #velo")
    r = await client.post(
        BASE, json={"name": "x", "query": "velo", "member_ids": [carol.id]}, headers=alice.headers
    )
    assert r.status_code == 422 and "members must be people who follow you" in r.json()["error"]
    assert (
        await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=carol.headers)
    ).status_code == 200
    search = await _create(client, alice, member_ids=[carol.id])
    sid = search["id"]
    assert search["member_ids"] == [carol.id]
    assert await _column(client, alice, sid) == [old["id"]]  # backfilled at creation

    public = await post(bob, "Mon #Velo est réparé")
    await post(bob, "Rien à voir")
    private = await post(bob, "Secret #velo", visibility="private")  # alice does not follow bob
    direct = await post(bob, "@alice un #velo pour toi", visibility="direct")
    assert await _column(client, alice, sid) == [direct["id"], public["id"], old["id"]]
    # carol reads the shared column, each note through her own visibility: not the direct note.
    assert await _column(client, carol, sid) == [public["id"], old["id"]]
    assert private["id"] not in await _column(client, alice, sid)
    # Only the owner changes it; a stranger does not even see it.
    assert (await client.put(f"{BASE}/{sid}", json={"name": "x"}, headers=carol.headers)).status_code == 404
    assert [s["owned"] for s in (await client.get(BASE, headers=carol.headers)).json()] == [False]
    assert (await client.get(f"{BASE}/{sid}/statuses", headers=bob.headers)).status_code == 404
    # A new query forgets the old matches and backfills the new ones.
    r = await client.put(f"{BASE}/{sid}", json={"query": "réparé"}, headers=alice.headers)
    assert r.status_code == 200
    assert await _column(client, alice, sid) == [public["id"]]
    # carol leaves the shared search; it stays alice's.
    assert (await client.delete(f"{BASE}/{sid}", headers=carol.headers)).status_code == 200
    assert (await client.get(f"{BASE}/{sid}", headers=carol.headers)).status_code == 404
    assert (await client.get(f"{BASE}/{sid}", headers=alice.headers)).json()["member_ids"] == []


async def _notifications(client: httpx.AsyncClient, user: ApiUser) -> list[dict[str, Any]]:
    r = await client.get("/api/v1/notifications", headers=user.headers)
    return [n for n in r.json() if n["type"].startswith("cordee.")]


@sqlite_only
async def test_alerts_once_per_batch_digest_and_spike(
    client: httpx.AsyncClient, post: Post, db: Database, settings: Settings, alice: ApiUser, bob: ApiUser
) -> None:
    search = await _create(client, alice, notify=True, email_digest=True, digest_minutes=0)
    mail = settings.data_dir / "mail"
    await run_due(db, settings)  # nothing matched yet: no alert
    assert await _notifications(client, alice) == []
    notes = [await post(bob, f"#velo numéro {i}") for i in range(3)]
    await run_due(db, settings)
    [first] = await _notifications(client, alice)
    assert first["type"] == "cordee.tracked_search" and first["status"]["id"] == notes[-1]["id"]
    [eml] = list(mail.glob("*.eml"))
    text = eml.read_text()
    assert "3 new notes for your tracked search" in text and "Subject:" in text
    await send_tracking_alerts(db, settings)
    assert len(await _notifications(client, alice)) == 1 and len(list(mail.glob("*.eml"))) == 1
    later = await post(bob, "encore un #velo")
    await send_tracking_alerts(db, settings)
    got = await _notifications(client, alice)
    assert [n["status"]["id"] for n in got] == [later["id"], notes[-1]["id"]]
    assert len(list(mail.glob("*.eml"))) == 2
    # types[] knows the new type; exclude_types[] leaves it out.
    r = await client.get("/api/v1/notifications?types[]=cordee.tracked_search", headers=alice.headers)
    assert r.status_code == 200 and len(r.json()) == 2

    # A spike: 5 notes in the window against an empty baseline (factor 3 of at least 1).
    r = await client.put(
        f"{BASE}/{search['id']}", json={"spike_alert": True, "notify": False}, headers=alice.headers
    )
    assert r.status_code == 200
    await send_tracking_alerts(db, settings)
    spikes = [n for n in await _notifications(client, alice) if n["type"] == "cordee.tracked_search.spike"]
    assert len(spikes) == 0  # 4 notes so far: under MIN_SPIKE
    await post(bob, "le cinquième #velo")
    await send_tracking_alerts(db, settings)
    await send_tracking_alerts(db, settings, now=utcnow() + timedelta(minutes=1))
    spikes = [n for n in await _notifications(client, alice) if n["type"] == "cordee.tracked_search.spike"]
    assert len(spikes) == 1  # once per window
    assert any("Spike on your tracked search" in p.read_text() for p in mail.glob("*.eml"))


async def test_analytics_on_a_seeded_set(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    for follower, target in ((carol, bob), (alice, bob), (bob, carol)):
        r = await client.post(f"/api/v1/accounts/{target.id}/follow", headers=follower.headers)
        assert r.status_code == 200
    seeded = [
        (bob, "J'adore le vélo, c'est génial ! #velo #paris", "fr"),
        (bob, "Le vélo électrique est horrible et nul #velo", "fr"),
        (carol, "Riding my bike to the market #velo #sun", "en"),
        (carol, "A bike is a bike, great bike #bike", "en"),
    ]
    ids = [(await post(u, t, language=lang))["id"] for u, t, lang in seeded]
    await post(carol, "Nothing to see here #sun")
    await post(bob, "followers only #velo", visibility="private")  # alice follows bob: she sees it
    velo = (await _create(client, alice))["id"]
    bike = (await _create(client, alice, name="Bike", query="bike"))["id"]

    r = await client.get(f"{BASE}/{velo}/analytics?bucket=day", headers=alice.headers)
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["total"] == 4 and data["authors"] == 2
    assert [(a["account"]["acct"], a["count"]) for a in data["top_authors"]] == [("bob", 3), ("carol", 1)]
    assert [(h["name"], h["count"]) for h in data["hashtags"]] == [("velo", 4), ("paris", 1), ("sun", 1)]
    assert data["reach"] == 2 + 1  # bob has 2 followers, carol 1
    assert data["impressions"] == 3 * 2 + 1
    assert sum(v["count"] for v in data["volume"]) == 4 and len(data["volume"]) == 8  # 7 days + today
    hourly = (await client.get(f"{BASE}/{velo}/analytics?bucket=hour", headers=alice.headers)).json()
    assert sum(v["count"] for v in hourly["volume"]) == 4 and len(hourly["volume"]) in (168, 169)
    assert [v["at"][14:] for v in hourly["volume"][:2]] == ["00:00.000Z"] * 2  # whole UTC hours
    expected = {"positive": 0, "neutral": 0, "negative": 0}
    for _, text, lang in seeded[:3]:
        expected[label(score(text, lang))] += 1
    expected[label(score("followers only #velo", None))] += 1
    assert data["sentiment"] == expected
    assert expected["positive"] >= 1 and expected["negative"] >= 1  # the lexicons see both sides

    # A person's correction wins, for them only.
    r = await client.put(
        f"/api/v1/cordee/sentiment/{ids[2]}", json={"label": "negative"}, headers=alice.headers
    )
    assert r.status_code == 200
    corrected = (await client.get(f"{BASE}/{velo}/analytics", headers=alice.headers)).json()["sentiment"]
    moved = dict(expected)
    moved[label(score(seeded[2][1], "en"))] -= 1
    moved["negative"] += 1
    assert corrected == moved
    r = await client.put(
        f"/api/v1/cordee/sentiment/{ids[2]}", json={"label": "furious"}, headers=alice.headers
    )
    assert r.status_code == 422

    # Exports: the CSV reads back to exactly the JSON export.
    as_json = (await client.get(f"{BASE}/{velo}/export?format=json", headers=alice.headers)).json()
    r = await client.get(f"{BASE}/{velo}/export?format=csv", headers=alice.headers)
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 4
    typed = [
        {
            **row,
            "followers_count": int(row["followers_count"]),
            "sentiment_score": float(row["sentiment_score"]),
            "corrected": row["corrected"] == "true",
        }
        for row in rows
    ]
    assert typed == as_json
    assert [row["corrected"] for row in as_json].count(True) == 1

    # Share of voice, hashtag analytics, charts.
    r = await client.get(f"{BASE}/share_of_voice?ids[]={velo}&ids[]={bike}", headers=alice.headers)
    shares = {s["name"]: (s["count"], s["share"]) for s in r.json()["searches"]}
    assert shares == {"Vélo": (4, 0.6667), "Bike": (2, 0.3333)}
    tag = (await client.get("/api/v1/cordee/hashtags/sun/analytics", headers=alice.headers)).json()
    assert tag["total"] == 2 and [(h["name"], h["count"]) for h in tag["hashtags"]] == [("velo", 1)]
    bob_tag = (await client.get("/api/v1/cordee/hashtags/velo/analytics", headers=bob.headers)).json()
    assert bob_tag["total"] == 4
    r = await client.get(f"{BASE}/{velo}/chart.svg?kind=sentiment", headers=alice.headers)
    assert r.headers["content-type"].startswith("image/svg+xml") and "<title" in r.text


@sqlite_only
async def test_an_edit_is_matched_again(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser
) -> None:
    sid = (await _create(client, alice, query="pont"))["id"]
    note = await post(bob, "Le pont est ouvert")
    other = await post(bob, "La route est ouverte")
    assert await _column(client, alice, sid) == [note["id"]]
    for status, text in ((note, "La passerelle est ouverte"), (other, "La route passe sur le pont")):
        r = await client.put(f"/api/v1/statuses/{status['id']}", json={"status": text}, headers=bob.headers)
        assert r.status_code == 200, r.text
    assert await _column(client, alice, sid) == [other["id"]]


def test_the_prefilter_never_hides_a_match() -> None:
    """``may_match`` (the cheap check a post runs first) is a necessary condition of ``matches``."""
    from datetime import UTC, datetime

    from cordee.actions.tracked_matching import _Compiled
    from cordee.search.match import NoteFacts, matches
    from cordee.search.query import parse

    queries = [
        "bénévoles",
        '"assemblée générale"',
        "climat OR météo -pluie",
        "#velo OR @alice",
        "from:bob vélo",
        "lang:en running",
        "has:media pont",
        "école -#spam",
        '"l\'école" OR benevole',
        "-from:carol marché",
    ]
    texts = [
        ("Les Bénévoles de l'assemblée générale", "fr"),
        ("I was running, he runs", "en"),
        ("La météo annonce de la pluie", "fr"),
        ("Un pont, une École", "fr"),
        ("Le climat change", None),
        ("bénévole au marché", "fr"),
        ("l'école est fermée", "fr"),
    ]
    compiled = [_Compiled.of(i, 1, parse(q)) for i, q in enumerate(queries)]
    seen = 0
    for text, language in texts:
        for tags in (frozenset(), frozenset({"velo", "spam"})):
            for author in ("bob", "carol"):
                note = NoteFacts(
                    text=text,
                    language=language,
                    tags=tags,
                    author=author,
                    created_at=datetime.now(UTC),
                    has_media=author == "bob",
                    mentions=frozenset({"alice"}) if tags else frozenset(),
                )
                for c in compiled:
                    if matches(c.query, note):
                        seen += 1
                        assert c.may_match(note), (c.query.source, text)
    assert seen > 20
