"""Timelines: home, public (local/remote), hashtag, and an account's own statuses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Exists,
    Integer,
    Select,
    and_,
    bindparam,
    exists,
    func,
    literal,
    not_,
    or_,
    select,
)
from sqlalchemy.orm import aliased

from cordee.db.hot import HotQueries, HotQuery, slots
from cordee.db.tables import Account, Follow, Mute, Status, StatusTag, Tag
from cordee.db.tables_media import MediaAttachment
from cordee.db.types import UTCDateTime, utcnow
from cordee.domain.text import normalize_tag
from cordee.queries.lists import excluded_from_home
from cordee.queries.tags import followed_tags_in_home
from cordee.queries.visibility import shown_in_timelines, visible_to


def home_query(viewer_id: Any, now: Any = None, *, by_probes: bool = False) -> Select[Status]:
    """What the viewer follows, and their own notes, as Mastodon's home feed shows them:

    - reblogs only from follows that show reblogs;
    - replies only when they answer the viewer, themselves, or someone the viewer follows.

    ``viewer_id`` and ``now`` may be bind parameters (``HOME_CHECK`` below is built once).
    ``by_probes`` changes the SQL, not the rule: for a statement driven by a few notes' ids, whether
    the viewer follows an author is asked once per note (``_follows``).
    """
    return select(Status).where(
        or_(
            Status.account_id == viewer_id,
            _follows(viewer_id, Status.account_id, by_probes=by_probes),
            followed_tags_in_home(viewer_id),  # public notes with a hashtag the viewer follows
        ),
        ~excluded_from_home(viewer_id),  # members of exclusive lists are read in their list
        or_(
            Status.reblog_of_id.is_(None),
            Status.account_id == viewer_id,
            _follows(viewer_id, Status.account_id, by_probes=by_probes, showing_reblogs=True),
        ),
        or_(
            Status.in_reply_to_account_id.is_(None),
            Status.in_reply_to_account_id == viewer_id,
            Status.in_reply_to_account_id == Status.account_id,
            _follows(viewer_id, Status.in_reply_to_account_id, by_probes=by_probes),
        ),
        visible_to(viewer_id),
        shown_in_timelines(viewer_id, now),
    )


def _follows(
    viewer_id: Any, account: Any, *, by_probes: bool, showing_reblogs: bool = False
) -> ColumnElement[bool]:
    """The viewer follows ``account`` (and shows its boosts). As ``account IN (everyone the viewer
    follows)`` for statements that walk notes (the list drives the walk through each followed
    author's notes), or as one probe of the follow per note (``by_probes``): for a few ids, the
    list built on every run cost 673 µs to judge 2 notes for a reader of 5,130 follows, against
    32 µs for one of 130 (docs/benchmarks.md)."""
    conditions = [Follow.account_id == viewer_id]
    if showing_reblogs:
        conditions.append(Follow.show_reblogs.is_(True))
    if by_probes:
        return exists().where(*conditions, Follow.target_account_id == account)
    followed: ColumnElement[bool] = account.in_(select(Follow.target_account_id).where(*conditions))
    return followed


def languages_admit(viewer_id: Any) -> ColumnElement[bool]:
    """The languages the viewer chose for the note's author (a follow's ``languages``) admit it:
    Mastodon's home filter, which fan-out applies as notes enter feeds (``feeds/fanout.py``); the
    notes of authors merged when read (``big_followed_accounts``) are judged here by the same rule.
    A boost, a note without a language, or an author followed for all languages passes."""
    chosen = aliased(Follow)
    padded = literal(" ") + chosen.languages + literal(" ")
    return ~exists(
        select(chosen.id).where(
            chosen.account_id == viewer_id,
            chosen.target_account_id == Status.account_id,
            chosen.languages.is_not(None),
            Status.language.is_not(None),
            Status.reblog_of_id.is_(None),
            ~padded.like(literal("% ") + Status.language + literal(" %")),
        )
    )


def big_followed_accounts(viewer_id: Any, threshold: Any) -> Select[int]:
    """The accounts the viewer follows that have ``threshold`` followers or more: their notes are
    not fanned out on write but merged into home timelines when read."""
    return (
        select(Follow.target_account_id)
        .join(Account, Account.id == Follow.target_account_id)
        .where(Follow.account_id == viewer_id, Account.followers_count >= threshold)
    )


#: Widths of the id lists of the hot timeline queries (a page is at most 40 notes).
WINDOW = 80
BIG_AUTHORS = 32

#: What a timeline page needs fresh on every read: the note's counters and its author's.
LIVE_COLUMNS = (
    Status.id,
    Status.account_id,
    Status.reblog_of_id,
    Status.edited_at,
    Status.replies_count,
    Status.reblogs_count,
    Status.favourites_count,
    Account.followers_count,
    Account.following_count,
    Account.statuses_count,
    Account.last_status_at,
)


def live(query: Select[Any]) -> Any:
    """``query``'s notes as ``LIVE_COLUMNS`` rows (what a page reads of each note, with its author)."""
    return query.with_only_columns(*LIVE_COLUMNS).join(Account, Account.id == Status.account_id)


# Placeholder values only let the statements compile once; every call gives its own.
_viewer: Any = bindparam("viewer", 0, type_=BigInteger())
_now: Any = bindparam("now", utcnow(), type_=UTCDateTime())
_below: Any = bindparam("below", 0, type_=BigInteger())
_above: Any = bindparam("above", 0, type_=BigInteger())
_limit: Any = bindparam("limit", 1, type_=Integer())


def _home_check(width: int) -> HotQuery:
    return HotQuery(
        live(home_query(_viewer, _now, by_probes=True))
        .where(Status.id.in_(slots("ids", width)))
        .order_by(Status.id.desc()),
        lists={"ids": width},
    )


#: The home timeline's rules over feed ids: which of them the viewer sees now. Narrow for the new
#: notes of a feed (the memo's verdicts judged the rest: 2 ids bound in 80 slots cost 49–113 µs,
#: in 8 slots 39–44, measured on the benchmark's file), wide for a whole window.
HOME_CHECK = HotQueries(_home_check, (8, WINDOW))
#: When the home rules' answer may next change by itself: the reader's earliest mute still to expire
#: (``muted_by`` is the rules' only use of ``now``). A remembered page lasts until then (``feeds/memo.py``).
HOME_DEADLINE = HotQuery(
    select(func.min(Mute.expires_at)).where(Mute.account_id == _viewer, Mute.expires_at > _now)
)
#: Followed accounts with many followers (not fanned out on write: merged when read).
BIG_FOLLOWED = HotQuery(
    big_followed_accounts(_viewer, bindparam("threshold", 0, type_=Integer())).limit(BIG_AUTHORS)
)
#: The newest note of any of those accounts (one index probe each): a remembered home page that
#: merged their notes stands while it is unchanged (``feeds/memo.py``).
_newest_of_author = select(func.max(Status.id)).where(Status.account_id == Account.id).scalar_subquery()
BIG_NEWEST = HotQuery(
    select(func.max(_newest_of_author))
    .select_from(Account)
    .where(Account.id.in_(slots("authors", BIG_AUTHORS))),
    lists={"authors": BIG_AUTHORS},
)
#: Those accounts' newest notes in a range of ids, read by their index first (``candidates``:
#: three times the page, so that notes the rules leave out — replies to strangers, boosts the
#: reader hides — rarely leave the page short), then the same home rules over those ids only: left
#: to itself, the planner walks every public note in the range for the rules' OR branches.
_big_candidates = (
    select(Status.id.label("id"))
    .where(Status.account_id.in_(slots("authors", BIG_AUTHORS)), Status.id < _below, Status.id > _above)
    .order_by(Status.id.desc())
    .limit(_limit * 3)
    .subquery()
)
BIG_NOTES = HotQuery(
    live(home_query(_viewer, _now).where(languages_admit(_viewer)))
    .join(_big_candidates, _big_candidates.c.id == Status.id)
    .order_by(Status.id.desc())
    .limit(_limit),
    lists={"authors": BIG_AUTHORS},
)
#: Fresh counters of notes by id, with no rule: only for a note rendered for no reader in
#: particular (the streaming hub, which then asks the rule for each recipient).
LIVE_BY_ID = HotQuery(live(select(Status)).where(Status.id.in_(slots("ids", WINDOW))), lists={"ids": WINDOW})
#: The same for a reader (signed in, or anonymous): the notes among ``ids`` it may see — how
#: pages and renderers read the notes that boosts carry, so that they are judged too.
LIVE_VISIBLE = HotQuery(
    live(select(Status)).where(Status.id.in_(slots("ids", WINDOW)), visible_to(_viewer)),
    lists={"ids": WINDOW},
)
LIVE_VISIBLE_ANONYMOUS = HotQuery(
    live(select(Status)).where(Status.id.in_(slots("ids", WINDOW)), visible_to(None)), lists={"ids": WINDOW}
)

#: Accounts' counters, as notes show them (``rendering/pieces.py``: accounts rendered apart).
ACCOUNT_LIVE = HotQuery(
    select(Account.id, *LIVE_COLUMNS[-4:]).where(Account.id.in_(slots("ids", WINDOW))),
    lists={"ids": WINDOW},
)


def live_visible(viewer: int | None) -> tuple[HotQuery, dict[str, Any]]:
    """The statement reading live rows of the notes ``viewer`` may see, and its parameters."""
    return (LIVE_VISIBLE_ANONYMOUS, {}) if viewer is None else (LIVE_VISIBLE, {"viewer": viewer})


def home_feed_query(
    viewer_id: Any, feed_ids: Sequence[int] | Any, big_account_threshold: Any, now: Any = None
) -> Select[Status]:
    """The home timeline read from a feed: the feed's candidate ids, plus the notes of followed
    accounts with ``big_account_threshold`` followers or more (not fanned out on write, merged here),
    under exactly the rules of ``home_query``. The arguments may be bind parameters
    (``HOME_FROM_FEED``, built once)."""
    big_followed = big_followed_accounts(viewer_id, big_account_threshold)
    merged = and_(Status.account_id.in_(big_followed), languages_admit(viewer_id))
    return home_query(viewer_id, now).where(or_(Status.id.in_(feed_ids), merged))


#: The home timeline's general path (readers with filters, pages older than a feed holds, a full
#: page asked with ``min_id``), built once: building ``home_query`` twice for each such request was
#: nearly all of its ~30 ms of CPU (measured). Parameters: ``viewer``, ``now``, and for the feed's
#: ``feed_ids`` (a list) and ``threshold``.
HOME_GENERAL = home_query(_viewer, _now)
HOME_FROM_FEED = home_feed_query(
    _viewer, bindparam("feed_ids", expanding=True), bindparam("threshold", 0, type_=Integer()), _now
)


def public_query(
    viewer_id: Any, *, local: bool = False, remote: bool = False, now: Any = None
) -> Select[Status]:
    """``viewer_id``: an account id, None, a bind parameter (``PUBLIC_PAGES``, built once), or a
    column (the streaming hub's per-recipient check). ``now``: as ``shown_in_timelines``'s."""
    query = select(Status).where(
        Status.visibility == "public",
        Status.reblog_of_id.is_(None),
        visible_to(viewer_id),
        shown_in_timelines(viewer_id, now),
    )
    if local or remote:
        author = aliased(Account)
        domain_test = author.domain.is_(None) if local else author.domain.is_not(None)
        query = query.where(exists(select(author.id).where(author.id == Status.account_id, domain_test)))
    return query


def _public_page(viewer: Any, scope: str, newest_first: bool) -> HotQuery:
    query = public_query(
        viewer, local=scope == "local", remote=scope == "remote", now=None if viewer is None else _now
    )
    order = Status.id.desc() if newest_first else Status.id.asc()
    return HotQuery(live(query).where(Status.id < _below, Status.id > _above).order_by(order).limit(_limit))


#: A page of the public timeline — every public note, the local ones, the remote ones — for a
#: signed-in reader (``True``) and an anonymous one, newest first or, for a page asked with
#: ``min_id``, oldest first. Built once: building ``public_query`` for each request was most of its
#: ~7 ms of CPU (measured). Walks ``ix_statuses_visibility_id``, public notes only.
PUBLIC_PAGES = {
    (signed_in, scope, newest_first): _public_page(_viewer if signed_in else None, scope, newest_first)
    for signed_in in (True, False)
    for scope in ("all", "local", "remote")
    for newest_first in (True, False)
}


def _tag_page(viewer: Any, scope: str, newest_first: bool) -> HotQuery:
    query = public_query(
        viewer, local=scope == "local", remote=scope == "remote", now=None if viewer is None else _now
    )
    tag_id = select(Tag.id).where(Tag.name == bindparam("tag", "", type_=Tag.name.type)).scalar_subquery()
    tagged = StatusTag.status_id
    order = tagged.desc() if newest_first else tagged.asc()
    return HotQuery(
        live(query)
        .join(StatusTag, StatusTag.status_id == Status.id)
        .where(StatusTag.tag_id == tag_id, tagged < _below, tagged > _above)
        .order_by(order)
        .limit(_limit)
    )


#: A page of one hashtag's timeline (``PUBLIC_PAGES``' rules over the notes with that tag), walked
#: through the tag's own index (``ix_status_tags_tag_status``): as an ``EXISTS`` over every public
#: note, a rare tag's page walked all of them (39–46 ms a page at 13,000 notes, measured).
TAG_PAGES = {
    (signed_in, scope, newest_first): _tag_page(_viewer if signed_in else None, scope, newest_first)
    for signed_in in (True, False)
    for scope in ("all", "local", "remote")
    for newest_first in (True, False)
}


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
    return _account_rows(account_id, filters).where(visible_to(viewer_id))


def _account_rows(account_id: Any, filters: AccountStatusFilter) -> Select[Status]:
    """An account's notes as a profile's tab shows them, before anyone's visibility."""
    query = select(Status).where(Status.account_id == account_id)
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


def _account_page(viewer: Any, filters: AccountStatusFilter) -> HotQuery:
    author: Any = bindparam("author", 0, type_=BigInteger())
    return HotQuery(
        live(account_statuses_query(viewer, author, filters))
        .where(Status.id < _below, Status.id > _above)
        .order_by(Status.id.desc())
        .limit(_limit)
    )


#: A page of an account's notes, for a signed-in reader (``True``) and an anonymous one
#: (``visible_to`` differs), plain or without replies and/or boosts — what clients ask for a
#: profile's tabs (``tagged``/``only_media``/``pinned`` take the general path).
ACCOUNT_PAGES = {
    (signed_in, replies, reblogs): _account_page(
        _viewer if signed_in else None, AccountStatusFilter(exclude_replies=replies, exclude_reblogs=reblogs)
    )
    for signed_in in (True, False)
    for replies in (False, True)
    for reblogs in (False, True)
}


def _account_hidden(filters: AccountStatusFilter) -> HotQuery:
    author: Any = bindparam("author", 0, type_=BigInteger())
    hidden = _account_rows(author, filters).where(
        Status.id < _below, Status.id > _above, not_(visible_to(None))
    )
    return HotQuery(select(exists(hidden.with_only_columns(Status.id))))


#: Whether an account has, between two ids, a note of a tab that an anonymous reader may not see
#: (followers-only or direct, or a boost of such a note): where it has none, every signed-in
#: reader who is in no block with the accounts shown sees what the anonymous reader sees
#: (``rendering/profile_pages.py``: pages shared between readers).
ACCOUNT_HIDDEN = {
    (replies, reblogs): _account_hidden(AccountStatusFilter(exclude_replies=replies, exclude_reblogs=reblogs))
    for replies in (False, True)
    for reblogs in (False, True)
}
ACCOUNT_EXISTS = HotQuery(select(Account.id).where(Account.id == bindparam("author", 0, type_=BigInteger())))


def _one(viewer: Any) -> HotQuery:
    status_id: Any = bindparam("status_id", 0, type_=BigInteger())
    query = select(Status).where(Status.id == status_id, visible_to(viewer))
    return HotQuery(live(query))


#: One note, if the reader (or an anonymous one) may see it.
VISIBLE_ONE = _one(_viewer)
VISIBLE_ONE_ANONYMOUS = _one(None)
