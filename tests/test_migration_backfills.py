"""Migrations that fill new columns from existing rows do so rightly (SQLite; the same statements
run on PostgreSQL in ``test_migrations``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from cordee.db.migrate import upgrade


def test_0015_gives_each_note_the_first_note_of_its_reply_chain(tmp_path: Path) -> None:
    path = tmp_path / "before.sqlite3"
    upgrade(f"sqlite+aiosqlite:///{path}", "0014")
    con = sqlite3.connect(path)
    con.execute(
        "INSERT INTO accounts (id, username, username_key, display_name, note, avatar_url, header_url,"
        " locked, bot, discoverable, followers_count, following_count, statuses_count, created_at)"
        " VALUES (1, 'a', 'a', '', '', '', '', 0, 0, 1, 0, 0, 0, '2026-01-01 00:00:00')"
    )
    # 1 <- 2 <- 3 <- 5, 4 <- 6, 7 a boost of 3, 8 a reply whose parent was deleted (SET NULL).
    for status_id, parent, boosted in [
        (1, None, None), (2, 1, None), (3, 2, None), (4, None, None),
        (5, 3, None), (6, 4, None), (7, None, 3), (8, None, None),
    ]:  # fmt: skip
        con.execute(
            "INSERT INTO statuses (id, account_id, text, content, spoiler_text, visibility, sensitive,"
            " in_reply_to_id, reblog_of_id, replies_count, reblogs_count, favourites_count, created_at)"
            " VALUES (?, 1, '', '', '', 'public', 0, ?, ?, 0, 0, 0, '2026-01-01 00:00:00')",
            (status_id, parent, boosted),
        )
    con.commit()
    con.close()
    upgrade(f"sqlite+aiosqlite:///{path}", "0015")
    with sqlite3.connect(path) as con:
        rows = dict(con.execute("SELECT id, conversation_id FROM statuses"))
    assert rows == {1: 1, 2: 1, 3: 1, 4: 4, 5: 1, 6: 4, 7: 7, 8: 8}
