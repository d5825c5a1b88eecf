"""The compose box's poll, images and schedule, voting from a page, editing a note and the scheduled
notes page, through HTTP: each form's happy path and its bad input (a readable message, what was typed
kept, nothing stored). The web is an adapter over the API's actions: SQLite is enough here (the
actions are tested on both databases through the API)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select, update

from cordee.db.engine import Database
from cordee.db.tables import User
from cordee.db.tables_media import MediaAttachment
from tests.conftest import ApiUser, MakeUser
from tests.web.test_auth_pages import sign_in
from tests.web.test_web_app_pages import _csrf, _png

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


async def _signed_in(client: httpx.AsyncClient, user: ApiUser) -> str:
    await sign_in(client, user)
    return _csrf((await client.get("/compose")).text)


async def _media_rows(db: Database) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(MediaAttachment)) or 0)


async def _mine(client: httpx.AsyncClient, user: ApiUser) -> list[dict]:  # type: ignore[type-arg]
    r = await client.get(f"/api/v1/accounts/{user.id}/statuses", headers=user.headers)
    return r.json()  # type: ignore[no-any-return]


async def test_a_poll_is_composed_then_voted_on_from_the_page(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser
) -> None:
    token = await _signed_in(client, alice)
    base = {"csrf_token": token, "status": "Where next?", "visibility": "public", "poll_expires_in": "3600"}
    lonely = await client.post("/compose", data={**base, "poll_option_1": "Écrins"})
    assert lonely.status_code == 422 and "two different choices" in lonely.text
    assert 'value="Écrins"' in lonely.text and ">Where next?</textarea>" in lonely.text
    odd = await client.post(
        "/compose", data={**base, "poll_option_1": "A", "poll_option_2": "B", "poll_expires_in": "7"}
    )
    assert odd.status_code == 422 and "how long the poll stays open" in odd.text
    assert await _mine(client, alice) == []

    posted = await client.post(
        "/compose",
        data={**base, "poll_option_1": "Écrins", "poll_option_2": "Vercors", "poll_multiple": "1"},
    )
    assert posted.status_code == 303, posted.text
    [note] = await _mine(client, alice)
    poll = note["poll"]
    assert [o["title"] for o in poll["options"]] == ["Écrins", "Vercors"] and poll["multiple"] is True
    assert 'action="/web/polls/' not in (await client.get("/home")).text  # the author does not vote

    client.cookies.clear()
    token = await _signed_in(client, bob)
    page = await client.get(f"/@alice/{note['id']}")
    assert f'action="/web/polls/{poll["id"]}/votes"' in page.text and 'type="checkbox"' in page.text
    vote_url = f"/web/polls/{poll['id']}/votes"
    fields = {"csrf_token": token, "next": f"/@alice/{note['id']}", "shown_as": note["id"]}
    superscript = await client.post(vote_url, data={**fields, "choices": "²"})  # a digit, not an index
    assert superscript.status_code == 422 and "Choose an answer" in superscript.text
    nothing = await client.post(vote_url, data=fields)
    assert nothing.status_code == 422 and "Choose an answer" in nothing.text
    assert (
        await client.post(vote_url, data={**fields, "csrf_token": "x", "choices": "0"})
    ).status_code == 400
    voted = await client.post(vote_url, data={**fields, "choices": ["0", "1"]})
    assert voted.status_code == 303 and voted.headers["location"] == f"/@alice/{note['id']}#note-{note['id']}"
    again = await client.post(vote_url, data={**fields, "choices": "0"})
    assert again.status_code == 422 and "already voted" in again.text
    seen = (await client.get(f"/api/v1/polls/{poll['id']}", headers=bob.headers)).json()
    assert seen["own_votes"] == [0, 1] and seen["votes_count"] == 2
    scripted = await client.post(vote_url, data={**fields, "choices": "1"}, headers={"X-Cordee-Fetch": "1"})
    assert scripted.status_code == 422  # the page's script then sends the form to show the message


async def test_several_images_with_their_alt_texts_and_nothing_kept_on_refusal(
    client: httpx.AsyncClient, db: Database, alice: ApiUser
) -> None:
    token = await _signed_in(client, alice)
    base = {"csrf_token": token, "status": "Two views", "visibility": "public"}
    alts = {"description_1": "The ridge at dawn", "description_3": "The hut"}
    files = {"media_1": ("a.png", _png(), "image/png"), "media_3": ("b.png", _png(), "image/png")}
    # A good image and a broken one: neither is kept, the alt texts are.
    broken = {**files, "media_3": ("b.png", b"not a picture", "image/png")}
    refused = await client.post("/compose", data={**base, **alts}, files=broken)
    assert refused.status_code == 422 and ">The hut</textarea>" in refused.text
    # Images and a poll: refused before any image is stored.
    both = await client.post(
        "/compose", data={**base, **alts, "poll_option_1": "x", "poll_option_2": "y"}, files=files
    )
    assert both.status_code == 422 and "both images and a poll" in both.text
    assert await _media_rows(db) == 0 and await _mine(client, alice) == []

    posted = await client.post("/compose", data={**base, **alts}, files=files)
    assert posted.status_code == 303, posted.text
    [note] = await _mine(client, alice)
    assert [m["description"] for m in note["media_attachments"]] == ["The ridge at dawn", "The hut"]
    home = (await client.get("/home")).text
    assert 'alt="The ridge at dawn"' in home and 'alt="The hut"' in home


async def test_a_note_is_scheduled_in_the_readers_time_zone_then_cancelled(
    client: httpx.AsyncClient, db: Database, alice: ApiUser
) -> None:
    token = await _signed_in(client, alice)
    paris = ZoneInfo("Europe/Paris")
    local = (datetime.now(paris) + timedelta(days=2)).replace(hour=18, minute=30, second=0, microsecond=0)
    typed = local.strftime("%Y-%m-%dT%H:%M")
    base = {"csrf_token": token, "status": "Later, rope", "visibility": "public", "timezone": "Europe/Paris"}
    soon = (datetime.now(paris) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    too_soon = await client.post("/compose", data={**base, "scheduled_at": soon})
    assert too_soon.status_code == 422 and "5 minutes ahead" in too_soon.text
    assert f'value="{soon}"' in too_soon.text
    garbled = await client.post("/compose", data={**base, "scheduled_at": "tomorrow-ish"})
    assert garbled.status_code == 422 and "not valid" in garbled.text
    for edge, zone in (("9999-12-31T23:59", "America/New_York"), ("0001-01-01T00:30", "Asia/Tokyo")):
        out_of_range = await client.post("/compose", data={**base, "timezone": zone, "scheduled_at": edge})
        assert out_of_range.status_code == 422 and "not valid" in out_of_range.text
    far = await client.post("/compose", data={**base, "timezone": "UTC", "scheduled_at": "9999-01-01T10:00"})
    assert far.status_code == 422 and "too far in the future" in far.text
    odd_digits = await client.post(
        "/compose", data={**base, "poll_option_1": "a", "poll_option_2": "b", "poll_expires_in": "3²"}
    )
    assert odd_digits.status_code == 422 and "how long the poll stays open" in odd_digits.text
    # A zone name that is a folder of the time zone database (not a zone) is read as UTC, not a 500.
    folder = await client.post(
        "/compose", data={**base, "timezone": "Europe", "scheduled_at": "2000-01-01T10:00"}
    )
    assert folder.status_code == 422 and "5 minutes ahead" in folder.text
    files = {"media_1": ("a.png", _png(), "image/png")}
    scheduled = await client.post(
        "/compose", data={**base, "scheduled_at": typed, "description_1": "Dusk"}, files=files
    )
    assert scheduled.status_code == 303 and scheduled.headers["location"] == "/scheduled"
    assert await _mine(client, alice) == []
    [row] = (await client.get("/api/v1/scheduled_statuses", headers=alice.headers)).json()
    moment = datetime.fromisoformat(row["scheduled_at"].replace("Z", "+00:00"))
    assert moment == local.astimezone(UTC)

    page = await client.get("/scheduled")
    assert "Your note is scheduled." in page.text and "Later, rope" in page.text
    assert local.strftime("%Y-%m-%d %H:%M") in page.text and "Europe/Paris" in page.text
    assert 'alt="Dusk"' in page.text
    assert (await client.post(f"/scheduled/{row['id']}/cancel", data={})).status_code == 400
    cancelled = await client.post(f"/scheduled/{row['id']}/cancel", data={"csrf_token": token})
    assert cancelled.status_code == 303
    assert (await client.get("/api/v1/scheduled_statuses", headers=alice.headers)).json() == []
    gone = await client.post(f"/scheduled/{row['id']}/cancel", data={"csrf_token": token})
    assert gone.status_code == 404 and "no longer exists" in gone.text


async def test_editing_a_note_from_its_page(
    client: httpx.AsyncClient, alice: ApiUser, make_user: MakeUser
) -> None:
    bob = await make_user("bob")
    r = await client.post(
        "/api/v1/statuses",
        json={"status": "Frist ascent", "poll": {"options": ["yes", "no"], "expires_in": 3600}},
        headers=alice.headers,
    )
    note = r.json()
    theirs = (await client.post("/api/v1/statuses", json={"status": "Bob's"}, headers=bob.headers)).json()
    token = await _signed_in(client, alice)
    assert f'href="/notes/{note["id"]}/edit"' in (await client.get("/home")).text
    page = await client.get(f"/notes/{note['id']}/edit")
    assert page.status_code == 200 and ">Frist ascent</textarea>" in page.text
    not_mine = await client.get(f"/notes/{theirs['id']}/edit")
    assert not_mine.status_code == 403 and 'role="alert"' in not_mine.text
    assert (await client.get("/notes/999999/edit")).status_code == 404

    url = f"/notes/{note['id']}/edit"
    stale = await client.post(url, data={"csrf_token": "nope", "status": "First ascent"})
    assert stale.status_code == 403 and ">First ascent</textarea>" in stale.text
    too_long = await client.post(url, data={"csrf_token": token, "status": "x" * 600})
    assert too_long.status_code == 422 and "too long" in too_long.text
    forged = await client.post(f"/notes/{theirs['id']}/edit", data={"csrf_token": token, "status": "Mine"})
    assert forged.status_code == 403
    entity = (await client.get(f"/api/v1/statuses/{note['id']}", headers=alice.headers)).json()
    assert entity["edited_at"] is None

    done = await client.post(url, data={"csrf_token": token, "status": "First ascent", "spoiler_text": ""})
    assert done.status_code == 303 and done.headers["location"] == f"/@alice/{note['id']}"
    shown = (await client.get(done.headers["location"])).text
    assert "First ascent" in shown and re.search(r'class="edited">\(edited\)', shown)
    entity = (await client.get(f"/api/v1/statuses/{note['id']}", headers=alice.headers)).json()
    assert entity["content"] == "<p>First ascent</p>" and entity["edited_at"] is not None
    assert entity["poll"]["id"] == note["poll"]["id"]  # the poll is kept as it was


async def test_the_new_pages_in_french(client: httpx.AsyncClient, db: Database, alice: ApiUser) -> None:
    async with db.write() as tx:  # a French-speaking account, in a French-speaking browser
        await tx.session.execute(update(User).where(User.id == alice.user_id).values(locale="fr"))
    client.headers["Accept-Language"] = "fr-FR,fr;q=0.9"
    token = await _signed_in(client, alice)
    compose = (await client.get("/compose")).text
    for words in ("Ajouter un sondage", "Ajouter des images", "Publier plus tard", "Notes programmées"):
        assert words in compose
    refused = await client.post(
        "/compose",
        data={"csrf_token": token, "status": "Où ?", "poll_option_1": "Ici", "poll_expires_in": "300"},
    )
    assert refused.status_code == 422 and "Un sondage demande au moins deux choix" in refused.text
    assert "Aucune note programmée" in (await client.get("/scheduled")).text
    note = (await client.post("/api/v1/statuses", json={"status": "Salut"}, headers=alice.headers)).json()
    edit = (await client.get(f"/notes/{note['id']}/edit")).text
    assert "Modifier votre note" in edit and "Enregistrer les modifications" in edit
