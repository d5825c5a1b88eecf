"""A reader's marks are kept per reader (``rendering/marks.py``): read again only when the reader
marks or unmarks something, and every mark or unmark shows on the very next page — for a reader
with few marks, with too many to keep, and with a muted thread."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from cordee.db.engine import Database
from cordee.rendering import marks as reader_marks
from tests.api.test_query_counts import counting
from tests.conftest import ApiUser

Post = Callable[..., Awaitable[dict[str, Any]]]
FLAGS = ("favourited", "reblogged", "bookmarked", "muted", "pinned")


async def _ok(response: Awaitable[httpx.Response]) -> Any:
    r = await response
    assert r.status_code == 200, r.text
    return r.json()


async def _flags(
    client: httpx.AsyncClient, author: ApiUser, reader: ApiUser, note: dict[str, Any]
) -> set[str]:
    """The marks ``reader`` sees on ``note`` on ``author``'s page, as a set of names — the same
    on the public timeline."""
    seen = []
    for path in (f"/api/v1/accounts/{author.id}/statuses", "/api/v1/timelines/public"):
        page = await _ok(client.get(path, headers=reader.headers))
        shown = next(s for s in page if s["id"] == note["id"])
        seen.append({name for name in FLAGS if shown.get(name)})  # "pinned": on her own notes only
    assert seen[0] == seen[1], seen
    return seen[0]


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


async def test_a_readers_marks_are_read_again_only_when_they_mark_something(
    db: Database, client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, post: Post
) -> None:
    notes = [await post(alice, f"note {i}") for i in range(4)]
    await _ok(client.post(f"/api/v1/statuses/{notes[0]['id']}/favourite", headers=bob.headers))
    url = f"/api/v1/accounts/{alice.id}/statuses"
    await _ok(client.get(url, headers=bob.headers))  # his marks read, and kept
    marks_sql = {
        q.compiled(db.hot.dialect_name).sql for q in (reader_marks.ALL_MARKS, *reader_marks.FLAGS.every)
    }

    async def page(query: str, *, read_again: bool) -> list[Any]:
        with counting(db) as counter:
            found = await _ok(client.get(f"{url}{query}", headers=bob.headers))
        assert bool(marks_sql.intersection(counter.statements)) is read_again
        return found  # type: ignore[no-any-return]

    assert [s["favourited"] for s in await page("?limit=3", read_again=False)] == [False] * 3
    assert [s["favourited"] for s in await page("?limit=4", read_again=False)] == [False] * 3 + [True]
    # Others' marks and new notes change nothing of his: his marks stand.
    await _ok(client.post(f"/api/v1/statuses/{notes[0]['id']}/favourite", headers=alice.headers))
    new = await post(alice, "a new note")
    shown = await page("?limit=5", read_again=False)
    assert (shown[0]["id"], shown[0]["favourited"]) == (new["id"], False)
    assert (shown[-1]["favourited"], shown[-1]["favourites_count"]) == (True, 2)
    # His own mark: read again, once.
    await _ok(client.post(f"/api/v1/statuses/{new['id']}/bookmark", headers=bob.headers))
    assert (await page("?limit=5", read_again=True))[0]["bookmarked"] is True
    assert (await page("?limit=6", read_again=False))[0]["bookmarked"] is True
