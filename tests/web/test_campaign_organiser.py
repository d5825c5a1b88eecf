"""The organisers' forms on a chapter's page: each stores what it should, and a bad input shows a
readable reason (in French too) with nothing stored."""

from __future__ import annotations

import csv
import hashlib
import html
import io
import re
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from cordee.web.campaign_organiser import parse_amount
from tests.api.test_campaigns import CHAPTER, make_campaign
from tests.web.test_auth_pages import form_to
from tests.web.test_public_pages import browser_of

if TYPE_CHECKING:
    from tests.conftest import ApiUser as TestUser


def test_amounts_typed_by_people() -> None:
    assert [parse_amount(t, "EUR") for t in ("12.50", "12,5", "7", " 1 500,00 ")] == [1250, 1250, 700, 150000]
    assert parse_amount("1250", "JPY") == 1250 and parse_amount("12.5", "JPY") is None
    assert [parse_amount(t, "EUR") for t in ("12.505", "-3", "1e3", "", "12.")] == [None] * 5
    assert parse_amount("-3", "EUR", signed=True) == -300


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_organiser_forms(app: Any, client: httpx.AsyncClient, alice: TestUser, bob: TestUser) -> None:
    campaign = await make_campaign(client, alice)
    ch = (
        await client.post(f"/api/v1/campaigns/{campaign['id']}/chapters", json=CHAPTER, headers=alice.headers)
    ).json()["id"]
    api = f"/api/v1/chapters/{ch}"
    async with browser_of(app, bob) as browser:  # not an organiser: no section, and the forms refuse
        page = (await browser.get(f"/chapters/{ch}")).text
        assert "For the organisers" not in page
        propose = form_to(
            (await browser.get(f"/campaigns/{campaign['id']}")).text, f"/campaigns/{campaign['id']}/chapters"
        )
        r = await browser.post(f"/chapters/{ch}/tiers", data={**propose.fields, "name": "X", "price": "0"})
        assert r.status_code == 403
        for link in (f"/chapters/{ch}/ledger.csv", f"/campaigns/{campaign['id']}/ledger.csv"):
            assert (await browser.get(link)).status_code == 404  # the entries are the organisers'
    async with browser_of(app, alice) as browser:

        async def submit(action: str, fields: dict[str, str], lang: str = "") -> httpx.Response:
            page = (await browser.get(f"/chapters/{ch}{lang}")).text
            form = form_to(page, action)
            return await browser.post(form.action, data={**form.fields, **fields})

        # Ticket tiers.
        r = await submit(f"/chapters/{ch}/tiers", {"name": "Entrée", "price": "12,5", "capacity": "lots"})
        assert r.status_code == 422 and "Write a whole number." in html.unescape(r.text)
        r = await submit(f"/chapters/{ch}/tiers", {"name": "Entrée", "price": "12.505", "capacity": ""})
        assert r.status_code == 422 and "no more decimals" in r.text
        assert (await client.get(f"{api}/tiers")).json() == []
        r = await submit(f"/chapters/{ch}/tiers", {"name": "Entrée", "price": "12,50", "capacity": "80"})
        assert r.status_code == 303, r.text
        tier = (await client.get(f"{api}/tiers")).json()
        assert [(t["name"], t["price_cents"], t["remaining"]) for t in tier] == [("Entrée", 1250, 80)]

        # The ledger and a correction.
        r = await submit(
            f"/chapters/{ch}/ledger", {"kind": "donation", "amount": "-5", "note": ""}, "?lang=fr"
        )
        assert r.status_code == 422 and "Écrivez le montant" in html.unescape(r.text)
        r = await submit(f"/chapters/{ch}/ledger", {"kind": "gift", "amount": "5", "note": ""}, "?lang=en")
        assert r.status_code == 422 and "Kind must be one of" in r.text
        r = await submit(f"/chapters/{ch}/ledger", {"kind": "donation", "amount": "20", "note": "Cash"})
        assert r.status_code == 303
        entries = (await client.get(f"{api}/ledger", headers=alice.headers)).json()
        assert [(e["kind"], e["amount_cents"]) for e in entries] == [("donation", 2000)]
        fix = {"entry_id": entries[0]["id"], "amount": "-25", "note": "Miscounted"}
        r = await submit(f"/chapters/{ch}/ledger/corrections", fix)
        assert r.status_code == 422  # below zero
        r = await submit(f"/chapters/{ch}/ledger/corrections", {**fix, "amount": "-2.50"})
        assert r.status_code == 303
        assert (await client.get(f"{api}/totals")).json()["raised_cents"] == 1750

        # The ledger as CSV, from the pages' links: integer cents and the decimal text.
        page = (await browser.get(f"/chapters/{ch}")).text
        for link in (f"/chapters/{ch}/ledger.csv", f"/campaigns/{campaign['id']}/ledger.csv"):
            assert (
                f'href="{link}"' in page or link in (await browser.get(f"/campaigns/{campaign['id']}")).text
            )
            r = await browser.get(link)
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
            rows = list(csv.DictReader(io.StringIO(r.text)))
            assert [(x["kind"], x["amount_cents"], x["amount"], x["currency"]) for x in rows] == [
                ("donation", "2000", "20.00", "EUR"),
                ("correction", "-250", "-2.50", "EUR"),
            ]

        # Roles.
        r = await submit(f"/chapters/{ch}/organisers", {"username": "nobody", "role": "door"})
        assert r.status_code == 422 and "No account here has this name." in r.text
        r = await submit(f"/chapters/{ch}/organisers", {"username": "bob", "role": "emperor"})
        assert r.status_code == 422
        r = await submit(f"/chapters/{ch}/organisers", {"username": "bob", "role": "door"})
        assert r.status_code == 303
        roles = {o["account"]["username"]: o["role"] for o in (await client.get(api)).json()["organisers"]}
        assert "@bob · entrée" in html.unescape((await browser.get(f"/chapters/{ch}?lang=fr")).text)
        assert "@bob · door" in (await browser.get(f"/chapters/{ch}?lang=en")).text
        assert roles.get("bob") == "door"

        # The raffle: commit, then draw with the seed.
        seed = "s3cret-seed"
        commitment = hashlib.sha256(seed.encode()).hexdigest()
        r = await submit(f"/chapters/{ch}/raffle", {"price": "2", "prizes": "1", "commitment": "abc"})
        assert r.status_code == 422 and "Commitment" in r.text
        assert (await client.get(f"{api}/raffle")).status_code == 404
        r = await submit(f"/chapters/{ch}/raffle", {"price": "2", "prizes": "1", "commitment": commitment})
        assert r.status_code == 303
        raffle = (await client.get(f"{api}/raffle")).json()
        sold = await client.post(
            f"/api/v1/raffles/{raffle['id']}/tickets",
            json={"holder": "Zoé", "count": 2},
            headers=alice.headers,
        )
        assert sold.status_code == 200
        page = html.unescape((await client.get(f"/chapters/{ch}")).text)  # anyone sees the commitment
        assert commitment in page and "tickets sold: 2" in page and "Winning tickets" not in page
        r = await submit(f"/chapters/{ch}/raffle/draw", {"seed": "wrong"}, "?lang=fr")
        assert r.status_code == 422 and "ne correspond pas à l’engagement" in html.unescape(r.text)
        r = await submit(f"/chapters/{ch}/raffle/draw", {"seed": "wrong"}, "?lang=en")
        assert r.status_code == 422 and "does not match" in r.text
        r = await submit(f"/chapters/{ch}/raffle/draw", {"seed": seed})
        assert r.status_code == 303
        assert (await client.get(f"{api}/raffle")).json()["seed"] == seed
        record = (await client.get(f"{api}/raffle")).json()
        page = html.unescape((await client.get(f"/chapters/{ch}")).text)
        assert f"Winning tickets: {record['winners'][0]}" in page
        assert f"--seed {seed} --tickets 2 --prizes 1 --commitment {commitment}" in page
        assert f'href="/@alice/{record["result_status_id"]}"' in page, page[page.index("raffle-record") :][
            :1500
        ]
        assert (await client.get(f"/@alice/{record['result_status_id']}")).status_code == 200

        # The wall's moderation, before or after.
        r = await submit(f"/chapters/{ch}/wall_moderation", {"moderation": "sometimes"}, "?lang=fr")
        assert r.status_code == 422 and "La modération doit être avant ou après." in html.unescape(r.text)
        r = await submit(f"/chapters/{ch}/wall_moderation", {"moderation": "before"})
        assert r.status_code == 303
        assert (await client.get(api)).json()["wall_moderation"] == "before"
        assert 'value="before" checked' in (await browser.get(f"/chapters/{ch}")).text

        # An announcement from the page.
        r = await submit(f"/chapters/{ch}/announcements", {"text": " "})
        assert r.status_code == 422
        r = await submit(f"/chapters/{ch}/announcements", {"text": "Doors at 19:00"})
        assert r.status_code == 303
        messages = (await client.get(f"{api}/messages", headers=alice.headers)).json()
        assert [m["kind"] for m in messages] == ["announcement"]
    page = (await client.get(f"/chapters/{ch}")).text  # anyone reads the news on the chapter's page
    assert (
        "News from the organisers" in page and "Doors at 19:00" in page and "For the organisers" not in page
    )


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_door_page_records_payments_and_sells_raffle_tickets(
    app: Any, client: httpx.AsyncClient, alice: TestUser, bob: TestUser
) -> None:
    """The two door forms that need the network: a payment named by the ticket's code, and raffle
    sales answering the numbers; refusals in the page's language, nothing stored."""
    campaign = await make_campaign(client, alice)
    ch = (
        await client.post(f"/api/v1/campaigns/{campaign['id']}/chapters", json=CHAPTER, headers=alice.headers)
    ).json()["id"]
    api = f"/api/v1/chapters/{ch}"
    tier = (
        await client.post(
            f"{api}/tiers", json={"name": "Entrée", "price_cents": 1500, "capacity": 1}, headers=alice.headers
        )
    ).json()
    ticket = (await client.post(f"{api}/tickets", json={"tier_id": tier["id"]}, headers=bob.headers)).json()
    waits = (await client.post(f"{api}/tickets", json={"tier_id": tier["id"]}, headers=alice.headers)).json()
    assert waits["status"] == "waiting"
    seed = "door-seed"
    r = await client.post(
        f"{api}/raffle",
        json={"price_cents": 200, "prizes": 1, "commitment": hashlib.sha256(seed.encode()).hexdigest()},
        headers=alice.headers,
    )
    assert r.status_code == 200, r.text

    def alert(r: httpx.Response, role: str = "alert") -> str:
        found = [t for t in re.findall(rf'role="{role}"[^>]*>(.*?)</p>', r.text, re.S) if t.strip()]
        assert found, r.text
        return html.unescape(found[0]).strip()

    async with browser_of(app, alice) as browser:

        async def submit(action: str, fields: dict[str, str]) -> httpx.Response:
            form = form_to(
                (await browser.get(f"/chapters/{ch}/door?lang=fr")).text, f"/chapters/{ch}/door/{action}"
            )
            return await browser.post(form.action, data={**form.fields, **fields})

        r = await submit("payment", {"code": "CT1.forged"})
        assert (r.status_code, alert(r)) == (422, "Ce n’est pas un billet valide pour cet événement.")
        r = await submit("payment", {"code": ticket["code"]})
        assert r.status_code == 303
        page = await browser.get(r.headers["location"])
        assert alert(page, "status") == "Paiement inscrit au registre."
        assert "Paiement inscrit" not in (await browser.get(f"/chapters/{ch}/door")).text  # shown once
        entries = (await client.get(f"{api}/ledger", headers=alice.headers)).json()
        assert [(e["kind"], e["amount_cents"], e["ticket_id"]) for e in entries] == [
            ("ticket", 1500, ticket["id"])
        ]
        r = await submit("payment", {"code": ticket["code"]})
        assert (r.status_code, alert(r)) == (422, "Cette place est déjà payée.")

        # The attendees' list: bob paid, then his place is given up by the lead (a paid place too).
        page = html.unescape((await browser.get(f"/chapters/{ch}?lang=fr")).text)
        row = re.search(r"<tr><td><a href=\"/@bob\">@bob</a></td><td>Entrée</td>(.*?)</tr>", page, re.S)
        assert row is not None and "confirmée" in row.group(1) and "oui" in row.group(1), page
        assert "1 avec une place, 1 sur la liste d’attente." in page
        assert re.search(r"@alice</a></td><td>Entrée</td>\s*<td>en attente, numéro 1</td>", page)
        cancel = form_to(page, f"/chapters/{ch}/attendees/cancel")
        r = await browser.post(cancel.action, data={**cancel.fields, "ticket_id": "1"})
        assert r.status_code == 404  # not a ticket of this chapter
        r = await browser.post(cancel.action, data=cancel.fields)
        assert r.status_code == 303
        cancelled = await client.get(f"/api/v1/tickets/{ticket['id']}", headers=bob.headers)
        assert cancelled.json()["status"] == "cancelled"
        page = html.unescape((await browser.get(f"/chapters/{ch}")).text)  # the waiting list moved up
        assert "1 avec une place, 0 sur la liste d’attente." in page
        assert re.search(r"@alice</a></td><td>Entrée</td>\s*<td>confirmée</td>", page)

        r = await submit("raffle", {"holder": "Zoé", "count": "deux"})
        assert (r.status_code, alert(r)) == (422, "Écrivez un nombre entier.")
        r = await submit("raffle", {"holder": " ", "count": "2"})
        assert (r.status_code, alert(r)) == (422, "Le nom du détenteur ne peut pas être vide.")
        r = await submit("raffle", {"holder": "Zoé", "count": "2"})
        assert r.status_code == 303
        page = await browser.get(r.headers["location"])
        assert alert(page, "status") == "Vendu : billets 1, 2. Écrivez ces numéros sur les talons."
        assert (await client.get(f"{api}/raffle")).json()["tickets_sold"] == 2
    async with browser_of(app, bob) as browser:  # not a door organiser: no door page, no forms
        assert (await browser.get(f"/chapters/{ch}/door")).status_code == 404


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_an_announcement_reads_well_in_the_attendees_notifications(
    app: Any, client: httpx.AsyncClient, alice: TestUser, bob: TestUser
) -> None:
    """The web notifications page says what a campaign message is, in the page's language (it
    showed the notification's type, "cordee.campaign_announcement")."""
    campaign = await make_campaign(client, alice)
    ch = (
        await client.post(f"/api/v1/campaigns/{campaign['id']}/chapters", json=CHAPTER, headers=alice.headers)
    ).json()["id"]
    tier = (
        await client.post(
            f"/api/v1/chapters/{ch}/tiers", json={"name": "RSVP", "price_cents": 0}, headers=alice.headers
        )
    ).json()
    assert (
        await client.post(f"/api/v1/chapters/{ch}/tickets", json={"tier_id": tier["id"]}, headers=bob.headers)
    ).status_code == 200
    r = await client.post(
        f"/api/v1/chapters/{ch}/announcements", json={"text": "Doors at 19:00"}, headers=alice.headers
    )
    assert r.status_code == 200, r.text
    async with browser_of(app, bob) as browser:
        page = html.unescape((await browser.get("/notifications?lang=fr")).text)
        what = re.search(r'<p class="notification-what">(.*?)</p>', page, re.S)
        assert what is not None and "Doors at 19:00" in page
        assert "a écrit aux participants d’un événement où vous avez une place" in what.group(1)
        assert "campaign_announcement" not in what.group(1)
