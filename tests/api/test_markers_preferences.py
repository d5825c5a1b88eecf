"""Reading positions (``/api/v1/markers``) and preferences (``/api/v1/preferences``, set through
``update_credentials``' ``source[…]``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.conftest import ApiUser

Post = Callable[..., Awaitable[dict[str, Any]]]
MARKERS = "/api/v1/markers?timeline[]=home&timeline[]=notifications"


async def test_markers(client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser) -> None:
    assert (await client.get(MARKERS, headers=alice.headers)).json() == {}

    r = await client.post("/api/v1/markers", data={"home[last_read_id]": "1001"}, headers=alice.headers)
    assert r.status_code == 200, r.text
    home = r.json()["home"]
    assert set(r.json()) == {"home"}
    assert home["last_read_id"] == "1001" and home["version"] == 1 and home["updated_at"].endswith("Z")

    # The same position again is not a change; a new one is, and both timelines can go at once (JSON).
    same = await client.post("/api/v1/markers", data={"home[last_read_id]": "1001"}, headers=alice.headers)
    assert same.json()["home"]["version"] == 1
    both = await client.post(
        "/api/v1/markers",
        json={"home": {"last_read_id": "1002"}, "notifications": {"last_read_id": "7"}},
        headers=alice.headers,
    )
    assert both.json()["home"]["version"] == 2 and both.json()["notifications"]["version"] == 1

    shown = (await client.get(MARKERS, headers=alice.headers)).json()
    assert {k: v["last_read_id"] for k, v in shown.items()} == {"home": "1002", "notifications": "7"}
    only_home = (await client.get("/api/v1/markers?timeline[]=home", headers=alice.headers)).json()
    assert set(only_home) == {"home"}
    assert (await client.get(MARKERS, headers=bob.headers)).json() == {}  # each their own

    for bad in (
        {"home": {"last_read_id": "abc"}},
        {"home": {"last_read_id": "5"}, "notifications": {"last_read_id": True}},
        {"home": {"last_read_id": "99999999999999999999"}},
    ):
        r = await client.post("/api/v1/markers", json=bad, headers=alice.headers)
        assert r.status_code == 422, bad
    assert (await client.get(MARKERS, headers=alice.headers)).json() == shown  # nothing changed
    assert (await client.get(MARKERS)).status_code == 401


async def test_preferences_follow_update_credentials(
    client: httpx.AsyncClient, post: Post, alice: ApiUser
) -> None:
    defaults = (await client.get("/api/v1/preferences", headers=alice.headers)).json()
    assert defaults == {
        "posting:default:visibility": "public",
        "posting:default:sensitive": False,
        "posting:default:language": None,
        "reading:expand:media": "default",
        "reading:expand:spoilers": False,
    }
    r = await client.patch(
        "/api/v1/accounts/update_credentials",
        data={"source[privacy]": "private", "source[sensitive]": "true", "source[language]": "fr"},
        headers=alice.headers,
    )
    assert r.status_code == 200, r.text
    assert {k: r.json()["source"][k] for k in ("privacy", "sensitive", "language")} == {
        "privacy": "private",
        "sensitive": True,
        "language": "fr",
    }
    me = (await client.get("/api/v1/accounts/verify_credentials", headers=alice.headers)).json()
    assert me["source"]["privacy"] == "private" and me["source"]["sensitive"] is True
    prefs = (await client.get("/api/v1/preferences", headers=alice.headers)).json()
    assert prefs["posting:default:visibility"] == "private"
    assert prefs["posting:default:sensitive"] is True and prefs["posting:default:language"] == "fr"

    # New notes take the defaults unless told otherwise.
    note = await post(alice, "With the defaults")
    assert (note["visibility"], note["sensitive"], note["language"]) == ("private", True, "fr")
    explicit = await post(alice, "Explicit", visibility="public", sensitive=False, language="en")
    assert (explicit["visibility"], explicit["sensitive"], explicit["language"]) == ("public", False, "en")

    # JSON bodies nest them; other fields stay as they were.
    r = await client.patch(
        "/api/v1/accounts/update_credentials", json={"source": {"privacy": "unlisted"}}, headers=alice.headers
    )
    assert r.json()["source"]["privacy"] == "unlisted" and r.json()["source"]["sensitive"] is True


async def test_invalid_preferences_change_nothing(client: httpx.AsyncClient, alice: ApiUser) -> None:
    for bad in (
        {"source[privacy]": "direct"},
        {"source[privacy]": "everyone"},
        {"source[language]": "not a language"},
    ):
        r = await client.patch(
            "/api/v1/accounts/update_credentials",
            data={**bad, "display_name": "Changed"},
            headers=alice.headers,
        )
        assert r.status_code == 422, bad
    me = (await client.get("/api/v1/accounts/verify_credentials", headers=alice.headers)).json()
    assert me["display_name"] == "" and me["source"]["privacy"] == "public"
    assert (await client.get("/api/v1/preferences")).status_code == 401
