"""Who may see a status: one SQL predicate used by every read path (single status, threads,
timelines, account pages, search, favourited_by…), so that the rule cannot drift between them.

- public / unlisted: everyone (unlisted is only kept out of public timelines, elsewhere);
- private (followers-only): the author, the author's followers, and the accounts it mentions;
- direct: the author and the accounts it mentions;
- and never across a block, in either direction;
- a boost only when the note it carries passes the same rule.

``shown_in_timelines`` adds what a person chose not to see in lists (timelines, lists, search and
the streams that mirror them): notes by accounts they mute, reblogs of blocked or muted accounts,
notes mentioning accounts they block or mute. ``notification_shown`` is the same for notifications.

The streaming hub asks these very predicates which of its connected accounts get a note
(``viewers_who_see``): there is no second copy of the rules to drift.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CompoundSelect,
    Select,
    and_,
    exists,
    literal_column,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.orm import aliased

from cordee.db.tables import Account, Block, Follow, Mention, Mute, Status, User
from cordee.db.types import utcnow

PUBLIC_VISIBILITIES = ("public", "unlisted")
VISIBILITIES = ("public", "unlisted", "private", "direct")


def visible_to(viewer_account_id: Any, status: type[Status] = Status) -> ColumnElement[bool]:
    """``viewer_account_id``: an account id, None (anonymous), a bind parameter (statements built
    once), or an outer query's column named as text (the streaming hub's per-recipient check,
    ``viewers_who_see``: a column object would not correlate through the nested subqueries).

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


def in_a_block_with(viewer_account_id: Any) -> CompoundSelect[Any]:
    """The accounts in a block with the viewer, either way: those ``blocked_between`` finds."""
    return (
        select(Block.target_account_id)
        .where(Block.account_id == viewer_account_id)
        .union(select(Block.account_id).where(Block.target_account_id == viewer_account_id))
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
    """Lists (timelines, lists, search, streams) leave out, as Mastodon's home feed does, notes by
    accounts the viewer mutes, boosts of notes by accounts blocked either way or muted, and notes
    (or boosted notes) mentioning an account the viewer blocks or mutes — never the viewer's own."""
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
    blocks_mentioned = exists(
        select(Block.id).where(
            Block.account_id == viewer_account_id, Block.target_account_id == Mention.account_id
        )
    )
    mentions_hidden = exists(
        select(Mention.id).where(
            or_(Mention.status_id == Status.id, Mention.status_id == Status.reblog_of_id),
            or_(blocks_mentioned, muted_by(viewer_account_id, Mention.account_id, now=now)),
        )
    )
    return or_(
        Status.account_id == viewer_account_id,
        and_(
            not_(muted_by(viewer_account_id, Status.account_id, now=now)),
            not_(original_author_hidden),
            not_(mentions_hidden),
        ),
    )


def notification_shown(viewer_account_id: Any, from_account_id: Any, now: Any = None) -> ColumnElement[bool]:
    """A notification reaches its recipient unless it comes from an account in a block with them,
    or one they mute with ``hide_notifications`` (the note it names is judged by ``visible_to``).
    ``now``: as ``muted_by``'s."""
    return and_(
        not_(blocked_between(viewer_account_id, from_account_id)),
        not_(muted_by(viewer_account_id, from_account_id, notifications=True, now=now)),
    )


def viewers_who_see(
    status_id: Any, viewer_ids: Sequence[int], read: Callable[[Any], Select[Any]]
) -> Select[int]:
    """Which of ``viewer_ids`` the read ``read(viewer)`` (``home_query``, ``public_query``, a
    select over ``visible_to`` …) gives this note to: the surface's own query, with the viewer as a
    column, so that a stream delivers by exactly the rule of the timeline it mirrors."""
    viewer = aliased(Account, name="stream_viewer")
    # The rule's subqueries nest several levels deep, and SQLAlchemy correlates a subquery only
    # with the SELECT right around it (an outer column would be pulled into each inner FROM as a
    # cross join). A column named as text belongs to no FROM: SQL itself resolves it, at any
    # depth, to the outer ``stream_viewer`` row.
    viewer_id = literal_column("stream_viewer.id", BigInteger())
    # A viewer whose login was disabled gets nothing more, even before its streams are closed (a
    # CLI change on SQLite without Redis reaches the server only through its periodic check).
    enabled = exists().where(User.account_id == viewer.id, User.disabled.is_(False))
    return select(viewer.id).where(
        viewer.id.in_(viewer_ids), enabled, read(viewer_id).where(Status.id == status_id).exists()
    )
