"""Keeping the search index in step, inside the writing transaction of each action.

One call per change, from the actions (the only writers): ``note_written`` when a note is posted or
edited, ``account_written`` when an account is created or its profile changes. Deletions cascade
(foreign keys; on SQLite the FTS5 triggers follow the cascade). The rows hold the normalised token
strings of ``search.text``; the text indexes over them (FTS5 / GIN) are updated by the database in
the same transaction, so a note is searchable the moment its transaction commits.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import BigInteger, Table, bindparam, delete, insert, select, text, update

from cordee.db.hot import HotQuery
from cordee.db.hot_writes import inserting, run
from cordee.db.sqlite_driver import deferred
from cordee.db.tables import Account, Status
from cordee.db.tables_search import AccountSearch, StatusSearch
from cordee.db.tx import Tx
from cordee.search.text import index_body, words


def account_body(username: str, display_name: str, note: str) -> str:
    """Folded, unstemmed words of an account (found by word prefixes, so no stemming)."""
    return " ".join(words(f"{username} {display_name} {note}"))


# Built once, on the table (Core statements with parameters): every post runs the first, and
# building an ORM ``insert().values()`` per note was ~15 % of a post's handler (py-spy).
_notes = cast(Table, StatusSearch.__table__)
#: Deferred (``db/sqlite_driver.py``): nothing reads its result, it rides with the next statement.
#: With the parameters of ``new_note_row``; a counted post's one statement on PostgreSQL takes it
#: as a ``WITH`` (``actions/statuses.py``).
INSERT_NOTE = HotQuery(deferred(inserting(_notes, ("status_id", "body"))))
_UPDATE_NOTE = (
    update(_notes)
    .where(_notes.c.status_id == bindparam("row_id", type_=BigInteger()))
    .values(body=bindparam("body"))
)


def new_note_row(status: Status) -> dict[str, Any]:
    """The parameters of a note's row in the index (``INSERT_NOTE``)."""
    return {"status_id": status.id, "body": index_body(status.text, status.spoiler_text, status.language)}


async def note_written(tx: Tx, status: Status, *, new: bool) -> None:
    """Index a note just inserted (``new``) or edited, as ``status`` now has it; one statement."""
    row = new_note_row(status)
    if not new:
        result = await tx.session.execute(_UPDATE_NOTE, {"row_id": row["status_id"], "body": row["body"]})
        if result.rowcount:  # type: ignore[attr-defined]
            return
    await run(tx.session, INSERT_NOTE, row)


async def account_written(tx: Tx, account_id: int) -> None:
    """Index an account just created or whose profile changed, as it now is (replaces its row)."""
    row = (
        await tx.session.execute(
            select(Account.username, Account.display_name, Account.note).where(Account.id == account_id)
        )
    ).one()
    await tx.session.execute(delete(AccountSearch).where(AccountSearch.account_id == account_id))
    await tx.session.execute(
        insert(AccountSearch).values(account_id=account_id, body=account_body(row[0], row[1], row[2]))
    )


async def merge_segments(tx: Tx) -> bool:
    """SQLite: merge each FTS5 index into one segment (FTS5's ``optimize``); ``False`` on PostgreSQL,
    whose GIN indexes autovacuum keeps. Writes leave FTS5 with several segments (15 after a bulk
    load of 1M notes), and a search that probes the index note by note (``from:``) seeks in each:
    merged, such a search is about twice as fast. About 2 s for 1M notes, during which writes wait."""
    if tx.session.get_bind().dialect.name != "sqlite":
        return False
    for name in ("status_fts", "account_fts"):  # fixed names: nothing from outside goes in the SQL
        await tx.session.execute(text(f"INSERT INTO {name}({name}) VALUES('optimize')"))
    return True
