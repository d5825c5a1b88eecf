"""Finding accounts: by id, by ``acct``, by search; followers and following lists."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Integer, Select, bindparam, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.config import Settings
from cordee.db.hot import HotQueries, HotQuery, HotReader, id_range, page_rows, slots
from cordee.db.tables import Account, Follow, User
from cordee.queries.visibility import blocked_between
from cordee.search.backends import account_search


async def account_by_id(session: AsyncSession, account_id: int) -> Account | None:
    return await session.get(Account, account_id)


def split_acct(settings: Settings, value: str) -> tuple[str, str | None]:
    """``user``, ``@user``, ``user@domain`` → (lowered username, domain or None when local)."""
    username, _, domain = value.strip().lstrip("@").partition("@")
    if not domain or domain.lower() == settings.domain.lower():
        return username.lower(), None
    return username.lower(), domain.lower()


async def account_by_acct(session: AsyncSession, settings: Settings, value: str) -> Account | None:
    username, domain = split_acct(settings, value)
    where = Account.domain.is_(None) if domain is None else Account.domain == domain
    return await session.scalar(select(Account).where(Account.username_key == username, where))


async def user_of(session: AsyncSession, account_id: int) -> User | None:
    return await session.scalar(select(User).where(User.account_id == account_id))


def not_blocked(viewer_id: Any) -> ColumnElement[bool]:
    """Account lists leave out anyone in a block with the viewer, either way."""
    return true() if viewer_id is None else ~blocked_between(viewer_id, Account.id)


def followers_query(account_id: Any, viewer_id: Any = None) -> Select[Account, int]:
    return (
        select(Account, Follow.id)
        .join(Follow, Follow.account_id == Account.id)
        .where(Follow.target_account_id == account_id, not_blocked(viewer_id))
    )


def following_query(account_id: Any, viewer_id: Any = None) -> Select[Account, int]:
    return (
        select(Account, Follow.id)
        .join(Follow, Follow.target_account_id == Account.id)
        .where(Follow.account_id == account_id, not_blocked(viewer_id))
    )


def _existing(width: int) -> HotQuery:
    return HotQuery(select(Account.id).where(Account.id.in_(slots("ids", width))), lists={"ids": width})


#: Which of a few account ids exist (a relationship is asked of one account nearly always: the
#: narrowest statement that fits, as ``TIES``).
EXISTING = HotQueries(_existing, (1, 40))


def _follow_page(followers: bool, signed_in: bool, newest_first: bool) -> HotQuery:
    account = bindparam("account", 0, type_=BigInteger())
    viewer = bindparam("viewer", 0, type_=BigInteger()) if signed_in else None
    listed = (followers_query if followers else following_query)(account, viewer)
    key = Follow.id
    query = listed.with_only_columns(Account.id, key).where(
        key < bindparam("below", 0, type_=BigInteger()), key > bindparam("above", 0, type_=BigInteger())
    )
    order = key.desc() if newest_first else key.asc()
    return HotQuery(query.order_by(order).limit(bindparam("limit", 1, type_=Integer())))


#: A page of an account's followers (``True``) or follows, for a signed-in reader (``True``) or an
#: anonymous one, newest follow first or, for ``min_id``, oldest first: (account id, follow id)
#: rows. Built once from ``followers_query``/``following_query``.
FOLLOW_PAGES = {
    (followers, signed_in, newest_first): _follow_page(followers, signed_in, newest_first)
    for followers in (True, False)
    for signed_in in (True, False)
    for newest_first in (True, False)
}


async def follow_page(
    hot: HotReader,
    account_id: int,
    viewer_id: int | None,
    *,
    followers: bool,
    below: int | None,
    above: int | None,
    limit: int,
    oldest_first: bool = False,
) -> list[tuple[int, int]]:
    """(account id, follow id) of a page of ``account_id``'s followers or follows, newest follow
    first, leaving out anyone in a block with the viewer."""
    params: dict[str, Any] = {"account": account_id, "limit": limit, **id_range(below, above)}
    if viewer_id is not None:
        params["viewer"] = viewer_id
    query = FOLLOW_PAGES[(followers, viewer_id is not None, not oldest_first)]
    rows = await page_rows(hot, query, oldest_first=oldest_first, **params)
    return [(row[0], row[1]) for row in rows]


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def search_accounts(
    session: AsyncSession,
    settings: Settings,
    viewer_id: int | None,
    q: str,
    *,
    limit: int,
    offset: int = 0,
    following: bool = False,
) -> list[Account]:
    """Accounts whose username or display name starts with (or whose acct is) ``q``.

    Exact matches come first, then the most followed, as people expect from an address book.
    Blocks do not hide anyone here, as in Mastodon: one must find an account to unblock it.
    """
    username, domain = split_acct(settings, q)
    if not username:
        return []
    pattern = escape_like(username) + "%"
    query = select(Account).where(
        or_(
            Account.username_key.like(pattern, escape="\\"),
            # Words of the display name and bio, folded ("ecole" finds "École"): the search index.
            account_search(q, session.get_bind().dialect.name) if domain is None else false(),
        ),
    )
    if domain is not None:
        query = query.where(Account.domain == domain)
    if following and viewer_id is not None:
        query = query.where(
            Account.id.in_(select(Follow.target_account_id).where(Follow.account_id == viewer_id))
        )
    exact = (Account.username_key == username).desc()
    query = query.order_by(exact, Account.followers_count.desc(), Account.id).offset(offset).limit(limit)
    return list(await session.scalars(query))


async def load_many(session: AsyncSession, ids: Sequence[int]) -> dict[int, Account]:
    if not ids:
        return {}
    return {a.id: a for a in await session.scalars(select(Account).where(Account.id.in_(set(ids))))}
