"""toot, unchanged, bookmarking notes and scheduling one for later on a running ``cordee serve``
(the fixtures are those of ``test_toot``: a private toot configuration, Alice and Bob logged in)."""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing

import pytest

from tests.clients.conftest import Server
from tests.clients.test_toot import Toot, Users, toot, users  # noqa: F401 (fixtures)

pytestmark = pytest.mark.clients


def test_bookmark_list_and_unbookmark(toot: Toot, users: Users) -> None:  # noqa: F811
    note = toot.json("post", "A recipe worth keeping", user=users.bob)
    out = toot.run("bookmark", note["id"]).stdout
    assert "Status bookmarked" in out
    assert toot.json("status", note["id"])["bookmarked"] is True

    listed = toot.run("bookmarks", "--once").stdout
    assert f"ID {note['id']}" in listed and "A recipe worth keeping" in listed
    assert f"ID {note['id']}" not in toot.run("bookmarks", "--once", user=users.bob).stdout

    assert "Status unbookmarked" in toot.run("unbookmark", note["id"]).stdout
    assert f"ID {note['id']}" not in toot.run("bookmarks", "--once").stdout
    gone = toot.run("bookmark", "12345", ok=False)
    assert gone.returncode != 0 and "Record not found" in gone.stderr


def test_scheduled_post_is_published_when_due(toot: Toot, users: Users, server: Server) -> None:  # noqa: F811
    out = toot.run("post", "Posted by the clock", "--scheduled-in", "10m").stdout
    assert out.startswith("Toot scheduled for: ")
    scheduled = toot.json("post", "Also later", "--scheduled-in", "2h", "--visibility", "unlisted")
    assert scheduled["params"]["visibility"] == "unlisted" and scheduled["scheduled_at"].endswith("Z")

    # Less than five minutes ahead: posted at once, as Mastodon's PostStatusService does.
    assert toot.run("post", "Too soon", "--scheduled-in", "1m").stdout.startswith("Toot posted: ")

    def mine() -> list[str]:
        notes = toot.json("timelines", "account", users.alice, "--no-pager", "--no-clear")
        return [n["content"] for n in notes]

    assert not any("Posted by the clock" in c for c in mine())

    # As if the ten minutes had passed: the server's runner publishes it on its next tick.
    with closing(sqlite3.connect(server.data_dir / "cordee.sqlite3", timeout=30)) as conn, conn:
        conn.execute(
            "UPDATE scheduled_statuses SET scheduled_at = '2000-01-01 00:00:00.000000' "
            "WHERE params LIKE '%Posted by the clock%'"
        )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any("Posted by the clock" in c for c in mine()):
        time.sleep(0.5)
    published = [c for c in mine() if "Posted by the clock" in c]
    assert len(published) == 1
    assert not any("Also later" in c for c in mine())
