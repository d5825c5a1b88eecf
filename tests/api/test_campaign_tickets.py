"""RSVPs, tickets, the waiting list, payment at the door and offline check-in through the API."""

from __future__ import annotations

import asyncio

import httpx

from cordee.domain import ticket_codes
from tests.api.test_campaigns import CHAPTER, make_campaign
from tests.conftest import ApiUser, MakeUser


async def test_tickets_waiting_list_payment_and_door(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, carol: ApiUser, make_user: MakeUser
) -> None:
    dave, erin = await make_user("dave"), await make_user("erin")
    campaign = await make_campaign(client, alice)
    r = await client.post(
        f"/api/v1/campaigns/{campaign['id']}/chapters", json={**CHAPTER, "capacity": 3}, headers=alice.headers
    )
    ch = r.json()["id"]
    assert r.json()["status"] == "approved"  # proposed by a campaign organiser
    r = await client.post(
        f"/api/v1/chapters/{ch}/tiers", json={"name": "RSVP", "price_cents": 0}, headers=bob.headers
    )
    assert r.status_code == 403
    free = (
        await client.post(
            f"/api/v1/chapters/{ch}/tiers", json={"name": "RSVP", "price_cents": 0}, headers=alice.headers
        )
    ).json()
    r = await client.post(
        f"/api/v1/chapters/{ch}/tiers",
        json={"name": "Supporter", "price_cents": 1500, "capacity": 2},
        headers=alice.headers,
    )
    paid = r.json()
    assert (paid["price_cents"], paid["remaining"], free["free"]) == (1500, 2, True)

    # Four people want the two supporter places at the same moment: two get them, two wait.
    people = [bob, carol, dave, erin]
    answers = await asyncio.gather(
        *(
            client.post(f"/api/v1/chapters/{ch}/tickets", json={"tier_id": paid["id"]}, headers=p.headers)
            for p in people
        )
    )
    assert [a.status_code for a in answers] == [200] * 4
    tickets = {p.username: a.json() for p, a in zip(people, answers, strict=True)}
    holders = [p for p in people if tickets[p.username]["status"] == "confirmed"]
    waiting = sorted(
        (p for p in people if p not in holders), key=lambda p: tickets[p.username]["waiting_position"]
    )
    assert len(holders) == 2 and [tickets[p.username]["waiting_position"] for p in waiting] == [1, 2]
    first, second = holders
    assert tickets[first.username]["payment"]["provider"] == "offline"
    assert tickets[waiting[0].username]["code"] is None
    r = await client.post(f"/api/v1/chapters/{ch}/tickets", json={"tier_id": paid["id"]}, headers=bob.headers)
    assert r.status_code == 422  # one ticket per person
    # The free RSVP fills the venue (capacity 3).
    r = await client.post(
        f"/api/v1/chapters/{ch}/tickets", json={"tier_id": free["id"]}, headers=alice.headers
    )
    assert (r.json()["status"], r.json()["payment"]) == ("confirmed", None)

    # A place frees: the first in line gets it.
    cancelled_code = tickets[first.username]["code"]
    r = await client.post(f"/api/v1/tickets/{tickets[first.username]['id']}/cancel", headers=first.headers)
    assert r.json()["status"] == "cancelled"
    promoted = waiting[0]
    mine = (await client.get(f"/api/v1/chapters/{ch}/tickets/mine", headers=promoted.headers)).json()
    assert (mine["status"], mine["waiting_position"]) == ("confirmed", None)
    assert (await client.get(f"/api/v1/chapters/{ch}/tickets/mine", headers=waiting[1].headers)).json()[
        "waiting_position"
    ] == 1
    assert (await client.get(f"/api/v1/tickets/{mine['id']}", headers=waiting[1].headers)).status_code == 404
    r = await client.get(f"/api/v1/tickets/{mine['id']}/qr.svg", headers=promoted.headers)
    assert r.status_code == 200 and r.headers["content-type"] == "image/svg+xml" and b"<svg" in r.content

    # Paid at the door: a ticket entry in the ledger, once.
    r = await client.post(
        f"/api/v1/tickets/{mine['id']}/payment", json={"provider": "offline"}, headers=promoted.headers
    )
    assert r.status_code == 403
    r = await client.post(
        f"/api/v1/tickets/{mine['id']}/payment", json={"provider": "offline"}, headers=alice.headers
    )
    assert r.status_code == 200 and r.json()["paid"] and r.json()["payment"] is None
    r = await client.post(
        f"/api/v1/tickets/{mine['id']}/payment", json={"provider": "offline"}, headers=alice.headers
    )
    assert r.status_code == 422
    assert (await client.get(f"/api/v1/chapters/{ch}/totals")).json()["raised_cents"] == 1500
    assert (
        await client.post(f"/api/v1/tickets/{mine['id']}/cancel", headers=promoted.headers)
    ).status_code == 403

    # The door checks codes with the public key alone (what the offline door page does)…
    key = (await client.get(f"/api/v1/chapters/{ch}/door_key")).json()["public_key"]
    assert ticket_codes.read_code(key, mine["code"]) == ticket_codes.TicketRef(int(ch), int(mine["id"]))
    forged = mine["code"][:-3] + ("AAA" if mine["code"][-3:] != "AAA" else "BBB")
    assert ticket_codes.read_code(key, forged) is None
    # …and syncs later; sending the same scans again changes nothing; a second scan is flagged.
    at = "2027-02-12T19:30:00+01:00"
    scans = [
        {"code": mine["code"], "scan_key": "phone1-0001", "scanned_at": at},
        {"code": tickets[second.username]["code"], "scan_key": "phone1-0002", "scanned_at": at},
        {"code": forged, "scan_key": "phone1-0003", "scanned_at": at},
        {"code": cancelled_code, "scan_key": "phone1-0004", "scanned_at": at},
        {"code": mine["code"], "scan_key": "phone2-0001", "scanned_at": "2027-02-12T19:45:00+01:00"},
    ]
    r = await client.post(f"/api/v1/chapters/{ch}/checkins", json={"scans": scans}, headers=erin.headers)
    assert r.status_code == 403
    first_sync = (
        await client.post(f"/api/v1/chapters/{ch}/checkins", json={"scans": scans}, headers=alice.headers)
    ).json()
    assert [(x["result"], x["unpaid"], x["replayed"]) for x in first_sync] == [
        ("ok", False, False),
        ("ok", True, False),  # a supporter who has not paid yet: the door collects
        ("invalid", False, False),
        ("refused", False, False),
        ("duplicate", False, False),
    ]
    again = (
        await client.post(f"/api/v1/chapters/{ch}/checkins", json={"scans": scans[:2]}, headers=alice.headers)
    ).json()
    assert [(x["result"], x["replayed"]) for x in again] == [("ok", True), ("ok", True)]
    shown = (await client.get(f"/api/v1/tickets/{mine['id']}", headers=promoted.headers)).json()
    assert shown["checked_in_at"] == "2027-02-12T18:30:00.000Z"
    r = await client.post(
        f"/api/v1/chapters/{ch}/checkins",
        json={"scans": [{"code": "x", "scan_key": "no", "scanned_at": at}]},
        headers=alice.headers,
    )
    assert r.status_code == 422
    r = await client.post(
        f"/api/v1/chapters/{ch}/checkins",
        json={"scans": [{"code": "x", "scan_key": "phone9-0001", "scanned_at": "9999-12-31T23:59:59-01:00"}]},
        headers=alice.headers,
    )
    assert r.status_code == 422

    # Found in review: a scan key is unique across chapters, and replaying one at another
    # chapter's door answered the first chapter's ticket id. It is now just invalid there.
    other = await client.post(
        f"/api/v1/campaigns/{campaign['id']}/chapters",
        json={**CHAPTER, "hashtag": "Elsewhere"},
        headers=alice.headers,
    )
    r = await client.post(
        f"/api/v1/chapters/{other.json()['id']}/checkins", json={"scans": scans[:1]}, headers=alice.headers
    )
    assert [(x["result"], x["ticket_id"]) for x in r.json()] == [("invalid", None)]
