"""The campaign page (chapters by city, thermometer, amounts in each chapter's currency and
locale), the chapter page (RSVP, the ticket with its QR) and the chapter's calendar file."""

from __future__ import annotations

import ast
import html
import re
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import httpx
from icalendar import Calendar

from cordee.domain import ticket_codes
from cordee.web.campaign_refusals import readable
from cordee.web.i18n import translations
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
    assert "0 taken of 300" in page and '<a href="/@alice">@alice</a> (lead)' in page  # places, organisers
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
        fields["ends_at"] = "2027-02-13T01:30"
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
    assert chapter["ends_at"] == "2027-02-13T00:30:00.000Z"

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


async def test_campaign_forms_refuse_in_french_on_a_french_page(
    app: Any, client: httpx.AsyncClient, alice: TestUser, bob: TestUser
) -> None:
    """Every refusal a person can meet on the campaign and chapter pages reads in the page's
    language: the actions speak English (as the API does), the pages translate."""
    campaign = await make_campaign(client, alice)
    cid = campaign["id"]
    r = await client.post(f"/api/v1/campaigns/{cid}/chapters", json=CHAPTER, headers=alice.headers)
    ch = r.json()["id"]
    tier = (
        await client.post(
            f"/api/v1/chapters/{ch}/tiers",
            json={"name": "Entrée", "price_cents": 1500},
            headers=alice.headers,
        )
    ).json()["id"]

    def alert(r: httpx.Response) -> str:
        found = re.search(r'role="alert"[^>]*>(.*?)</p>', r.text, re.S)
        assert found is not None, r.text
        return html.unescape(found.group(1)).strip()

    async with browser_of(app, bob) as browser:

        async def submit(page: str, action: str, fields: dict[str, str]) -> httpx.Response:
            form = form_to((await browser.get(f"{page}?lang=fr")).text, action)
            return await browser.post(form.action, data={**form.fields, **fields})

        propose = {
            "city": "Nantes",
            "venue": "Le Lieu Unique",
            "starts_at": "2027-02-12T20:00",
            "time_zone": "Europe/Paris",
            "hashtag": "NightNantes",
            "currency": "EUR",
            "locale": "fr_FR",
            "capacity": "",
        }
        expected = [
            ("city", "", "La ville ne peut pas être vide."),
            ("city", "x" * 150, "La ville est trop longue : 100 caractères au plus."),
            ("venue", "x" * 201, "Le lieu est trop long : 200 caractères au plus."),
            ("hashtag", "pas un mot-clé", "Le mot-clé ne peut contenir que des lettres, des chiffres et _."),
            ("currency", "XYZ", "La devise doit être un code ISO 4217 (EUR, USD…)."),
            ("locale", "zz_QQ", "Ce format des montants est inconnu (fr_FR, en_GB…)."),
            ("starts_at", "1999-12-31T20:00", "La date de début est hors limites."),
            ("ends_at", "2027-02-12T18:00", "La fin doit venir après le début."),
            ("capacity", "0", "Le nombre de places est hors limites."),
        ]
        for name, value, french in expected:
            r = await submit(f"/campaigns/{cid}", f"/campaigns/{cid}/chapters", {**propose, name: value})
            assert (r.status_code, alert(r)) == (422, french), name
            assert (value if name == "venue" else "Le Lieu Unique") in r.text  # what was typed is kept
        r = await submit(
            f"/campaigns/{cid}", f"/campaigns/{cid}/chapters", {**propose, "hashtag": CHAPTER["hashtag"]}
        )
        assert alert(r) == "Une autre étape de la campagne a déjà ce mot-clé."

        # The chapter page: a second place, then giving up a paid place.
        r = await submit(f"/chapters/{ch}", f"/chapters/{ch}/tickets", {"tier_id": ""})
        assert (r.status_code, alert(r)) == (422, "Choisissez un billet.")
        take = form_to((await browser.get(f"/chapters/{ch}")).text, f"/chapters/{ch}/tickets")
        r = await browser.post(take.action, data={**take.fields, "tier_id": tier})
        assert r.status_code == 303
        r = await browser.post(take.action, data={**take.fields, "tier_id": tier})  # a second tab
        assert (r.status_code, alert(r)) == (422, "Vous avez déjà une place pour cet événement.")
        ticket = (await client.get(f"/api/v1/chapters/{ch}/tickets/mine", headers=bob.headers)).json()
        paid = await client.post(
            f"/api/v1/tickets/{ticket['id']}/payment", json={"provider": "offline"}, headers=alice.headers
        )
        assert paid.status_code == 200
        r = await submit(f"/chapters/{ch}", f"/chapters/{ch}/cancel", {})
        assert (r.status_code, alert(r)) == (
            403,
            "Une place payée est annulée par les organisateurs de l’événement.",
        )

        # Approving is for the campaign's organisers: bob proposes, then tries to approve.
        r = await submit(f"/campaigns/{cid}", f"/campaigns/{cid}/chapters", propose)
        assert r.status_code == 303
        nantes = r.headers["location"].rsplit("/", 1)[1]
        form = form_to((await browser.get(f"/campaigns/{cid}?lang=fr")).text, f"/campaigns/{cid}/chapters")
        r = await browser.post(f"/chapters/{nantes}/approve", data={"csrf_token": form.fields["csrf_token"]})
        assert (r.status_code, alert(r)) == (
            403,
            "Seuls les organisateurs de la campagne approuvent les étapes.",
        )
        # A place in a chapter still waiting for approval.
        free = await client.post(
            f"/api/v1/chapters/{nantes}/tiers", json={"name": "Libre", "price_cents": 0}, headers=bob.headers
        )
        page = (await browser.get(f"/chapters/{nantes}")).text
        assert f"/chapters/{nantes}/tickets" not in page  # no RSVP form before the approval
        r = await browser.post(  # a page opened before, say
            f"/chapters/{nantes}/tickets",
            data={"csrf_token": form.fields["csrf_token"], "tier_id": free.json()["id"]},
        )
        assert (r.status_code, alert(r)) == (422, "L’étape n’est pas encore approuvée.")

    async with browser_of(app, alice) as browser:  # the organisers' forms

        async def organise(action: str, fields: dict[str, str]) -> httpx.Response:
            form = form_to((await browser.get(f"/chapters/{ch}?lang=fr")).text, f"/chapters/{ch}/{action}")
            return await browser.post(form.action, data={**form.fields, **fields})

        r = await organise("tiers", {"name": "x" * 150, "price": "0", "capacity": ""})
        assert alert(r) == "Le nom est trop long : 100 caractères au plus."
        r = await organise("raffle", {"price": "0", "prizes": "1", "commitment": "a" * 64})
        assert alert(r) == "Le prix est hors limites."
        r = await organise("announcements", {"text": "x" * 200})
        # 200 + the chapter's hashtag the note gets (16)
        assert alert(r).startswith("Votre note est trop longue : 216 caractères pour une limite de 140.")


def test_every_campaign_refusal_has_its_french() -> None:
    """The campaign actions' fixed refusals are all listed for translation, and translated: a new
    refusal added to an action without its French fails here, not on a French page."""
    actions = Path(__file__).resolve().parents[2] / "src" / "cordee" / "actions"
    found: set[str] = set()
    for name in ("campaigns", "tickets", "ledger", "raffle", "wall", "campaign_messages"):
        for node in ast.walk(ast.parse((actions / f"{name}.py").read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in (
                "ValidationFailed",
                "Forbidden",
            ):
                first = node.args[0] if node.args else None
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    found.add(first.value.removeprefix("Validation failed: "))
    assert len(found) > 30
    # The door's refusal answers its page's script (which makes the scan keys), never shown.
    shown = found - {"scan_key must be 8 to 64 letters, digits or -_.:"}
    french = translations("fr").gettext
    assert sorted(m for m in shown if readable(m, french) == m) == []
    assert readable("Validation failed: Note is too long (maximum is 500 characters)", french) == (
        "La note est trop longue : 500 caractères au plus."
    )


async def test_start_a_campaign_and_name_its_organisers_from_the_site(
    app: Any, client: httpx.AsyncClient, alice: TestUser, bob: TestUser
) -> None:
    """/campaigns lists the campaigns and starts one; its page names its organisers and lets them
    add another. Bad input gets a readable refusal in the page's language, and nothing is stored."""
    await make_campaign(client, alice, goal_cents=10_000)
    page = html.unescape((await client.get("/campaigns?lang=fr")).text)
    assert "Twestival 2027" in page and re.search(r"0,00\s€ sur 100,00\s€", page)
    assert "Connectez-vous pour lancer une campagne." in page

    def alert(r: httpx.Response) -> str:
        found = re.search(r'role="alert"[^>]*>(.*?)</p>', r.text, re.S)
        assert found is not None, r.text
        return html.unescape(found.group(1)).strip()

    async with browser_of(app, bob) as browser:
        start = form_to((await browser.get("/campaigns?lang=fr")).text, "/campaigns")
        fields = {
            **start.fields,
            "title": "Nuit des refuges",
            "hashtag": "NuitDesRefuges",
            "cause": "Des lits pour l’hiver",
            "goal": "5 000,50",
            "currency": "EUR",
        }
        for bad, french in (
            ({"goal": "beaucoup"}, "Écrivez le montant en chiffres, comme 12,50"),
            ({"currency": "ECU"}, "La devise doit être un code ISO 4217 (EUR, USD…)."),
            ({"hashtag": "Twestival"}, "Une autre campagne a déjà ce mot-clé."),
            ({"title": " "}, "Le titre ne peut pas être vide."),
            ({"title": "x" * 201}, "Le titre est trop long : 200 caractères au plus."),
        ):
            r = await browser.post("/campaigns", data={**fields, **bad})
            assert r.status_code == 422 and alert(r).startswith(french), bad
            assert "Des lits pour l’hiver" in html.unescape(r.text)  # what was typed is kept
        r = await browser.post("/campaigns", data=fields)
        assert r.status_code == 303, r.text
        cid = r.headers["location"].rsplit("/", 1)[1]
        campaign = (await client.get(f"/api/v1/campaigns/{cid}")).json()
        assert (campaign["goal_cents"], campaign["currency"], campaign["hashtag"]) == (
            500050,
            "EUR",
            "NuitDesRefuges",
        )
        assert [a["username"] for a in campaign["organisers"]] == ["bob"]

        add = form_to((await browser.get(f"/campaigns/{cid}?lang=fr")).text, f"/campaigns/{cid}/organisers")
        r = await browser.post(add.action, data={**add.fields, "username": "nobody"})
        assert (r.status_code, alert(r)) == (422, "Aucun compte ici ne porte ce nom.")
        r = await browser.post(add.action, data={**add.fields, "username": "alice"})
        assert r.status_code == 303
        page = (await client.get(f"/campaigns/{cid}")).text
        assert 'href="/@alice"' in page and 'href="/@bob"' in page
    async with browser_of(app) as browser:  # the form is for the campaign's organisers
        assert f"/campaigns/{cid}/organisers" not in (await browser.get(f"/campaigns/{cid}")).text
    campaign = (await client.get(f"/api/v1/campaigns/{cid}")).json()
    assert [a["username"] for a in campaign["organisers"]] == ["bob", "alice"]


async def test_the_wall_queue_for_its_organisers(
    app: Any, client: httpx.AsyncClient, alice: TestUser, bob: TestUser, post: Any
) -> None:
    """A wall moderated before asks for its queue again after a cut in its stream: the notes
    waiting for approval, for the chapter's organisers only (the same "not found" for others)."""
    campaign = await make_campaign(client, alice)
    ch = (
        await client.post(f"/api/v1/campaigns/{campaign['id']}/chapters", json=CHAPTER, headers=alice.headers)
    ).json()["id"]
    r = await client.post(
        f"/api/v1/chapters/{ch}/wall_moderation", json={"moderation": "before"}, headers=alice.headers
    )
    assert r.status_code == 200, r.text
    waiting = await post(bob, "on stage! #TwestivalLyon")
    assert (await client.get(f"/chapters/{ch}/wall/queue")).status_code == 404
    async with browser_of(app, bob) as browser:
        assert (await browser.get(f"/chapters/{ch}/wall/queue")).status_code == 404
    async with browser_of(app, alice) as browser:
        r = await browser.get(f"/chapters/{ch}/wall/queue")
        assert [n["id"] for n in r.json()] == [waiting["id"]]
        assert (await browser.get(f"/chapters/{ch}/wall/notes")).json() == []
        r = await client.post(
            f"/api/v1/chapters/{ch}/wall/approved", json={"status_id": waiting["id"]}, headers=alice.headers
        )
        assert r.status_code == 200, r.text
        assert (await browser.get(f"/chapters/{ch}/wall/queue")).json() == []
        assert [n["id"] for n in (await browser.get(f"/chapters/{ch}/wall/notes")).json()] == [waiting["id"]]
