"""A reader's marks are kept per reader (``rendering/marks.py``): pages whose notes did not move
since read no statement for them, and every mark or unmark shows on the very next page — for a
reader with few marks, with too many to keep, and with a muted thread."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from cordee.db.engine import Database
from cordee.rendering import marks as reader_marks
from tests.api.test_query_counts import counting
from tests.conftest import ApiUser, MakeUser

Post = Callable[..., Awaitable[dict[str, Any]]]
FLAGS = ("favourited", "reblogged", "bookmarked", "muted", "pinned")


async def _ok(response: Awaitable[httpx.Response]) -> Any:
    r = await response
    assert r.status_code == 200, r.text
    return r.json()


async def _flags(
    client: httpx.AsyncClient, author: ApiUser, reader: ApiUser, note: dict[str, Any]
) -> set[str]:
    """The marks ``reader`` sees on ``note`` on ``author``'s page, as a set of names."""
    page = await _ok(client.get(f"/api/v1/accounts/{author.id}/statuses", headers=reader.headers))
    shown = next(s for s in page if s["id"] == note["id"])
    return {name for name in FLAGS if shown.get(name)}  # "pinned": on her own notes only


async def _marks_of_each_kind_show_at_once(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, note: dict[str, Any]
) -> None:
    url = f"/api/v1/statuses/{note['id']}"
    assert await _flags(client, alice, bob, note) == set()
    for action, expected in (
        ("favourite", {"favourited"}),
        ("bookmark", {"favourited", "bookmarked"}),
        ("reblog", {"favourited", "bookmarked", "reblogged"}),
        ("mute", {"favourited", "bookmarked", "reblogged", "muted"}),
        ("unfavourite", {"bookmarked", "reblogged", "muted"}),
        ("unmute", {"bookmarked", "reblogged"}),
        ("unreblog", {"bookmarked"}),
        ("unbookmark", set()),
    ):
        await _ok(client.post(f"{url}/{action}", headers=bob.headers))
        assert await _flags(client, alice, bob, note) == expected, action
    await _ok(client.post(f"{url}/pin", headers=alice.headers))
    assert await _flags(client, alice, alice, note) == {"pinned"}
    assert await _flags(client, alice, bob, note) == set()  # her pin, not his mark
    await _ok(client.post(f"{url}/unpin", headers=alice.headers))
    assert await _flags(client, alice, alice, note) == set()


async def test_every_mark_shows_at_once(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, post: Post
) -> None:
    notes = [await post(alice, f"note {i}") for i in range(3)]
    await _marks_of_each_kind_show_at_once(client, alice, bob, notes[1])


async def test_every_mark_shows_at_once_for_a_reader_with_too_many_to_keep(
    monkeypatch: pytest.MonkeyPatch, client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, post: Post
) -> None:
    monkeypatch.setattr(reader_marks, "MOST", 1)
    notes = [await post(alice, f"note {i}") for i in range(3)]
    for note in notes[1:]:
        await _ok(client.post(f"/api/v1/statuses/{note['id']}/favourite", headers=bob.headers))
    await _marks_of_each_kind_show_at_once(client, alice, bob, notes[0])
    assert await _flags(client, alice, bob, notes[2]) == {"favourited"}


async def test_every_mark_shows_at_once_for_a_reader_who_muted_a_thread(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, post: Post
) -> None:
    notes = [await post(alice, f"note {i}") for i in range(3)]
    await _ok(client.post(f"/api/v1/statuses/{notes[2]['id']}/mute", headers=bob.headers))
    assert await _flags(client, alice, bob, notes[2]) == {"muted"}
    await _marks_of_each_kind_show_at_once(client, alice, bob, notes[0])


async def test_marks_are_not_read_again_for_notes_that_did_not_move(
    db: Database, client: httpx.AsyncClient, make_user: MakeUser, alice: ApiUser, bob: ApiUser, post: Post
) -> None:
    notes = [await post(alice, f"note {i}") for i in range(4)]
    await _ok(client.post(f"/api/v1/statuses/{notes[0]['id']}/favourite", headers=bob.headers))
    url = f"/api/v1/accounts/{alice.id}/statuses"
    await _ok(client.get(url, headers=bob.headers))  # his marks read, and kept
    marks_sql = {
        q.compiled(db.hot.dialect_name).sql for q in (reader_marks.ALL_MARKS, *reader_marks.FLAGS.every)
    }
    with counting(db) as counter:
        page = await _ok(client.get(f"{url}?limit=3", headers=bob.headers))  # another page: rendered
    assert not marks_sql.intersection(counter.statements)
    assert [s["favourited"] for s in page] == [False, False, False]
    with counting(db) as counter:
        page = await _ok(client.get(f"{url}?limit=4", headers=bob.headers))
    assert not marks_sql.intersection(counter.statements)
    assert [s["favourited"] for s in page] == [False, False, False, True]
    # A note that moved (someone's favourite) is asked again, and shows his mark as it is.
    await _ok(client.post(f"/api/v1/statuses/{notes[0]['id']}/favourite", headers=alice.headers))
    with counting(db) as counter:
        page = await _ok(client.get(f"{url}?limit=5", headers=bob.headers))
    assert marks_sql.intersection(counter.statements)
    assert (page[-1]["favourited"], page[-1]["favourites_count"]) == (True, 2)
