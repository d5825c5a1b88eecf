"""Pages readable without an account: a profile (notes, notes and replies, followers, following), a
note with its thread, a hashtag, the local and the public timelines.

Nothing here decides who may see what: every page reads through the API's own queries
(``queries.pages.account_page``, ``queries.timelines`` — built on ``visible_to`` — and
``queries.statuses`` for threads) and renders notes with ``rendering.statuses``, so a page shows
exactly what ``/api/v1/...`` would show the same reader. A missing account or note and one the
reader may not see answer the same 404 page.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import nh3
from sqlalchemy import Select
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import Response

from cordee.api.mastodon.params import id_or_none
from cordee.api.mastodon.serializers.accounts import render_account, render_relationships
from cordee.db.tables import Account, Follow, Status
from cordee.domain.text import normalize_tag
from cordee.queries import accounts as account_queries
from cordee.queries import statuses as status_queries
from cordee.queries import timelines as tl
from cordee.queries.pages import account_page, public_page, tagged_page
from cordee.rendering.statuses import render_filtered, render_live, render_page, render_statuses
from cordee.web.i18n import N_
from cordee.web.render import SignedIn, current_user, db_of, gettext, redirect, render, settings_of

#: Notes (or accounts) on one page; "Older" pages on with ``max_id``.
PAGE_SIZE = 20
#: OpenGraph descriptions are cut here (what link previews show).
DESCRIPTION_LENGTH = 200

NOT_FOUND_TITLE = N_("Page not found")
NOT_FOUND = N_("The page you asked for does not exist.")
LOCAL_TITLE = N_("Local timeline")
PUBLIC_TITLE = N_("Public timeline")
LOCAL_ABOUT = N_("Public notes from the people of this server")
PUBLIC_ABOUT = N_("Public notes known to this server")
TAG_ABOUT = N_("Public notes with the hashtag %(tag)s")
TABS = {
    "notes": N_("Notes"),
    "with_replies": N_("Notes and replies"),
    "followers": N_("Followers"),
    "following": N_("Following"),
}


@dataclass(frozen=True)
class Meta:
    """What a link preview shows (OpenGraph and Twitter card tags)."""

    title: str
    description: str
    image: str
    url: str
    kind: str = "website"


def plain(content_html: str, limit: int = DESCRIPTION_LENGTH) -> str:
    """The text of a note's (already sanitised) HTML, for a ``<meta>`` description."""
    text = html.unescape(nh3.clean(content_html.replace("</p><p>", "</p> <p>"), tags=set()))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


async def not_found(request: Request, me: SignedIn | None = None) -> Response:
    """The one answer for "no such thing" and "not yours to see"."""
    title, message = gettext(request, NOT_FOUND_TITLE), gettext(request, NOT_FOUND)
    return await render(request, "error.html", 404, me=me, title=title, message=message)


def viewer_of(me: SignedIn | None) -> int | None:
    return me.account.id if me else None


def older_than(request: Request) -> int | None:
    return id_or_none(request.query_params.get("max_id", ""))


def older_link(request: Request, keys: list[int]) -> str | None:
    """The "older" link of a full page (keys newest first), keeping the page's other parameters."""
    if len(keys) < PAGE_SIZE:
        return None
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in ("max_id", "lang")]
    return f"{request.url.path}?{urlencode([*query, ('max_id', str(min(keys)))])}"


async def notes_page(
    request: Request, me: SignedIn | None, query: Select[Any], context: str
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of ``query`` (a timeline of the API's), rendered as the API renders it."""
    below = older_than(request)
    if below is not None:
        query = query.where(Status.id < below)
    async with db_of(request).read() as session:
        rows = list(await session.scalars(query.order_by(Status.id.desc()).limit(PAGE_SIZE)))
        notes = await render_statuses(
            session, settings_of(request), viewer_of(me), rows, filter_context=context
        )
    return notes, older_link(request, [s.id for s in rows])


async def public_notes_page(
    request: Request, me: SignedIn | None, scope: str, tags: tuple[str, ...] = ()
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the public timeline (``scope``: "all" or "local"), or of a hashtag's, on the
    API's hot path (``queries.pages``: statements built once, a tag walked through its index);
    a signed-in reader's notes rendered through their filters, as the API does."""
    db, settings, viewer = db_of(request), settings_of(request), viewer_of(me)
    below = older_than(request)
    if tags:
        hot = await tagged_page(db.hot_replica, viewer, scope, tags, below, None, PAGE_SIZE)
    else:
        hot = await public_page(db.hot_replica, viewer, scope, below, None, PAGE_SIZE)
    ids = [x.id for x in hot.lives]
    if viewer is None:
        notes = await render_page(db, settings, None, hot.lives, hot.originals)
    else:
        notes = await render_filtered(db, settings, viewer, ids, "public")
    return notes, older_link(request, ids)


def acct_url(account: dict[str, Any]) -> str:
    """The page of an account entity in this web app."""
    return "/@" + str(account["acct"])


# --- profiles --------------------------------------------------------------------------------------


async def _account(request: Request) -> Account | None:
    async with db_of(request).read() as session:
        return await account_queries.account_by_acct(
            session, settings_of(request), str(request.path_params["acct"])
        )


async def _profile_notes(
    request: Request, me: SignedIn | None, account: Account, tab: str
) -> tuple[list[dict[str, Any]], str | None]:
    if tab in ("with_replies", "notes") and me is None:
        # The API's hot path for an anonymous reader: the same statement /api/v1/accounts/:id/statuses runs.
        db = db_of(request)
        hot = await account_page(
            db.hot_replica,
            None,
            account.id,
            older_than(request),
            None,
            PAGE_SIZE,
            exclude_replies=tab == "notes",
        )
        notes = await render_live(db, settings_of(request), None, hot.lives, hot.originals)
        return notes, older_link(request, [x.id for x in hot.lives])
    filters = tl.AccountStatusFilter(exclude_replies=tab == "notes")
    query = tl.account_statuses_query(viewer_of(me), account.id, filters)
    return await notes_page(request, me, query, "account")


async def _profile_people(
    request: Request, me: SignedIn | None, account: Account, tab: str
) -> tuple[list[dict[str, Any]], str | None]:
    viewer = viewer_of(me)
    if tab == "followers":
        query = account_queries.followers_query(account.id, viewer)
    else:
        query = account_queries.following_query(account.id, viewer)
    below = older_than(request)
    if below is not None:
        query = query.where(Follow.id < below)
    async with db_of(request).read() as session:
        rows = list((await session.execute(query.order_by(Follow.id.desc()).limit(PAGE_SIZE))).all())
    people = [render_account(settings_of(request), a) for a, _ in rows]
    return people, older_link(request, [follow_id for _, follow_id in rows])


async def profile(request: Request) -> Response:
    me = await current_user(request)
    tab = str(request.path_params.get("tab", "notes"))
    account = await _account(request)
    if account is None or tab not in TABS:
        return await not_found(request, me)
    settings = settings_of(request)
    entity = render_account(settings, account)
    notes: list[dict[str, Any]] = []
    people: list[dict[str, Any]] = []
    if tab in ("followers", "following"):
        people, older = await _profile_people(request, me, account, tab)
    else:
        notes, older = await _profile_notes(request, me, account, tab)
    relationship = None
    if me is not None and me.account.id != account.id:
        [relationship] = await render_relationships(db_of(request).hot, me.account.id, [account.id])
    name = account.display_name or account.username
    meta = Meta(
        title=f"{name} (@{entity['acct']}@{settings.domain})" if account.domain is None else name,
        description=plain(entity["note"]) if entity["note"] else "",
        image=entity["avatar"],
        url=entity["url"],
        kind="profile",
    )
    return await render(
        request,
        "profile.html",
        me=me,
        account=entity,
        local=account.domain is None,
        tab=tab,
        tabs=[(key, gettext(request, label)) for key, label in TABS.items()],
        notes=notes,
        people=people,
        older=older,
        relationship=relationship,
        meta=meta,
    )


# --- one note and its thread -----------------------------------------------------------------------


async def note(request: Request) -> Response:
    me = await current_user(request)
    viewer = viewer_of(me)
    settings = settings_of(request)
    status_id = id_or_none(str(request.path_params["id"]))
    async with db_of(request).read() as session:
        status = (
            None if status_id is None else await status_queries.visible_status(session, viewer, status_id)
        )
        author = await account_queries.account_by_id(session, status.account_id) if status else None
        wanted = str(request.path_params["acct"]).lower()
        if (
            status is None
            or author is None
            or wanted not in (author.username_key, f"{author.username_key}@{author.domain}")
        ):
            return await not_found(request, me)
        if status.reblog_of_id is not None:  # a boost's address leads to the note it carries
            shown = await status_queries.visible_status(session, viewer, status.reblog_of_id)
            original = await account_queries.account_by_id(session, shown.account_id) if shown else None
            if shown is None or original is None:
                return await not_found(request, me)
            return redirect(f"/@{original.username}/{shown.id}")
        before = await status_queries.ancestors(session, viewer, status)
        after = await status_queries.descendants(session, viewer, status)
        main = await render_statuses(session, settings, viewer, [status])
        around = await render_statuses(session, settings, viewer, [*before, *after], filter_context="thread")
    if not main:  # deleted between the two reads
        return await not_found(request, me)
    earlier = {str(s.id) for s in before}
    entity = main[0]
    name = entity["account"]["display_name"] or entity["account"]["username"]
    media = entity["media_attachments"]
    meta = Meta(
        title=f"{name} (@{entity['account']['acct']})",
        description=entity["spoiler_text"] or plain(entity["content"]),
        image=(media[0]["preview_url"] or media[0]["url"]) if media else entity["account"]["avatar"],
        url=entity["url"],
        kind="article",
    )
    oembed = f"{settings.base_url}/api/oembed?{urlencode({'url': entity['url']})}"
    return await render(
        request,
        "note_page.html",
        me=me,
        note=entity,
        ancestors=[r for r in around if r["id"] in earlier],
        descendants=[r for r in around if r["id"] not in earlier],
        meta=meta,
        oembed=oembed if entity["visibility"] in ("public", "unlisted") else None,
    )


# --- hashtags and the public timelines -------------------------------------------------------------


async def tag(request: Request) -> Response:
    me = await current_user(request)
    name = str(request.path_params["name"])
    notes, older = await public_notes_page(request, me, "all", (normalize_tag(name),))
    settings = settings_of(request)
    title = f"#{name}"
    meta = Meta(
        title=title,
        description=gettext(request, TAG_ABOUT) % {"tag": title},
        image=settings.base_url + "/static/avatar.png",
        url=f"{settings.base_url}/tags/{name}",
    )
    return await render(request, "tag.html", me=me, name=name, notes=notes, older=older, meta=meta)


async def _timeline(request: Request, local: bool) -> Response:
    me = await current_user(request)
    notes, older = await public_notes_page(request, me, "local" if local else "all")
    settings = settings_of(request)
    title = gettext(request, LOCAL_TITLE if local else PUBLIC_TITLE)
    meta = Meta(
        title=title,
        description=gettext(request, LOCAL_ABOUT if local else PUBLIC_ABOUT),
        image=settings.base_url + "/static/avatar.png",
        url=settings.base_url + ("/public/local" if local else "/public"),
    )
    return await render(
        request, "public_timeline.html", me=me, title=title, local=local, notes=notes, older=older, meta=meta
    )


async def local_timeline(request: Request) -> Response:
    return await _timeline(request, local=True)


async def public_timeline(request: Request) -> Response:
    return await _timeline(request, local=False)


class AcctConvertor(Convertor[str]):
    """``alice`` or ``alice@example.org`` in ``/@…`` addresses — never ``alice.rss``, so the feeds'
    routes (``/@alice.rss``) stay theirs whatever the order routes are listed in."""

    regex = r"[A-Za-z0-9_]+(?:@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)?"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


class TagConvertor(Convertor[str]):
    """A hashtag's name in ``/tags/…``: no dot, so ``/tags/cats.rss`` is the feed's."""

    regex = r"[^/.]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("acct", AcctConvertor())
register_url_convertor("tag", TagConvertor())
