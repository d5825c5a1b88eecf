"""Timelines: home, public (local/remote), hashtag, and an account's own statuses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Exists, Select, exists, or_, select
from sqlalchemy.orm import aliased

from cordee.db.tables import Account, Follow, Status, StatusTag, Tag
from cordee.db.tables_media import MediaAttachment
from cordee.domain.text import normalize_tag
from cordee.queries.lists import excluded_from_home
from cordee.queries.tags import followed_tags_in_home
from cordee.queries.visibility import shown_in_timelines, visible_to


def home_query(viewer_id: int) -> Select[Status]:
    """What the viewer follows, and their own notes, as Mastodon's home feed shows them:

    - reblogs only from follows that show reblogs;
    - replies only when they answer the viewer, themselves, or someone the viewer follows.
    """
    followed = select(Follow.target_account_id).where(Follow.account_id == viewer_id)
    showing_reblogs = followed.where(Follow.show_reblogs.is_(True))
    return select(Status).where(
        or_(
            Status.account_id == viewer_id,
            Status.account_id.in_(followed),
            followed_tags_in_home(viewer_id),  # public notes with a hashtag the viewer follows
        ),
        ~excluded_from_home(viewer_id),  # members of exclusive lists are read in their list
        or_(
            Status.reblog_of_id.is_(None),
            Status.account_id == viewer_id,
            Status.account_id.in_(showing_reblogs),
        ),
        or_(
            Status.in_reply_to_account_id.is_(None),
            Status.in_reply_to_account_id == viewer_id,
            Status.in_reply_to_account_id == Status.account_id,
            Status.in_reply_to_account_id.in_(followed),
        ),
        visible_to(viewer_id),
        shown_in_timelines(viewer_id),
    )


def home_feed_query(viewer_id: int, feed_ids: Sequence[int], big_account_threshold: int) -> Select[Status]:
    """The home timeline read from a feed: the feed's candidate ids, plus the notes of followed
    accounts with ``big_account_threshold`` followers or more (not fanned out on write, merged here),
    under exactly the rules of ``home_query``."""
    big_followed = (
        select(Follow.target_account_id)
        .join(Account, Account.id == Follow.target_account_id)
        .where(Follow.account_id == viewer_id, Account.followers_count >= big_account_threshold)
    )
    return home_query(viewer_id).where(or_(Status.id.in_(feed_ids), Status.account_id.in_(big_followed)))


def public_query(viewer_id: int | None, *, local: bool = False, remote: bool = False) -> Select[Status]:
    query = select(Status).where(
        Status.visibility == "public",
        Status.reblog_of_id.is_(None),
        visible_to(viewer_id),
        shown_in_timelines(viewer_id),
    )
    if local or remote:
        author = aliased(Account)
        domain_test = author.domain.is_(None) if local else author.domain.is_not(None)
        query = query.where(exists(select(author.id).where(author.id == Status.account_id, domain_test)))
    return query


@dataclass(frozen=True)
class TagFilter:
    name: str
    any: tuple[str, ...] = ()
    all: tuple[str, ...] = ()
    none: tuple[str, ...] = ()


def has_media() -> Exists:
    """The note carries at least one media attachment (``only_media`` on timelines)."""
    return exists(select(MediaAttachment.id).where(MediaAttachment.status_id == Status.id))


def _has_tag(names: tuple[str, ...]) -> Exists:
    return exists(
        select(StatusTag.status_id)
        .join(Tag, Tag.id == StatusTag.tag_id)
        .where(StatusTag.status_id == Status.id, Tag.name.in_([normalize_tag(n) for n in names]))
    )


def tag_query(
    viewer_id: int | None, tags: TagFilter, *, local: bool = False, remote: bool = False
) -> Select[Status]:
    query = public_query(viewer_id, local=local, remote=remote).where(_has_tag((tags.name, *tags.any)))
    for name in tags.all:
        query = query.where(_has_tag((name,)))
    if tags.none:
        query = query.where(~_has_tag(tags.none))
    return query


@dataclass(frozen=True)
class AccountStatusFilter:
    exclude_replies: bool = False
    exclude_reblogs: bool = False
    tagged: str | None = None
    only_media: bool = False


def account_statuses_query(
    viewer_id: int | None, account_id: int, filters: AccountStatusFilter
) -> Select[Status]:
    query = select(Status).where(Status.account_id == account_id, visible_to(viewer_id))
    if filters.exclude_replies:
        # Mastodon keeps self-replies (threads) even when replies are excluded.
        query = query.where(
            or_(Status.in_reply_to_id.is_(None), Status.in_reply_to_account_id == Status.account_id)
        )
    if filters.exclude_reblogs:
        query = query.where(Status.reblog_of_id.is_(None))
    if filters.only_media:
        query = query.where(has_media())
    if filters.tagged:
        query = query.where(_has_tag((filters.tagged,)))
    return query
