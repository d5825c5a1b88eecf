"""A note's rendering is shared between the readers who see it the same way (``rendering/pieces.py``):
rendered for one reader with no mark on it, it is served to the next. Whatever order the readers
come in, each still sees their own marks, their own view of their own notes, and their own poll
votes — on home pages and on account pages, signed in or not."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from cordee.db.engine import Database
from tests.conftest import ApiUser, MakeUser

Post = Callable[..., Awaitable[dict[str, Any]]]


async def _ok(response: Awaitable[httpx.Response]) -> Any:
    r = await response
    assert r.status_code == 200, r.text
    return r.json()


async def _profile(client: httpx.AsyncClient, author: ApiUser, reader: ApiUser | None) -> dict[str, Any]:
    """The newest note of ``author``'s page as ``reader`` (None: anonymous) reads it."""
    headers = reader.headers if reader else None
    page = await _ok(client.get(f"/api/v1/accounts/{author.id}/statuses", headers=headers))
    return page[0]  # type: ignore[no-any-return]


async def _home(client: httpx.AsyncClient, reader: ApiUser, note_id: str) -> dict[str, Any]:
    page = await _ok(client.get("/api/v1/timelines/home", headers=reader.headers))
    return next(s for s in page if s["id"] == note_id)


def _marks(entity: dict[str, Any]) -> tuple[bool, bool, bool, bool]:
    return entity["favourited"], entity["reblogged"], entity["bookmarked"], entity["muted"]


async def test_each_reader_sees_their_own_marks_whoever_read_the_note_first(
    db: Database, client: httpx.AsyncClient, make_user: MakeUser, alice: ApiUser, bob: ApiUser, post: Post
) -> None:
    readers = [bob, *[await make_user(name) for name in ("carol", "dave", "erin", "frank")]]
    carol, dave, erin, frank = readers[1:]
    for reader in (*readers, alice):
        if reader is not alice:
            await _ok(client.post(f"/api/v1/accounts/{alice.id}/follow", headers=reader.headers))
    note = await post(alice, "one note, many readers")
    url = f"/api/v1/statuses/{note['id']}"
    assert _marks(await _home(client, bob, note["id"])) == (False, False, False, False)  # rendered, shared
    await _ok(client.post(f"{url}/favourite", headers=carol.headers))
    await _ok(client.post(f"{url}/reblog", headers=dave.headers))
    await _ok(client.post(f"{url}/bookmark", headers=erin.headers))
    await _ok(client.post(f"{url}/mute", headers=frank.headers))
    assert _marks(await _home(client, bob, note["id"])) == (False, False, False, False)  # shared anew
    expected = {
        carol.id: (True, False, False, False),
        dave.id: (False, True, False, False),
        erin.id: (False, False, True, False),
        frank.id: (False, False, False, True),
    }
    for reader in (carol, dave, erin, frank):
        shown = await _home(client, reader, note["id"])
        assert _marks(shown) == expected[reader.id], reader.username
        assert (shown["favourites_count"], shown["reblogs_count"]) == (1, 1)
        assert _marks(await _profile(client, alice, reader)) == expected[reader.id], reader.username
    assert _marks(await _profile(client, alice, bob)) == (False, False, False, False)


async def test_authors_see_their_own_notes_their_way_and_boosts_carry_them(
    db: Database, client: httpx.AsyncClient, make_user: MakeUser, alice: ApiUser, bob: ApiUser, post: Post
) -> None:
    carol = await make_user("carol")
    note = await post(alice, "written with an app")
    await _ok(client.post(f"/api/v1/statuses/{note['id']}/pin", headers=alice.headers))
    shown = await _profile(client, alice, bob)  # rendered for bob first, shared
    assert shown["application"] is None and "pinned" not in shown
    mine = await _profile(client, alice, alice)
    assert mine["application"] is not None and mine["pinned"] is True
    anonymous = await _profile(client, alice, None)
    assert anonymous["application"] is None and "favourited" not in anonymous  # no reader, no marks
    assert (await _profile(client, alice, carol))["favourited"] is False  # after the anonymous one

    boost = await _ok(client.post(f"/api/v1/statuses/{note['id']}/reblog", headers=carol.headers))
    assert (await _profile(client, carol, bob))["reblog"]["application"] is None
    carried = (await _profile(client, carol, alice))["reblog"]
    assert carried["application"] is not None and carried["id"] == note["id"]
    assert (await _profile(client, carol, carol))["id"] == boost["id"]
    assert (await _profile(client, carol, carol))["reblog"]["reblogged"] is True


async def test_a_poll_shows_each_reader_their_own_votes(
    db: Database, client: httpx.AsyncClient, make_user: MakeUser, alice: ApiUser, bob: ApiUser, post: Post
) -> None:
    carol = await make_user("carol")
    asked = await post(alice, "which?", poll={"options": ["this", "that"], "expires_in": 3600})
    await _ok(
        client.post(f"/api/v1/polls/{asked['poll']['id']}/votes", json={"choices": [1]}, headers=bob.headers)
    )
    assert (await _profile(client, alice, bob))["poll"]["own_votes"] == [1]
    poll = (await _profile(client, alice, carol))["poll"]
    assert (poll["voted"], poll["own_votes"], poll["votes_count"]) == (False, [], 1)
