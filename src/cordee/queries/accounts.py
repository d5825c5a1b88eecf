"""Finding accounts: by id, by ``acct``, by search; followers and following lists."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Select, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.config import Settings
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


def not_blocked(viewer_id: int | None) -> ColumnElement[bool]:
    """Account lists leave out anyone in a block with the viewer, either way."""
    return true() if viewer_id is None else ~blocked_between(viewer_id, Account.id)


def followers_query(account_id: int, viewer_id: int | None = None) -> Select[Account, int]:
    return (
        select(Account, Follow.id)
        .join(Follow, Follow.account_id == Account.id)
        .where(Follow.target_account_id == account_id, not_blocked(viewer_id))
    )


def following_query(account_id: int, viewer_id: int | None = None) -> Select[Account, int]:
    return (
        select(Account, Follow.id)
        .join(Follow, Follow.target_account_id == Account.id)
        .where(Follow.account_id == account_id, not_blocked(viewer_id))
    )


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
