"""The signed-in web app through HTTP: the note fragment obeys the one visibility rule, every action
needs its CSRF token and goes through the API's actions, the compose box keeps the text on bad input,
and the counter endpoint gives the server's own count."""

from __future__ import annotations

import io
import re

import httpx

from cordee.actions.statuses import counted_length
from cordee.config import Settings
from tests.conftest import ApiUser
from tests.web.test_auth_pages import sign_in


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


async def _post(client: httpx.AsyncClient, user: ApiUser, text: str, visibility: str = "public") -> str:
    r = await client.post(
        "/api/v1/statuses", data={"status": text, "visibility": visibility}, headers=user.headers
    )
    assert r.status_code == 200, r.text
    return str(r.json()["id"])


async def test_pages_need_a_session(client: httpx.AsyncClient) -> None:
    assert (await client.get("/home")).headers["location"].startswith("/auth/sign_in?next=%2Fhome")
    assert (await client.get("/web/notes/1", headers={"X-Cordee-Fetch": "1"})).status_code == 401
    assert (await client.get("/web/stream")).status_code == 401


async def test_the_fragment_shows_only_what_the_viewer_may_see(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser
) -> None:
    public = await _post(client, bob, "Out in the open <script>alert(1)</script>")
    private = await _post(client, bob, "For my followers", "private")
    await sign_in(client, alice)
    shown = await client.get(f"/web/notes/{public}")
    assert shown.status_code == 200
    assert f'id="note-{public}"' in shown.text and "<script>alert" not in shown.text
    assert 'name="next" value="/home"' in shown.text  # a plain-form fallback comes back to a page
    assert (await client.get(f"/web/notes/{private}")).status_code == 404
    assert (await client.get("/web/notes/123456789")).status_code == 404
    follow = await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice.headers)
    assert follow.status_code == 200
    assert "For my followers" in (await client.get(f"/web/notes/{private}")).text
    home = await client.get("/home")
    assert "For my followers" in home.text and "Out in the open" in home.text


async def test_actions_need_csrf_and_use_the_api_actions(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser
) -> None:
    note = await _post(client, bob, "Like me")
    await sign_in(client, alice)
    token = _csrf((await client.get("/home")).text)
    refused = await client.post(f"/web/notes/{note}/favourite", data={"next": "/home"})
    assert refused.status_code == 403 and 'role="alert"' in refused.text
    seen = await client.get(f"/api/v1/statuses/{note}", headers=alice.headers)
    assert seen.json()["favourited"] is False

    done = await client.post(f"/web/notes/{note}/favourite", data={"csrf_token": token, "next": "/home"})
    assert done.status_code == 303 and done.headers["location"] == f"/home#note-{note}"
    scripted = await client.post(
        f"/web/notes/{note}/bookmark", data={"csrf_token": token}, headers={"X-Cordee-Fetch": "1"}
    )
    assert scripted.status_code == 200 and 'aria-pressed="true"' in scripted.text
    entity = (await client.get(f"/api/v1/statuses/{note}", headers=alice.headers)).json()
    assert entity["favourited"] is True and entity["bookmarked"] is True
    # Someone else's note cannot be deleted from the page either.
    not_mine = await client.post(f"/web/notes/{note}/delete", data={"csrf_token": token})
    assert not_mine.status_code in (403, 404) and 'role="alert"' in not_mine.text
    assert (await client.get(f"/api/v1/statuses/{note}")).status_code == 200
    off_site = await client.post(
        f"/web/notes/{note}/unfavourite", data={"csrf_token": token, "next": "//evil"}
    )
    assert off_site.headers["location"] == f"/home#note-{note}"


async def test_compose_keeps_the_text_and_counts_like_the_server(
    client: httpx.AsyncClient, settings: Settings, alice: ApiUser
) -> None:
    await sign_in(client, alice)
    token = _csrf((await client.get("/home")).text)
    long = "é" * (settings.max_characters + 1)
    refused = await client.post(
        "/compose", data={"csrf_token": token, "status": long, "visibility": "public"}
    )
    assert refused.status_code == 422
    assert long in refused.text and 'role="alert"' in refused.text and "too long" in refused.text
    stale = await client.post(
        "/compose", data={"csrf_token": "nope", "status": "kept", "visibility": "public"}
    )
    assert stale.status_code == 403 and ">kept</textarea>" in stale.text

    text = "@bob@elsewhere.example see https://example.org/x 👨‍👩‍👧 "
    counted = await client.post(
        "/web/count", data={"csrf_token": token, "status": text, "spoiler_text": "cw"}
    )
    assert counted.json() == {
        "count": counted_length(settings, text, "cw"),
        "limit": settings.max_characters,
    }
    assert (await client.post("/web/count", data={"status": text})).status_code == 403

    posted = await client.post(
        "/compose", data={"csrf_token": token, "status": "Hello rope", "visibility": "public"}
    )
    assert posted.status_code == 303 and posted.headers["location"].startswith("/home#note-")
    mine = await client.get(f"/api/v1/accounts/{alice.id}/statuses", headers=alice.headers)
    assert [s["content"] for s in mine.json()] == ["<p>Hello rope</p>"]


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 80, 20)).save(out, "PNG")
    return out.getvalue()


async def test_compose_with_an_image_and_its_alt_text(client: httpx.AsyncClient, alice: ApiUser) -> None:
    await sign_in(client, alice)
    token = _csrf((await client.get("/home")).text)
    fields = {"csrf_token": token, "status": "Summit view", "visibility": "public"}
    refused = await client.post(
        "/compose",
        data={**fields, "description_1": "An orange card"},
        files={"media_1": ("summit.png", b"not an image at all", "image/png")},
    )
    assert refused.status_code == 422 and 'role="alert"' in refused.text
    assert ">Summit view</textarea>" in refused.text and ">An orange card</textarea>" in refused.text

    posted = await client.post(
        "/compose",
        data={**fields, "description_1": "An orange card"},
        files={"media_1": ("summit.png", _png(), "image/png")},
    )
    assert posted.status_code == 303, posted.text
    mine = (await client.get(f"/api/v1/accounts/{alice.id}/statuses", headers=alice.headers)).json()
    assert len(mine) == 1 and [m["description"] for m in mine[0]["media_attachments"]] == ["An orange card"]
    assert 'alt="An orange card"' in (await client.get("/home")).text
