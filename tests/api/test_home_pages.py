"""A rendered home page is kept and served again as it was (``rendering/home.py``): with that page
warm — served without reading a note's row, the reader's marks or rendering anything — every
change to what it shows (counters, the reader's own marks, polls, an edit, the author's profile)
shows on the very next read. And the writes people make all the time say exactly what they changed
(``db/changes.py``): were one of them not understood, every kept page would be dropped by it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from sqlalchemy import select, text, update

from cordee.db.changes import Changes
from cordee.db.engine import Database
from cordee.db.tables import Status
from cordee.queries.timelines import LIVE_VISIBLE
from cordee.rendering.marks import FLAGS
from tests.api.home_reads import home, served_without
from tests.conftest import ApiUser, MakeUser

Post = Callable[..., Awaitable[dict[str, Any]]]


async def _kept(db: Database, client: httpx.AsyncClient, user: ApiUser) -> list[dict[str, Any]]:
    """Read the home page until it is served as kept: no note row, no mark read for it."""
    return await served_without(db, client, user, (LIVE_VISIBLE, *FLAGS.every))


def _note(page: list[dict[str, Any]], note_id: str) -> dict[str, Any]:
    return next(s for s in page if s["id"] == note_id)


async def _ok(response: Awaitable[httpx.Response]) -> dict[str, Any]:
    r = await response
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_counters_and_the_readers_own_marks_show_at_once(
    db: Database, client: httpx.AsyncClient, make_user: MakeUser, alice: ApiUser, bob: ApiUser, post: Post
) -> None:
    carol = await make_user("carol")
    await _ok(client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers))
    note = await post(alice, "a note to react to")
    url = f"/api/v1/statuses/{note['id']}"
    assert _note(await _kept(db, client, bob), note["id"])["favourites_count"] == 0

    steps: list[tuple[Callable[[], Awaitable[Any]], Callable[[dict[str, Any]], bool]]] = [
        (
            lambda: _ok(client.post(f"{url}/favourite", headers=carol.headers)),
            lambda s: s["favourites_count"] == 1,
        ),
        (lambda: _ok(client.post(f"{url}/favourite", headers=bob.headers)), lambda s: s["favourited"]),
        (lambda: _ok(client.post(f"{url}/unfavourite", headers=bob.headers)), lambda s: not s["favourited"]),
        (lambda: _ok(client.post(f"{url}/reblog", headers=carol.headers)), lambda s: s["reblogs_count"] == 1),
        (lambda: _ok(client.post(f"{url}/bookmark", headers=bob.headers)), lambda s: s["bookmarked"]),
        (lambda: _ok(client.post(f"{url}/unbookmark", headers=bob.headers)), lambda s: not s["bookmarked"]),
        (lambda: _ok(client.post(f"{url}/mute", headers=bob.headers)), lambda s: s["muted"]),
        (lambda: _ok(client.post(f"{url}/unmute", headers=bob.headers)), lambda s: not s["muted"]),
        (
            lambda: post(carol, f"@{alice.username} a reply", in_reply_to_id=note["id"]),
            lambda s: s["replies_count"] == 1,
        ),
        (
            lambda: _ok(client.post(f"/api/v1/accounts/{alice.id}/follow", headers=carol.headers)),
            lambda s: s["account"]["followers_count"] == 2,
        ),
        (
            lambda: _ok(
                client.patch(
                    "/api/v1/accounts/update_credentials",
                    data={"display_name": "Alice A."},
                    headers=alice.headers,
                )
            ),
            lambda s: s["account"]["display_name"] == "Alice A.",
        ),
        (
            lambda: _ok(client.put(url, json={"status": "a note, edited"}, headers=alice.headers)),
            lambda s: "edited" in s["content"] and s["edited_at"] is not None,
        ),
    ]
    for change, shown in steps:
        await _kept(db, client, bob)
        await change()
        assert shown(_note(await home(client, bob), note["id"]))


async def test_a_boost_by_the_reader_and_the_authors_new_notes_show_at_once(
    db: Database, client: httpx.AsyncClient, make_user: MakeUser, alice: ApiUser, bob: ApiUser, post: Post
) -> None:
    carol = await make_user("carol")
    for target in (alice, carol):
        await _ok(client.post(f"/api/v1/accounts/{target.id}/follow", headers=bob.headers))
    by_carol = await post(carol, "carol speaks")
    by_alice = await post(alice, "alice speaks")
    await _kept(db, client, bob)
    await _ok(client.post(f"/api/v1/statuses/{by_carol['id']}/reblog", headers=bob.headers))
    assert _note(await home(client, bob), by_carol["id"])["reblogged"]

    await _kept(db, client, bob)
    statuses = _note(await home(client, bob), by_alice["id"])["account"]["statuses_count"]
    await post(alice, "alice again")  # her count, shown on her every note, moves
    page = await home(client, bob)
    assert _note(page, by_alice["id"])["account"]["statuses_count"] == statuses + 1


async def test_polls_and_pins_show_at_once(
    db: Database, client: httpx.AsyncClient, make_user: MakeUser, alice: ApiUser, bob: ApiUser, post: Post
) -> None:
    carol = await make_user("carol")
    await _ok(client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers))
    asked = await post(alice, "which?", poll={"options": ["this", "that"], "expires_in": 3600})
    mine = await post(bob, "my own note")
    await _kept(db, client, bob)
    await _ok(
        client.post(
            f"/api/v1/polls/{asked['poll']['id']}/votes", json={"choices": [0]}, headers=carol.headers
        )
    )
    assert _note(await home(client, bob), asked["id"])["poll"]["votes_count"] == 1

    await _kept(db, client, bob)
    await _ok(
        client.post(f"/api/v1/polls/{asked['poll']['id']}/votes", json={"choices": [1]}, headers=bob.headers)
    )
    poll = _note(await home(client, bob), asked["id"])["poll"]
    assert poll["voted"] and poll["own_votes"] == [1] and poll["votes_count"] == 2

    await _kept(db, client, bob)
    await _ok(client.post(f"/api/v1/statuses/{mine['id']}/pin", headers=bob.headers))
    assert _note(await home(client, bob), mine["id"])["pinned"]
    await _kept(db, client, bob)
    await _ok(client.post(f"/api/v1/statuses/{mine['id']}/unpin", headers=bob.headers))
    assert not _note(await home(client, bob), mine["id"])["pinned"]


async def test_a_kept_page_is_never_anyone_elses(
    db: Database, client: httpx.AsyncClient, make_user: MakeUser, alice: ApiUser, bob: ApiUser, post: Post
) -> None:
    carol = await make_user("carol")
    for reader in (bob, carol):
        await _ok(client.post(f"/api/v1/accounts/{alice.id}/follow", headers=reader.headers))
    private = await post(alice, "for my followers", visibility="private")
    await _ok(client.post(f"/api/v1/statuses/{private['id']}/favourite", headers=bob.headers))
    assert _note(await _kept(db, client, bob), private["id"])["favourited"]
    assert not _note(await home(client, carol), private["id"])["favourited"]  # carol's own page

    await _kept(db, client, carol)
    await _ok(client.post(f"/api/v1/accounts/{carol.id}/block", headers=alice.headers))
    assert private["id"] not in {s["id"] for s in await home(client, carol)}
    await _kept(db, client, bob)
    await _ok(client.post(f"/api/v1/accounts/{alice.id}/unfollow", headers=bob.headers))
    assert private["id"] not in {s["id"] for s in await home(client, bob)}


async def test_everyday_writes_say_what_they_changed(
    db: Database, client: httpx.AsyncClient, make_user: MakeUser, alice: ApiUser, bob: ApiUser, post: Post
) -> None:
    seen: list[Changes] = []
    original = db.entities.changed

    def changed(changes: Changes) -> None:
        seen.append(changes)
        original(changes)

    db.entities.changed = changed  # type: ignore[method-assign]
    note = await post(alice, "hello #climbing")
    writes: list[Awaitable[Any]] = [
        _ok(client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)),
        post(bob, f"@{alice.username} hi", in_reply_to_id=note["id"]),
        post(bob, "a note with a poll", poll={"options": ["a", "b"], "expires_in": 600}),
        _ok(client.post(f"/api/v1/statuses/{note['id']}/favourite", headers=bob.headers)),
        _ok(client.post(f"/api/v1/statuses/{note['id']}/unfavourite", headers=bob.headers)),
        _ok(client.post(f"/api/v1/statuses/{note['id']}/reblog", headers=bob.headers)),
        _ok(client.post(f"/api/v1/statuses/{note['id']}/bookmark", headers=bob.headers)),
        _ok(client.post(f"/api/v1/accounts/{alice.id}/unfollow", headers=bob.headers)),
    ]
    for write in writes:
        seen.clear()
        await write
        # Described (so kept pages that do not show what changed stay), and not by nothing.
        assert seen and not any(c.unknown for c in seen)
        assert set().union(*(c.keys for c in seen))


async def test_a_write_that_does_not_say_what_it_changed_drops_every_kept_page(
    db: Database, client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, post: Post
) -> None:
    # A write path written tomorrow that names nothing — a Core UPDATE, or a textual one — must not
    # leave a stale page served: the transaction is "unknown", and every kept page goes.
    await _ok(client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers))
    note = await post(alice, "counted")
    for write, counter, value in (
        (
            update(Status).where(Status.id == int(note["id"])).values(favourites_count=7),
            "favourites_count",
            7,
        ),
        (
            text("UPDATE statuses SET replies_count = 5 WHERE id = :id").bindparams(id=int(note["id"])),
            "replies_count",
            5,
        ),
        (  # a textual write after a WITH (both databases take it)
            text(
                "WITH t AS (SELECT :id AS id) "
                "UPDATE statuses SET reblogs_count = 3 WHERE id IN (SELECT id FROM t)"
            ).bindparams(id=int(note["id"])),
            "reblogs_count",
            3,
        ),
        *(
            [  # a write in a WITH of a SELECT (PostgreSQL only: SQLite takes no write in a WITH)
                (
                    select(written.c.id).add_cte(written),
                    "favourites_count",
                    9,
                )
                for written in [
                    update(Status)
                    .where(Status.id == int(note["id"]))
                    .values(favourites_count=9)
                    .returning(Status.id)
                    .cte("written")
                ]
            ]
            if not db.is_sqlite
            else []
        ),
    ):
        await _kept(db, client, bob)
        async with db.write() as tx:
            await tx.session.execute(write)
        assert _note(await home(client, bob), note["id"])[counter] == value


async def test_a_page_rebuilt_from_kept_notes_is_what_rendering_it_afresh_gives(
    db: Database, client: httpx.AsyncClient, make_user: MakeUser, alice: ApiUser, bob: ApiUser, post: Post
) -> None:
    """After a new note reaches the feed, the page is rebuilt from the notes kept as rendered
    (``rendering/pieces.py``: their JSON cut around their accounts) and the new one: each entity,
    boosts and their inner notes included, is exactly what the status endpoint renders afresh."""
    carol = await make_user("carol")
    for target in (alice, carol):
        await _ok(client.post(f"/api/v1/accounts/{target.id}/follow", headers=bob.headers))
    first = await post(carol, "carol speaks #cordee")
    await post(alice, f"hello @{carol.username}")
    await _ok(client.post(f"/api/v1/statuses/{first['id']}/reblog", headers=alice.headers))
    await _ok(client.post(f"/api/v1/statuses/{first['id']}/favourite", headers=bob.headers))
    await _kept(db, client, bob)
    await post(alice, "one more")  # alice's notes show her new count; the others are kept
    page = await home(client, bob)
    assert len(page) == 4 and page[1]["reblog"] is not None
    for entity in page:
        assert entity == await _ok(client.get(f"/api/v1/statuses/{entity['id']}", headers=bob.headers))
