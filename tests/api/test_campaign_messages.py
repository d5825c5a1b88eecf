"""Announcements to a chapter's attendees, and the reminders and thank-you sent by the job."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from email import message_from_bytes
from email.message import Message

import httpx

from cordee.actions import campaign_messages
from cordee.actions.preferences import PreferenceChanges, update_preferences
from cordee.api.mastodon.campaign_messages import gettext_for
from cordee.config import Settings
from cordee.db.engine import Database
from cordee.db.types import utcnow
from cordee.jobs.runner import run_due
from cordee.mail import build_sender, wait_sent
from tests.api.test_campaigns import CHAPTER, make_campaign
from tests.conftest import ApiUser, MakeUser

KIND = "cordee.campaign_announcement"


async def _notified(client: httpx.AsyncClient, user: ApiUser) -> list[str]:
    r = await client.get("/api/v1/notifications", params={"types[]": KIND}, headers=user.headers)
    assert r.status_code == 200, r.text
    return [n["status"]["content"] for n in r.json()]


def _mails(settings: Settings) -> list[Message]:
    folder = settings.data_dir / "mail"
    return [message_from_bytes(p.read_bytes()) for p in sorted(folder.glob("*.eml"))]


async def test_announcements_reminders_and_thanks(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    alice: ApiUser,
    bob: ApiUser,
    carol: ApiUser,
    make_user: MakeUser,
) -> None:
    dave = await make_user("dave")
    await update_preferences(db, bob.account_id, PreferenceChanges(interface_language="fr"))
    campaign = await make_campaign(client, alice)
    start = (utcnow() + timedelta(hours=3)).replace(microsecond=0)
    r = await client.post(
        f"/api/v1/campaigns/{campaign['id']}/chapters",
        json={**CHAPTER, "starts_at": start.isoformat(), "capacity": 2},
        headers=alice.headers,
    )
    ch = r.json()["id"]
    tier = (
        await client.post(
            f"/api/v1/chapters/{ch}/tiers", json={"name": "RSVP", "price_cents": 0}, headers=alice.headers
        )
    ).json()
    for person in (bob, carol, dave):  # two places: dave waits
        r = await client.post(
            f"/api/v1/chapters/{ch}/tickets", json={"tier_id": tier["id"]}, headers=person.headers
        )
    assert r.json()["status"] == "waiting"

    url = f"/api/v1/chapters/{ch}/announcements"
    assert (await client.post(url, json={"text": "Hi"}, headers=bob.headers)).status_code == 403
    r = await client.post(url, json={"text": "  "}, headers=alice.headers)
    assert r.status_code == 422 and "blank" in r.json()["error"]
    r = await client.post(url, json={"text": "x" * 600}, headers=alice.headers)
    assert r.status_code == 422
    r = await client.post(url, json={"text": "Doors open at 18:30"}, headers=alice.headers)
    assert r.status_code == 200, r.text
    assert (r.json()["recipients"], r.json()["kind"]) == (2, "announcement")
    assert r.json()["text"].endswith("#TwestivalLyon")
    assert ["Doors open at 18:30" in c for c in await _notified(client, carol)] == [True]
    assert await _notified(client, dave) == []  # the waiting list only when chosen
    r = await client.post(
        url, json={"text": "A place may free up", "include_waiting": True}, headers=alice.headers
    )
    assert r.json()["recipients"] == 3 and len(await _notified(client, dave)) == 1

    # The job: the 24 h reminder is due (the event is in 3 h, not yet within 2 h); once only,
    # even with two runners (two processes) at the same moment.
    # A chapter nobody signed up to gets no note (its slot is taken all the same).
    r = await client.post(
        f"/api/v1/campaigns/{campaign['id']}/chapters",
        json={**CHAPTER, "city": "Nice", "hashtag": "NightNice", "starts_at": start.isoformat()},
        headers=alice.headers,
    )
    empty = r.json()["id"]
    both = await asyncio.gather(run_due(db, settings), run_due(db, settings))
    assert sorted(d["campaign_messages"] for d in both) == [0, 1]
    r = await client.get(f"/api/v1/chapters/{empty}/messages", headers=alice.headers)
    assert [(m["kind"], m["recipients"], m["status_id"]) for m in r.json()] == [("reminder_24h", 0, None)]
    assert (await run_due(db, settings))["campaign_messages"] == 0
    sender = build_sender(settings)
    stepped = campaign_messages.send_due
    assert await stepped(db, settings, sender, gettext_for, now=start - timedelta(hours=1)) == 1
    assert await stepped(db, settings, sender, gettext_for, now=start - timedelta(minutes=30)) == 0
    after = start + timedelta(hours=7)
    assert await stepped(db, settings, sender, gettext_for, now=after) == 1
    assert await stepped(db, settings, sender, gettext_for, now=after) == 0
    notes = await _notified(client, bob)
    assert len(notes) == 5 and "Rappel" in notes[2]  # newest first; the chapter speaks French
    assert len(await _notified(client, dave)) == 1  # no reminder to the waiting list

    r = await client.get(f"/api/v1/chapters/{ch}/messages", headers=alice.headers)
    assert [m["kind"] for m in r.json()] == [
        "thanks",
        "reminder_2h",
        "reminder_24h",
        "announcement",
        "announcement",
    ]
    assert (await client.get(f"/api/v1/chapters/{ch}/messages", headers=bob.headers)).status_code == 403

    await wait_sent()
    mails = _mails(settings)
    to_bob = [m for m in mails if m["To"] == bob.email]
    to_carol = [m for m in mails if m["To"] == carol.email]
    assert len(to_bob) == len(to_carol) == 5 and len([m for m in mails if m["To"] == dave.email]) == 1
    # Each in its reader's language, whatever the chapter's.
    assert {m["Subject"] for m in to_bob} == {"Des nouvelles de #TwestivalLyon"}
    assert {m["Subject"] for m in to_carol} == {"News from #TwestivalLyon"}
    bodies = [m.get_payload(decode=True).decode() for m in to_carol]  # type: ignore[union-attr]
    assert any(b.startswith("Thank you for coming") for b in bodies)
