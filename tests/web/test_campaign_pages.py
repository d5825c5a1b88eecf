"""The campaign page (chapters by city, thermometer, amounts in each chapter's currency and
locale), the chapter page (RSVP, the ticket with its QR) and the chapter's calendar file."""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import httpx
from icalendar import Calendar

from cordee.domain import ticket_codes
from tests.api.test_campaigns import CHAPTER, make_campaign
from tests.web.test_auth_pages import form_to
from tests.web.test_public_pages import browser_of

if TYPE_CHECKING:
    from tests.conftest import ApiUser as TestUser


async def test_campaign_and_chapter_pages(
    app: Any, client: httpx.AsyncClient, alice: TestUser, bob: TestUser
) -> None:
    campaign = await make_campaign(client, alice, goal_cents=10_000)
    cid = campaign["id"]
    chapters = {}
    for city, extra in (
        ("Paris", {"hashtag": "NightParis"}),
        (
            "London",
            {"hashtag": "NightLondon", "currency": "GBP", "locale": "en_GB", "time_zone": "Europe/London"},
        ),
    ):
        r = await client.post(
            f"/api/v1/campaigns/{cid}/chapters",
            json={**CHAPTER, "city": city, **extra},
            headers=alice.headers,
        )
        chapters[city] = r.json()["id"]
    for city, cents, currency in (("Paris", 1250, "EUR"), ("London", 500, "GBP")):
        await client.post(
            f"/api/v1/chapters/{chapters[city]}/ledger",
            json={"kind": "donation", "amount_cents": cents, "currency": currency},
            headers=alice.headers,
        )
    paris = chapters["Paris"]
    r = await client.post(
        f"/api/v1/chapters/{paris}/tiers", json={"name": "Entrée", "price_cents": 1500}, headers=alice.headers
    )
    tier = r.json()["id"]

    page = html.unescape((await client.get(f"/campaigns/{cid}")).text)
    assert page.index("London") < page.index("Paris")  # by city
    assert "£5.00" in page and re.search(r"12,50\s€", page)  # each chapter's currency and locale
    assert 'value="12"' in page  # 12.50 € of a 100 € goal; GBP is not added to EUR
    assert (await client.get("/campaigns/1")).status_code == 404

    page = html.unescape((await client.get(f"/chapters/{paris}")).text)
    assert "Sign in to take a place." in page and re.search(r"15,00\s€", page)
    async with browser_of(app, bob) as browser:
        page = (await browser.get(f"/chapters/{paris}")).text
        take = form_to(page, f"/chapters/{paris}/tickets")
        assert f'name="tier_id" value="{tier}" checked' in page
        take.fields["tier_id"] = tier  # the radio button (the form reader keeps hidden fields)
        r = await browser.post(take.action, data=take.fields)
        assert r.status_code == 303, r.text
        page = html.unescape((await browser.get(f"/chapters/{paris}")).text)
        assert "Your ticket" in page and "<svg" in page and re.search(r"Pay at the door: 15,00\s€", page)
        code = re.search(r"<code>(CT1\.[A-Za-z0-9_-]+)</code>", page)
        assert code is not None
        key = (await client.get(f"/api/v1/chapters/{paris}/door_key")).json()["public_key"]
        assert ticket_codes.read_code(key, code.group(1)) is not None
        again = await browser.post(take.action, data=take.fields)
        assert again.status_code == 422 and "already have a ticket" in again.text
        cancel = form_to(page, f"/chapters/{paris}/cancel")
        assert (await browser.post(cancel.action, data=cancel.fields)).status_code == 303
        assert "Your ticket" not in (await browser.get(f"/chapters/{paris}")).text
        # Anyone signed in proposes a chapter from the campaign page; its organisers approve it.
        page = (await browser.get(f"/campaigns/{cid}")).text
        propose = form_to(page, f"/campaigns/{cid}/chapters")
        fields = {
            **propose.fields,
            "city": "Nantes",
            "venue": "Le Lieu Unique",
            "starts_at": "2027-02-12T20:00",
            "time_zone": "Mars/Olympus",
            "hashtag": "NightNantes",
            "currency": "EUR",
            "locale": "fr_FR",
        }
        r = await browser.post(propose.action, data=fields)
        assert r.status_code == 422 and "time zone" in r.text and "Le Lieu Unique" in r.text  # kept
        r = await browser.post(propose.action, data={**fields, "time_zone": "Europe/Paris"})
        assert r.status_code == 303, r.text
        nantes = r.headers["location"].rsplit("/", 1)[1]
        assert "waiting for the campaign" in (await browser.get(f"/chapters/{nantes}")).text
    async with browser_of(app, alice) as browser:
        page = (await browser.get(f"/campaigns/{cid}")).text
        approve = form_to(page, f"/chapters/{nantes}/approve")
        assert (await browser.post(approve.action, data=approve.fields)).status_code == 303
    chapter = (await client.get(f"/api/v1/chapters/{nantes}")).json()
    assert (chapter["status"], chapter["local_starts_at"]) == ("approved", "2027-02-12T20:00:00+01:00")

    r = await client.get(f"/chapters/{paris}/calendar.ics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    event = next(c for c in Calendar.from_ical(r.content).walk("VEVENT"))
    assert event.decoded("DTSTART") == datetime(2027, 2, 12, 19, tzinfo=ZoneInfo("Europe/Paris"))
    assert "Paris" in str(event["SUMMARY"]) and "La Sucrière" in str(event["LOCATION"])
    report = html.unescape((await client.get(f"/campaigns/{cid}/report")).text)
    assert "2 of 3 cities reporting." in report and "€12.50</strong> + <strong>£5.00" in report
    assert re.search(r"12,50\s€", report)  # each city in its own currency and locale
    # Last: ?lang= is remembered by the session cookie.
    french = html.unescape((await client.get(f"/campaigns/{cid}?lang=fr")).text)
    assert "Collecté jusqu’ici" in french and "Étapes" in french
