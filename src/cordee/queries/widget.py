"""What the blog widget shows: an account's or a hashtag's public notes, for nobody in particular.

One statement per source, used both by the notes endpoint (``GET /widget/notes``) and by the
streaming hub (is this new note one the widget shows?), so the page a widget loads and what it
then hears live can never disagree. A hashtag's page is read through the tag's own index
(``queries.timelines.TAG_PAGES``, anonymous): ``public_query`` and the tag, the very rule this
statement states (``tag_query`` is ``public_query`` with the tag), walked from the tag's notes.

Only ``public`` notes: an unlisted note's author asked to be kept out of every listing (public
timelines, hashtag pages, search) and a widget is a listing broadcast on other sites. Mastodon's
embed does take unlisted notes, but one at a time, each chosen by someone who picked its address.
Boosts and replies to others are left out, as in Mastodon's account feeds: the widget is what the
account says, threads of its own included.
"""

from __future__ import annotations

from sqlalchemy import Select, or_

from cordee.db.tables import Status
from cordee.queries.timelines import (
    AccountStatusFilter,
    TagFilter,
    account_statuses_query,
    tag_query,
)


def widget_query(
    *, account_id: int | None = None, tag: str | None = None, any_tags: tuple[str, ...] = ()
) -> Select[Status]:
    """The notes a widget of ``account_id`` or of ``tag`` shows (exactly one of them is given);
    with ``any_tags``, notes with ``tag`` or any of them (a campaign's live wall)."""
    if account_id is not None:
        query = account_statuses_query(None, account_id, AccountStatusFilter(exclude_reblogs=True))
        query = query.where(
            or_(Status.in_reply_to_id.is_(None), Status.in_reply_to_account_id == Status.account_id)
        )
    elif tag is not None:
        query = tag_query(None, TagFilter(tag, any=any_tags))
    else:
        raise ValueError("an account or a tag")
    # The anonymous rule (``visible_to(None)``) lets unlisted notes through; the widget does not.
    return query.where(Status.visibility == "public")
