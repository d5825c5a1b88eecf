"""Reading a home page in tests, and proving which of its statements a read skipped (what the home
memo and the kept pages are for: ``test_home_memo.py``, ``test_home_pages.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
from sqlalchemy import event

from cordee.db.engine import Database
from cordee.db.hot import HotQuery
from tests.conftest import ApiUser


async def home(client: httpx.AsyncClient, user: ApiUser) -> list[dict[str, Any]]:
    r = await client.get("/api/v1/timelines/home", headers=user.headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def served_without(
    db: Database, client: httpx.AsyncClient, user: ApiUser, skipped: Sequence[HotQuery] | None
) -> list[dict[str, Any]]:
    """Read the home page until a read runs none of ``skipped`` (None: no statement at all) and
    nothing off the hot path (the general path reads through SQLAlchemy sessions), and return that
    read's page."""
    dialect = db.hot.dialect_name
    avoided = {q.compiled(dialect).sql for q in skipped or ()}
    original = db.hot.rows
    ran: list[str] = []
    general: list[str] = []

    async def rows(query: Any, **params: Any) -> Any:
        ran.append(query.compiled(dialect).sql)
        return await original(query, **params)

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            general.append(statement)

    for _ in range(3):
        ran.clear()
        general.clear()
        db.hot.rows = rows  # type: ignore[method-assign]
        event.listen(db.engine.sync_engine, "before_cursor_execute", seen)
        try:
            page = await home(client, user)
        finally:
            db.hot.rows = original  # type: ignore[method-assign]
            event.remove(db.engine.sync_engine, "before_cursor_execute", seen)
        if not general and (not ran if skipped is None else not avoided.intersection(ran)):
            return page
    raise AssertionError("the home page was never served without those statements")
