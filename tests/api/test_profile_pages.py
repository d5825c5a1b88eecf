"""An account's page of notes is kept rendered per reader (``rendering/profile_pages.py``): with the
page warm — served with no statement but the token's — every change to what it shows, or to who
may see what, shows on the very next read; a page kept for one reader is never served to another."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from cordee.db.engine import Database
from tests.api.test_query_counts import counting
from tests.conftest import ApiUser, MakeUser

Post = Callable[..., Awaitable[dict[str, Any]]]


async def _ok(response: Awaitable[httpx.Response]) -> Any:
    r = await response
    assert r.status_code == 200, r.text
    return r.json()


async def _kept(
    db: Database, client: httpx.AsyncClient, author: ApiUser, reader: ApiUser | None
) -> list[Any]:
    """Read ``author``'s page as ``reader`` (None: anonymous) until it is served as kept: no
    statement but the token's."""
    headers = reader.headers if reader else None
    for _ in range(3):
        with counting(db) as counter:
            page = await _ok(client.get(f"/api/v1/accounts/{author.id}/statuses", headers=headers))
        if len(counter.statements) <= (1 if reader else 0):
            return page  # type: ignore[no-any-return]
    raise AssertionError("the account's page was never served as kept")


async def _page(
    client: httpx.AsyncClient, author: ApiUser, reader: ApiUser | None, query: str = ""
) -> list[Any]:
    headers = reader.headers if reader else None
    return await _ok(client.get(f"/api/v1/accounts/{author.id}/statuses{query}", headers=headers))  # type: ignore[no-any-return]


def _ids(page: list[Any]) -> list[str]:
    return [s["id"] for s in page]


async def test_new_notes_deletes_counts_marks_edits_and_profiles_show_at_once(
    db: Database, client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, carol: ApiUser, post: Post
) -> None:
    first = await post(alice, "first")
    for reader in (bob, None):
        assert _ids(await _kept(db, client, alice, reader)) == [first["id"]]
    second = await post(alice, "second")
    for reader in (bob, None):
        assert _ids(await _page(client, alice, reader)) == [second["id"], first["id"]]

    await _kept(db, client, alice, bob)
    await _ok(client.post(f"/api/v1/statuses/{first['id']}/favourite", headers=carol.headers))
    assert (await _page(client, alice, bob))[1]["favourites_count"] == 1
    await _kept(db, client, alice, bob)
    await _ok(client.post(f"/api/v1/statuses/{first['id']}/favourite", headers=bob.headers))
    shown = (await _page(client, alice, bob))[1]
    assert (shown["favourites_count"], shown["favourited"]) == (2, True)
    assert (await _page(client, alice, carol))[1]["favourited"] is True  # carol's own page, her mark
    assert "favourited" not in (await _page(client, alice, None))[1]  # no reader, no marks

    await _kept(db, client, alice, bob)
    await _ok(client.put(f"/api/v1/statuses/{first['id']}", json={"status": "edited"}, headers=alice.headers))
    assert (await _page(client, alice, bob))[1]["content"] == "<p>edited</p>"

    await _kept(db, client, alice, None)
    await _ok(
        client.patch(
            "/api/v1/accounts/update_credentials", data={"display_name": "Alice B."}, headers=alice.headers
        )
    )
    assert {s["account"]["display_name"] for s in await _page(client, alice, None)} == {"Alice B."}

    await _kept(db, client, alice, bob)
    await _ok(client.delete(f"/api/v1/statuses/{second['id']}", headers=alice.headers))
    assert _ids(await _page(client, alice, bob)) == [first["id"]]


async def test_who_may_see_a_note_is_decided_afresh_for_each_reader(
    db: Database, client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, post: Post
) -> None:
    public = await post(alice, "for everyone")
    private = await post(alice, "followers only", visibility="private")
    assert _ids(await _kept(db, client, alice, alice)) == [private["id"], public["id"]]  # her own
    assert _ids(await _kept(db, client, alice, bob)) == [public["id"]]  # another reader's page
    assert _ids(await _kept(db, client, alice, None)) == [public["id"]]

    await _ok(client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers))
    assert _ids(await _page(client, alice, bob)) == [private["id"], public["id"]]
    assert _ids(await _page(client, alice, None)) == [public["id"]]

    await _kept(db, client, alice, bob)
    await _ok(client.post(f"/api/v1/accounts/{alice.id}/unfollow", headers=bob.headers))
    assert _ids(await _page(client, alice, bob)) == [public["id"]]

    await _kept(db, client, alice, bob)
    await _ok(client.post(f"/api/v1/accounts/{bob.id}/block", headers=alice.headers))  # she blocks him
    assert await _page(client, alice, bob) == []
    await _ok(client.post(f"/api/v1/accounts/{bob.id}/unblock", headers=alice.headers))
    await _kept(db, client, alice, bob)
    await _ok(client.post(f"/api/v1/accounts/{alice.id}/block", headers=bob.headers))  # he blocks her
    assert await _page(client, alice, bob) == []


async def test_a_boost_follows_the_rules_of_the_note_it_carries(
    db: Database, client: httpx.AsyncClient, make_user: MakeUser, alice: ApiUser, bob: ApiUser, post: Post
) -> None:
    carol = await make_user("carol")
    note = await post(carol, "carol's")
    boost = await _ok(client.post(f"/api/v1/statuses/{note['id']}/reblog", headers=alice.headers))
    assert _ids(await _kept(db, client, alice, bob)) == [boost["id"]]
    await _ok(client.post(f"/api/v1/accounts/{bob.id}/block", headers=carol.headers))  # carol blocks bob
    assert await _page(client, alice, bob) == []
    assert _ids(await _page(client, alice, None)) == [boost["id"]]
    await _kept(db, client, alice, None)
    await _ok(client.delete(f"/api/v1/statuses/{note['id']}", headers=carol.headers))  # the original goes
    assert await _page(client, alice, None) == []


async def _shared(
    db: Database, client: httpx.AsyncClient, author: ApiUser, reader: ApiUser, query: str = ""
) -> list[Any]:
    """Read ``author``'s page as ``reader``, asserting it was the page shared between readers:
    no statement but the token's, the reader's blocks and marks (``rendering/profile_pages.py``)."""
    with counting(db) as counter:
        page = await _ok(client.get(f"/api/v1/accounts/{author.id}/statuses{query}", headers=reader.headers))
    assert len(counter.statements) <= 3, counter.statements
    return page  # type: ignore[no-any-return]


async def test_a_page_shared_between_readers_is_never_served_across_a_block(
    db: Database, client: httpx.AsyncClient, make_user: MakeUser, alice: ApiUser, bob: ApiUser, post: Post
) -> None:
    carol, dave, eve, frank = [await make_user(name) for name in ("carol", "dave", "eve", "frank")]
    note = await post(alice, "mine")
    carried = await post(carol, "carol's")
    boost = await _ok(client.post(f"/api/v1/statuses/{carried['id']}/reblog", headers=alice.headers))
    await _ok(client.post(f"/api/v1/accounts/{eve.id}/block", headers=alice.headers))  # she blocks eve
    await _ok(client.post(f"/api/v1/accounts/{alice.id}/block", headers=frank.headers))  # frank blocks her
    everyone = [boost["id"], note["id"]]
    assert _ids(await _page(client, alice, bob)) == everyone  # read once for all readers
    assert _ids(await _shared(db, client, alice, dave)) == everyone
    assert await _page(client, alice, eve) == []
    assert await _page(client, alice, frank) == []
    # A block after the reader's blocks were known: the next read has it.
    await _ok(client.post(f"/api/v1/accounts/{dave.id}/block", headers=carol.headers))
    assert _ids(await _page(client, alice, dave)) == [note["id"]]  # not carol's note, boosted
    assert _ids(await _shared(db, client, alice, bob)) == everyone
    await _ok(client.post(f"/api/v1/accounts/{carol.id}/block", headers=bob.headers))
    assert _ids(await _page(client, alice, bob)) == [note["id"]]
    await _ok(client.post(f"/api/v1/accounts/{dave.id}/unblock", headers=carol.headers))
    assert _ids(await _page(client, alice, dave)) == everyone


async def test_followers_and_mentioned_readers_see_their_notes_where_others_share_a_page(
    db: Database, client: httpx.AsyncClient, make_user: MakeUser, alice: ApiUser, bob: ApiUser, post: Post
) -> None:
    carol, dave = await make_user("carol"), await make_user("dave")
    await _ok(client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers))
    private = await post(alice, "followers only", visibility="private")
    public = [await post(alice, f"public {i}") for i in range(2)]
    newest = [public[1]["id"], public[0]["id"]]
    # The followers-only note is older than a page of two: every reader shares that page...
    assert _ids(await _page(client, alice, dave, "?limit=2")) == newest
    assert _ids(await _shared(db, client, alice, bob, "?limit=2")) == newest
    # ...not the next one, where only her followers see it.
    older = f"?limit=2&max_id={public[0]['id']}"
    assert _ids(await _page(client, alice, dave, older)) == []
    assert _ids(await _page(client, alice, bob, older)) == [private["id"]]
    assert _ids(await _page(client, alice, alice, older)) == [private["id"]]

    assert _ids(await _page(client, alice, dave)) == newest  # the whole page: shared
    assert _ids(await _shared(db, client, alice, carol)) == newest
    direct = await post(alice, "@carol for you alone", visibility="direct")
    assert _ids(await _page(client, alice, carol)) == [direct["id"], *newest]
    assert _ids(await _page(client, alice, dave)) == newest
    assert _ids(await _page(client, alice, bob)) == [*newest, private["id"]]
    assert _ids(await _page(client, alice, alice)) == [direct["id"], *newest, private["id"]]
    assert _ids(await _page(client, alice, None)) == newest


async def test_a_followers_only_note_inside_a_full_page_keeps_it_from_being_shared(
    db: Database, client: httpx.AsyncClient, make_user: MakeUser, alice: ApiUser, bob: ApiUser, post: Post
) -> None:
    dave = await make_user("dave")
    await _ok(client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers))
    older = await post(alice, "public, older")
    private = await post(alice, "followers only", visibility="private")
    newer = await post(alice, "public, newer")
    # The anonymous page of two spans the followers-only note: no reader shares it.
    assert _ids(await _page(client, alice, dave, "?limit=2")) == [newer["id"], older["id"]]
    assert _ids(await _page(client, alice, bob, "?limit=2")) == [newer["id"], private["id"]]
    assert _ids(await _page(client, alice, None, "?limit=2")) == [newer["id"], older["id"]]
