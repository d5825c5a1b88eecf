"""Whom to follow, from the follow graph: first friends of friends (accounts followed by the
people one follows, ranked by how many of them follow each), then the most followed local accounts.

Never suggested: oneself, accounts one follows or asked to follow, blocked (either way) or muted
ones, dismissed ones, accounts that opted out of discovery, and disabled or unapproved users.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, func, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from cordee.db.tables import Account, Follow, FollowRequest, User
from cordee.db.tables_curation import SuggestionDismissal
from cordee.queries.visibility import blocked_between, muted_by


@dataclass(frozen=True)
class Suggestion:
    account: Account
    source: str  # Mastodon's SuggestionSourcesEnum: friends_of_friends | most_followed


def _eligible(viewer_id: int) -> ColumnElement[bool]:
    unusable_user = exists(
        select(User.id).where(
            User.account_id == Account.id, or_(User.disabled.is_(True), User.approved.is_(False))
        )
    )
    return and_(
        Account.id != viewer_id,
        Account.discoverable.is_(True),
        Account.id.not_in(select(Follow.target_account_id).where(Follow.account_id == viewer_id)),
        Account.id.not_in(
            select(FollowRequest.target_account_id).where(FollowRequest.account_id == viewer_id)
        ),
        Account.id.not_in(
            select(SuggestionDismissal.target_account_id).where(SuggestionDismissal.account_id == viewer_id)
        ),
        not_(blocked_between(viewer_id, Account.id)),
        not_(muted_by(viewer_id, Account.id)),
        not_(unusable_user),
    )


async def suggestions(session: AsyncSession, viewer_id: int, limit: int) -> list[Suggestion]:
    mine = aliased(Follow)  # viewer → friend
    theirs = aliased(Follow)  # friend → suggested account
    friends = func.count(mine.id)
    ranked = await session.scalars(
        select(Account)
        .join(theirs, theirs.target_account_id == Account.id)
        .join(mine, and_(mine.target_account_id == theirs.account_id, mine.account_id == viewer_id))
        .where(_eligible(viewer_id))
        .group_by(Account.id)
        .order_by(friends.desc(), Account.followers_count.desc(), Account.id)
        .limit(limit)
    )
    found = [Suggestion(a, "friends_of_friends") for a in ranked]
    if len(found) < limit:
        seen = [s.account.id for s in found]
        popular = await session.scalars(
            select(Account)
            .where(_eligible(viewer_id), Account.domain.is_(None), Account.id.not_in(seen))
            .order_by(Account.followers_count.desc(), Account.id)
            .limit(limit - len(found))
        )
        found += [Suggestion(a, "most_followed") for a in popular]
    return found
