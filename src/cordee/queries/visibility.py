"""Who may see a status: one SQL predicate used by every read path (single status, threads,
timelines, account pages, search, favourited_by…), so that the rule cannot drift between them.

- public / unlisted: everyone (unlisted is only kept out of public timelines, elsewhere);
- private (followers-only): the author, the author's followers, and the accounts it mentions;
- direct: the author and the accounts it mentions.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, or_, select

from cordee.db.tables import Follow, Mention, Status

PUBLIC_VISIBILITIES = ("public", "unlisted")
VISIBILITIES = ("public", "unlisted", "private", "direct")


def visible_to(viewer_account_id: int | None, status: type[Status] = Status) -> ColumnElement[bool]:
    if viewer_account_id is None:
        return status.visibility.in_(PUBLIC_VISIBILITIES)
    mentioned = exists(
        select(Mention.id).where(Mention.status_id == status.id, Mention.account_id == viewer_account_id)
    )
    follows_author = exists(
        select(Follow.id).where(
            Follow.account_id == viewer_account_id, Follow.target_account_id == status.account_id
        )
    )
    return or_(
        status.visibility.in_(PUBLIC_VISIBILITIES),
        status.account_id == viewer_account_id,
        and_(status.visibility == "private", or_(follows_author, mentioned)),
        and_(status.visibility == "direct", mentioned),
    )
