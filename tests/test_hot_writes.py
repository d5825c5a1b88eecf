"""Statements run past the ORM session (``db/hot_writes.py``) belong to their write transaction:
they commit or roll back with it, see and are seen by the session's statements, and are observed
as the session's are — on both databases (on SQLite they go through the session)."""

from __future__ import annotations

from typing import cast

import pytest
from sqlalchemy import Table, select, update
from sqlalchemy.exc import IntegrityError

from cordee.actions._counters import shift
from cordee.db.engine import Database
from cordee.db.hot import HotQuery
from cordee.db.hot_writes import inserting, run
from cordee.db.tables import Account, Follow
from cordee.db.types import utcnow
from cordee.ids import new_id
from tests.conftest import MakeUser


class _Undone(Exception):
    pass


async def _following(db: Database, account_id: int) -> int:
    async with db.read() as session:
        found = await session.scalar(select(Account.following_count).where(Account.id == account_id))
        return int(found or 0)


async def test_a_hot_write_first_in_its_transaction_rolls_back_with_it(
    db: Database, make_user: MakeUser
) -> None:
    """The first statement of a transaction run past the session still runs inside it: the
    driver's BEGIN is sent first (SQLAlchemy's asyncpg adapter sends it lazily, with the first
    statement it runs itself — without it, each hot write committed on its own)."""
    user = await make_user("counted")
    with pytest.raises(_Undone):
        async with db.write() as tx:
            await shift(tx.session, Account, "following_count", user.account_id, +5)
            raise _Undone
    assert await _following(db, user.account_id) == 0
    async with db.write() as tx:
        await shift(tx.session, Account, "following_count", user.account_id, +2)
    assert await _following(db, user.account_id) == 2


async def test_hot_writes_and_the_sessions_statements_share_one_transaction(
    db: Database, make_user: MakeUser
) -> None:
    user = await make_user("shared")
    async with db.write() as tx:
        await tx.session.execute(
            update(Account).where(Account.id == user.account_id).values(following_count=10)
        )
        await shift(tx.session, Account, "following_count", user.account_id, +1)  # sees the 10
        seen = await tx.session.scalar(select(Account.following_count).where(Account.id == user.account_id))
        assert seen == 11  # the session sees the hot write
        assert ("a", user.account_id) in tx.changes.keys  # observed as the session's statements are
    assert await _following(db, user.account_id) == 11


async def test_a_hot_write_breaking_a_constraint_raises_sqlalchemys_integrity_error(
    db: Database, make_user: MakeUser
) -> None:
    """Callers settle a lost race by catching SQLAlchemy's ``IntegrityError`` (an idempotency key
    taken meanwhile…): a statement run past the session must raise it too, not the driver's own
    exception (asyncpg's ``UniqueViolationError``), which they would let through as a 500."""
    one, other = await make_user("one"), await make_user("other")
    follow = HotQuery(inserting(cast(Table, Follow.__table__), ("id", "account_id", "target_account_id")))
    pair = {"account_id": one.account_id, "target_account_id": other.account_id}
    pair |= {"show_reblogs": True, "notify": False, "created_at": utcnow()}
    with pytest.raises(IntegrityError):
        async with db.write() as tx:
            await run(tx.session, follow, {"id": new_id(), **pair})
            await run(tx.session, follow, {"id": new_id(), **pair})
    async with db.read() as session:
        assert await session.scalar(select(Follow.id).where(Follow.account_id == one.account_id)) is None
