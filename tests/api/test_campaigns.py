"""Campaigns, chapters, the ledger and its totals through the API (docs/campaigns.md)."""

from __future__ import annotations

import asyncio
import csv
import io
from typing import Any

import httpx

from tests.conftest import ApiUser

CHAPTER = {
    "city": "Lyon",
    "venue": "La Sucrière",
    "starts_at": "2027-02-12T19:00:00+01:00",
    "time_zone": "Europe/Paris",
    "hashtag": "TwestivalLyon",
    "currency": "EUR",
    "locale": "fr_FR",
    "capacity": 300,
}


async def make_campaign(client: httpx.AsyncClient, owner: ApiUser, **extra: Any) -> dict[str, Any]:
    body = {
        "title": "Twestival 2027",
        "hashtag": "#Twestival",
        "cause": "Clean water",
        "goal_cents": 2_000_000,
    }
    r = await client.post(
        "/api/v1/campaigns", json={**body, "currency": "EUR", **extra}, headers=owner.headers
    )
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_campaign_chapters_ledger_totals_and_csv(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    campaign = await make_campaign(client, alice)
    assert (campaign["hashtag"], campaign["goal_cents"], campaign["currency"]) == (
        "Twestival",
        2_000_000,
        "EUR",
    )
    assert [a["id"] for a in campaign["organisers"]] == [alice.id]
    cid = campaign["id"]

    # Anyone proposes; only the campaign's organisers approve.
    r = await client.post(f"/api/v1/campaigns/{cid}/chapters", json=CHAPTER, headers=bob.headers)
    assert r.status_code == 200, r.text
    chapter = r.json()
    assert chapter["status"] == "proposed"
    assert chapter["starts_at"] == "2027-02-12T18:00:00.000Z"
    assert chapter["local_starts_at"] == "2027-02-12T19:00:00+01:00"
    assert [(o["role"], o["account"]["id"]) for o in chapter["organisers"]] == [("lead", bob.id)]
    ch = chapter["id"]
    assert (await client.get(f"/api/v1/campaigns/{cid}/chapters")).json() == []
    proposed = (await client.get(f"/api/v1/campaigns/{cid}/chapters?status=proposed")).json()
    assert [c["id"] for c in proposed] == [ch]
    # A proposed chapter takes no money yet.
    donation = {"kind": "donation", "amount_cents": 12_50, "currency": "EUR", "note": "=HYPERLINK(1)"}
    r = await client.post(f"/api/v1/chapters/{ch}/ledger", json=donation, headers=bob.headers)
    assert r.status_code == 422
    r = await client.post(f"/api/v1/chapters/{ch}/approve", headers=bob.headers)
    assert r.status_code == 403 and "error" in r.json()
    r = await client.post(f"/api/v1/chapters/{ch}/approve", headers=alice.headers)
    assert r.json()["status"] == "approved"
    assert [c["city"] for c in (await client.get(f"/api/v1/campaigns/{cid}/chapters")).json()] == ["Lyon"]

    # The ledger: organisers record, nobody else; money is whole cents.
    r = await client.post(f"/api/v1/chapters/{ch}/ledger", json=donation, headers=bob.headers)
    assert r.status_code == 200, r.text
    entry = r.json()
    assert (entry["amount_cents"], entry["amount"], entry["recorded_by"]) == (1250, "12.50", bob.id)
    for body, status in [
        ({**donation, "amount_cents": "12.50"}, 422),
        ({**donation, "amount_cents": 12.5}, 422),
        ({**donation, "amount_cents": -5}, 422),
        ({**donation, "currency": "USD"}, 422),
        ({**donation, "kind": "gift"}, 422),
    ]:
        r = await client.post(f"/api/v1/chapters/{ch}/ledger", json=body, headers=bob.headers)
        assert r.status_code == status and "error" in r.json(), (body, r.text)
    r = await client.post(f"/api/v1/chapters/{ch}/ledger", json=donation, headers=carol.headers)
    assert r.status_code == 403
    # Form-encoded too (a door phone's plain form).
    r = await client.post(
        f"/api/v1/chapters/{ch}/ledger",
        data={"kind": "raffle", "amount_cents": "500", "currency": "eur"},
        headers=bob.headers,
    )
    assert r.status_code == 200, r.text
    # A treasurer may correct; the correction is a new entry.
    r = await client.post(
        f"/api/v1/chapters/{ch}/organisers",
        json={"account_id": carol.id, "role": "treasurer"},
        headers=bob.headers,
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        f"/api/v1/ledger_entries/{entry['id']}/corrections",
        json={"amount_cents": -250, "note": "a 2.50 coin was foreign"},
        headers=carol.headers,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["kind"], r.json()["corrects_id"]) == ("correction", entry["id"])
    r = await client.post(
        f"/api/v1/ledger_entries/{entry['id']}/corrections",
        json={"amount_cents": -1001, "note": "x"},
        headers=carol.headers,
    )
    assert r.status_code == 422

    # Totals (public) are the sum of the entries.
    totals = (await client.get(f"/api/v1/chapters/{ch}/totals")).json()
    assert (totals["raised_cents"], totals["entries"]) == (1250 + 500 - 250, 3)
    whole = (await client.get(f"/api/v1/campaigns/{cid}/totals")).json()
    assert (whole["raised_cents"], whole["goal_cents"]) == (1500, 2_000_000)
    assert (await client.get(f"/api/v1/campaigns/{cid}")).json()["totals"]["raised_cents"] == 1500
    listed = (await client.get(f"/api/v1/chapters/{ch}/ledger", headers=carol.headers)).json()
    assert sum(e["amount_cents"] for e in listed) == 1500

    # The entries and the CSV are for organisers; a spreadsheet formula stays text.
    r = await client.get(f"/api/v1/chapters/{ch}/ledger.csv", headers=carol.headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert sum(int(x["amount_cents"]) for x in rows) == 1500
    assert {x["note"] for x in rows} >= {"'=HYPERLINK(1)"}
    assert (await client.get(f"/api/v1/chapters/{ch}/ledger.csv", headers=alice.headers)).status_code == 200
    r = await client.get(f"/api/v1/campaigns/{cid}/ledger.csv", headers=alice.headers)
    assert [x["city"] for x in csv.DictReader(io.StringIO(r.text))] == ["Lyon"] * 3
    assert (await client.get(f"/api/v1/campaigns/{cid}/ledger.csv", headers=bob.headers)).status_code == 403
    r = await client.post(
        f"/api/v1/chapters/{ch}/organisers",
        json={"account_id": carol.id, "role": "door"},
        headers=bob.headers,
    )
    assert (await client.get(f"/api/v1/chapters/{ch}/ledger", headers=carol.headers)).status_code == 403

    # The wall's moderation: any organiser role hides a public note; a private one is not found.
    private = await client.post(
        "/api/v1/statuses", json={"status": "psst", "visibility": "private"}, headers=bob.headers
    )
    public = await client.post("/api/v1/statuses", json={"status": "#TwestivalLyon yay"}, headers=bob.headers)
    hide = f"/api/v1/chapters/{ch}/wall/hidden"
    assert (
        await client.post(hide, json={"status_id": private.json()["id"]}, headers=carol.headers)
    ).status_code == 404
    assert (
        await client.post(hide, json={"status_id": public.json()["id"]}, headers=carol.headers)
    ).status_code == 200
    assert (
        await client.post(hide, json={"status_id": public.json()["id"]}, headers=carol.headers)
    ).status_code == 200
    shown = await client.get(f"/chapters/{ch}/wall/notes")
    assert shown.status_code == 200 and shown.json() == []
    # Moderation before notes show: a new note waits until an organiser approves it.
    moderation = f"/api/v1/chapters/{ch}/wall_moderation"
    assert (
        await client.post(moderation, json={"moderation": "before"}, headers=carol.headers)
    ).status_code == 403
    r = await client.post(moderation, json={"moderation": "before"}, headers=bob.headers)
    assert r.json()["wall_moderation"] == "before"
    waiting = (
        await client.post("/api/v1/statuses", json={"status": "#Twestival hi"}, headers=carol.headers)
    ).json()
    assert (await client.get(f"/chapters/{ch}/wall/notes")).json() == []
    approve = f"/api/v1/chapters/{ch}/wall/approved"
    assert (
        await client.post(approve, json={"status_id": waiting["id"]}, headers=carol.headers)
    ).status_code == 200
    assert [n["id"] for n in (await client.get(f"/chapters/{ch}/wall/notes")).json()] == [waiting["id"]]

    await _bad_input_gives_clear_errors(client, alice, cid)


async def _bad_input_gives_clear_errors(client: httpx.AsyncClient, alice: ApiUser, cid: str) -> None:
    """Run by the test above (one database and set of users less to make)."""
    # The same new hashtag three times at once: one campaign, two clear refusals (not a 500 from
    # the unique constraint on PostgreSQL).
    body = {"title": "Race", "hashtag": "Race", "goal_cents": 100, "currency": "EUR"}
    raced = await asyncio.gather(
        *(client.post("/api/v1/campaigns", json=body, headers=alice.headers) for _ in range(3))
    )
    assert sorted(r.status_code for r in raced) == [200, 422, 422]
    r = await client.post(
        "/api/v1/campaigns",
        json={"title": "Again", "hashtag": "twestival", "goal_cents": 5, "currency": "EUR"},
        headers=alice.headers,
    )
    assert r.status_code == 422  # the hashtag is taken, whatever its case
    for change in [
        {"currency": "EURO"},
        {"time_zone": "Mars/Olympus"},
        {"starts_at": "2027-02-12T19:00:00"},
        {"starts_at": "tomorrow"},
        {"locale": "xx_YY_ZZ"},
        {"hashtag": "two words"},
        {"ends_at": "2027-02-12T17:00:00Z"},
        {"starts_at": "9999-12-31T23:59:59-01:00"},  # found by review: overflowed into a 500
    ]:
        r = await client.post(
            f"/api/v1/campaigns/{cid}/chapters", json={**CHAPTER, **change}, headers=alice.headers
        )
        assert r.status_code == 422 and "error" in r.json(), (change, r.text)
    r = await client.post("/api/v1/campaigns", json={"title": "x"}, headers=alice.headers)
    assert r.status_code == 422
    assert (await client.get("/api/v1/campaigns/123")).status_code == 404
    assert (await client.get("/api/v1/chapters/123/totals")).status_code == 404
    assert (await client.post("/api/v1/campaigns", json={})).status_code == 401
