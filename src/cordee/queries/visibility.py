"""Who may see a status: one SQL predicate used by every read path (single status, threads,
timelines, account pages, search, favourited_by…), so that the rule cannot drift between them.

- public / unlisted: everyone (unlisted is only kept out of public timelines, elsewhere);
- private (followers-only): the author, the author's followers, and the accounts it mentions;
- direct: the author and the accounts it mentions;
- and never across a block, in either direction;
- a boost only when the note it carries passes the same rule.

``shown_in_timelines`` adds what a person chose not to see in lists (timelines, notifications,
search): notes by accounts they mute, and reblogs of blocked or muted accounts.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, not_, or_, select, true
from sqlalchemy.orm import aliased

from cordee.db.tables import Block, Follow, Mention, Mute, Status
from cordee.db.types import utcnow

PUBLIC_VISIBILITIES = ("public", "unlisted")
VISIBILITIES = ("public", "unlisted", "private", "direct")


def visible_to(viewer_account_id: Any, status: type[Status] = Status) -> ColumnElement[bool]:
    """``viewer_account_id``: an account id, None (anonymous), or a bind parameter / column (the
    same rule inside statements built once, in fan-out's per-follower check, and in the streaming
    hub's per-recipient check).

    A boost is judged twice: by itself and by the note it carries, so that a boost by a third
    account never carries a note across a block (or to anyone the note's own audience leaves out).
    """
    original = aliased(Status)
    carried_note_visible = or_(
        status.reblog_of_id.is_(None),
        exists(
            select(original.id).where(
                original.id == status.reblog_of_id, _visible_itself(viewer_account_id, original)
            )
        ),
    )
    return and_(_visible_itself(viewer_account_id, status), carried_note_visible)


def _visible_itself(viewer_account_id: Any, status: Any) -> ColumnElement[bool]:
    """The rule for one row, without looking at the note a boost carries."""
    if viewer_account_id is None:
        return status.visibility.in_(PUBLIC_VISIBILITIES)  # type: ignore[no-any-return]
    mentioned = exists(
        select(Mention.id).where(Mention.status_id == status.id, Mention.account_id == viewer_account_id)
    )
    follows_author = exists(
        select(Follow.id).where(
            Follow.account_id == viewer_account_id, Follow.target_account_id == status.account_id
        )
    )
    allowed = or_(
        status.visibility.in_(PUBLIC_VISIBILITIES),
        status.account_id == viewer_account_id,
        and_(status.visibility == "private", or_(follows_author, mentioned)),
        and_(status.visibility == "direct", mentioned),
    )
    return and_(allowed, not_(blocked_between(viewer_account_id, status.account_id)))


def blocked_between(viewer_account_id: Any, other: Any) -> ColumnElement[bool]:
    """A block in either direction between the viewer and ``other`` (an account id column)."""
    return exists(
        select(Block.id).where(
            or_(
                and_(Block.account_id == viewer_account_id, Block.target_account_id == other),
                and_(Block.account_id == other, Block.target_account_id == viewer_account_id),
            )
        )
    )


def muted_by(
    viewer_account_id: Any, other: Any, *, notifications: bool = False, now: Any = None
) -> ColumnElement[bool]:
    """The viewer mutes ``other`` (an account id column), at ``now`` (default: the current time; a
    bind parameter in statements built once); with ``notifications``, only mutes that also hide
    notifications."""
    query = select(Mute.id).where(
        Mute.account_id == viewer_account_id,
        Mute.target_account_id == other,
        or_(Mute.expires_at.is_(None), Mute.expires_at > (utcnow() if now is None else now)),
    )
    if notifications:
        query = query.where(Mute.hide_notifications.is_(True))
    return exists(query)


def shown_in_timelines(viewer_account_id: Any, now: Any = None) -> ColumnElement[bool]:
    """Lists hide notes by muted accounts, and reblogs of notes by blocked or muted accounts."""
    if viewer_account_id is None:
        return true()
    original = aliased(Status)
    original_author_hidden = exists(
        select(original.id).where(
            original.id == Status.reblog_of_id,
            or_(
                blocked_between(viewer_account_id, original.account_id),
                muted_by(viewer_account_id, original.account_id, now=now),
            ),
        )
    )
    return and_(not_(muted_by(viewer_account_id, Status.account_id, now=now)), not_(original_author_hidden))
