"""RSS 2.0 and Atom feeds of a local profile (``/@alice.rss``, ``.atom``) and a hashtag
(``/tags/cats.rss``, ``.atom``), and the ``<link rel="alternate">`` pages advertise them with.

What is in them follows Mastodon for an anonymous reader, through the one visibility rule:

- a profile: the account's public and unlisted notes (``visible_to(None)``), not its boosts, not
  its replies to others (replies to itself, threads, stay) — Mastodon's ``AccountsController``;
- a hashtag: the public notes carrying it, as the anonymous hashtag timeline shows them.

Entries carry the note's HTML from the entity renderer (``cordee.rendering.statuses``, the API's
own), a content warning before it, and the media as enclosures (RSS allows one per item: the
first, and all of them as Media RSS ``media:content``; Atom takes them all). Answers are
conditional: a strong ETag over the bytes and Last-Modified from the newest note.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any
from xml.etree import ElementTree as ET

from sqlalchemy import select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from cordee.api.mastodon.serializers.accounts import profile_url
from cordee.api.mastodon.serializers.tags import tag_url
from cordee.config import Settings
from cordee.db.tables import Status
from cordee.db.tables_media import MediaAttachment
from cordee.queries import tags as tag_queries
from cordee.queries.accounts import account_by_acct
from cordee.queries.pages import tagged_page
from cordee.queries.timelines import AccountStatusFilter, account_statuses_query
from cordee.rendering.statuses import render_page, render_statuses
from cordee.web.i18n import N_
from cordee.web.render import db_of, gettext, settings_of

RSS_TYPE = "application/rss+xml"
ATOM_TYPE = "application/atom+xml"
#: Mastodon's figures: 20 entries, ``?limit=`` up to 200.
PAGE_SIZE = 20
PAGE_SIZE_MAX = 200
CACHE_CONTROL = "public, max-age=60"

_ATOM_NS = "http://www.w3.org/2005/Atom"
_MEDIA_NS = "http://search.yahoo.com/mrss/"
ET.register_namespace("atom", _ATOM_NS)
ET.register_namespace("media", _MEDIA_NS)


def alternate_links(
    settings: Settings, *, username: str | None = None, tag: str | None = None
) -> list[dict[str, str]]:
    """The feeds a profile or hashtag page advertises, for its ``<head>``::

    {% for link in feed_links %}<link rel="alternate" type="{{ link.type }}" href="{{ link.href }}"
    title="{{ link.title }}">{% endfor %}
    """
    if username is not None:
        base, title = profile_url(settings, username), f"@{username}"
    elif tag is not None:
        base, title = tag_url(settings, tag), f"#{tag}"
    else:
        raise ValueError("a feed is for an account or a hashtag")
    return [
        {"type": RSS_TYPE, "href": base + ".rss", "title": f"{title} (RSS)"},
        {"type": ATOM_TYPE, "href": base + ".atom", "title": f"{title} (Atom)"},
    ]


@dataclass(frozen=True)
class _Feed:
    title: str
    description: str
    page_url: str
    self_url: str
    icon: str | None
    entries: list[dict[str, Any]]
    #: Media content types and sizes by attachment id (the entity has neither).
    files: dict[str, tuple[str, int]]
    #: When nothing is in the feed yet.
    fallback_updated: datetime


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit", "")
    # isascii: "²" and other Unicode digits pass str.isdigit but not int().
    if not (raw.isascii() and raw.isdigit() and len(raw) < 6) or int(raw) == 0:
        return PAGE_SIZE
    return min(int(raw), PAGE_SIZE_MAX)


async def _files(request: Request, entries: Sequence[dict[str, Any]]) -> dict[str, tuple[str, int]]:
    ids = [int(m["id"]) for e in entries for m in e["media_attachments"]]
    if not ids:
        return {}
    async with db_of(request).read() as session:
        rows = await session.execute(
            select(MediaAttachment.id, MediaAttachment.content_type, MediaAttachment.file_size).where(
                MediaAttachment.id.in_(ids)
            )
        )
        # A video still being processed has no file yet: it gets no enclosure length either.
        return {str(i): (t, s or 0) for i, t, s in rows}


async def _account_feed(request: Request, ext: str) -> _Feed:
    settings = settings_of(request)
    username = str(request.path_params["username"])
    async with db_of(request).read() as session:
        account = await account_by_acct(session, settings, username)
        if account is None or account.domain is not None or "@" in username:
            raise HTTPException(404)
        query = account_statuses_query(
            None, account.id, AccountStatusFilter(exclude_replies=True, exclude_reblogs=True)
        )
        rows = list(await session.scalars(query.order_by(Status.id.desc()).limit(_limit(request))))
        entries = await render_statuses(session, settings, None, rows)
    name = account.display_name or account.username
    page = profile_url(settings, account.username)
    return _Feed(
        title=name,
        description=gettext(request, N_("Public notes from @%(acct)s"))
        % {"acct": f"{account.username}@{settings.domain}"},
        page_url=page,
        self_url=f"{page}.{ext}",
        icon=entries[0]["account"]["avatar"] if entries else None,
        entries=entries,
        files=await _files(request, entries),
        fallback_updated=account.created_at,
    )


async def _tag_feed(request: Request, ext: str) -> _Feed:
    settings = settings_of(request)
    name = str(request.path_params["name"])
    if not tag_queries.valid_tag_name(name):
        raise HTTPException(404)
    local = request.query_params.get("local", "").lower() in ("1", "true")
    db = db_of(request)
    async with db.read() as session:
        tag = await tag_queries.tag_by_name(session, name)
    if tag is None:
        raise HTTPException(404)
    # The tag's notes walked through its index (``queries.pages``), as the API's hashtag timeline.
    scope = "local" if local else "all"
    hot = await tagged_page(db.hot_replica, None, scope, (tag.name,), None, None, _limit(request))
    entries = await render_page(db, settings, None, hot.lives, hot.originals)
    page = tag_url(settings, tag.name)
    return _Feed(
        title=f"#{tag.display_name}",
        description=gettext(request, N_("Public notes tagged #%(tag)s")) % {"tag": tag.display_name},
        page_url=page,
        self_url=f"{page}.{ext}",
        icon=None,
        entries=entries,
        files=await _files(request, entries),
        fallback_updated=tag.created_at,
    )


# --- building the documents ---------------------------------------------------------------------


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("p", "br") and self.parts:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _title(entry: dict[str, Any]) -> str:
    """An entry's title: its content warning (never the text behind it), else its first words."""
    if entry["spoiler_text"]:
        return str(entry["spoiler_text"])
    parser = _Text()
    parser.feed(entry["content"])
    text = " ".join("".join(parser.parts).split())
    if not text:
        return f"{entry['account']['display_name'] or entry['account']['username']}"
    return text if len(text) <= 80 else text[:79].rstrip() + "…"


def _when(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def _updated(entry: dict[str, Any]) -> datetime:
    return _when(entry["edited_at"] or entry["created_at"])


def _html(request: Request, entry: dict[str, Any]) -> str:
    content = str(entry["content"])
    if entry["spoiler_text"]:
        # The warning's text is plain: escaped here, as the entity's own HTML already is.
        label = gettext(request, N_("Content warning:"))
        warning = ET.Element("p")
        strong = ET.SubElement(warning, "strong")
        strong.text = label
        strong.tail = " " + str(entry["spoiler_text"])
        content = ET.tostring(warning, encoding="unicode", method="html") + "<hr>" + content
    return content


def _media(entry: dict[str, Any], files: dict[str, tuple[str, int]]) -> list[tuple[dict[str, Any], str, int]]:
    shown = []
    for m in entry["media_attachments"]:
        content_type, size = files.get(str(m["id"]), ("application/octet-stream", 0))
        shown.append((m, content_type, size))
    return shown


def _rss(request: Request, feed: _Feed, updated: datetime) -> bytes:
    rss = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(rss, "channel")
    ET.SubElement(channel, "title").text = feed.title
    ET.SubElement(channel, "description").text = feed.description
    ET.SubElement(channel, "link").text = feed.page_url
    ET.SubElement(channel, f"{{{_ATOM_NS}}}link", {"href": feed.self_url, "rel": "self", "type": RSS_TYPE})
    if feed.icon:
        image = ET.SubElement(channel, "image")
        ET.SubElement(image, "url").text = feed.icon
        ET.SubElement(image, "title").text = feed.title
        ET.SubElement(image, "link").text = feed.page_url
    ET.SubElement(channel, "lastBuildDate").text = format_datetime(updated, usegmt=True)
    ET.SubElement(channel, "generator").text = "Cordée"
    for entry in feed.entries:
        item = ET.SubElement(channel, "item")
        ET.SubElement(item, "guid", {"isPermaLink": "true"}).text = entry["url"]
        ET.SubElement(item, "link").text = entry["url"]
        ET.SubElement(item, "title").text = _title(entry)
        ET.SubElement(item, "pubDate").text = format_datetime(_when(entry["created_at"]), usegmt=True)
        ET.SubElement(item, "description").text = _html(request, entry)
        media = _media(entry, feed.files)
        if media:
            first, content_type, size = media[0]
            ET.SubElement(item, "enclosure", {"url": first["url"], "length": str(size), "type": content_type})
        for m, content_type, size in media:
            medium = "image" if m["type"] == "gifv" else str(m["type"])
            attrs = {"url": m["url"], "type": content_type, "fileSize": str(size), "medium": medium}
            media_content = ET.SubElement(item, f"{{{_MEDIA_NS}}}content", attrs)
            rating = "adult" if entry["sensitive"] else "nonadult"
            ET.SubElement(media_content, f"{{{_MEDIA_NS}}}rating", {"scheme": "urn:simple"}).text = rating
            if m["description"]:
                description = ET.SubElement(media_content, f"{{{_MEDIA_NS}}}description", {"type": "plain"})
                description.text = m["description"]
        for tag in entry["tags"]:
            ET.SubElement(item, "category").text = tag["name"]
    body: bytes = ET.tostring(rss, encoding="utf-8", xml_declaration=True)
    return body


def _atom(request: Request, feed: _Feed, updated: datetime) -> bytes:
    def sub(parent: ET.Element, tag: str, attrs: dict[str, str] | None = None) -> ET.Element:
        return ET.SubElement(parent, f"{{{_ATOM_NS}}}{tag}", attrs or {})

    root = ET.Element(f"{{{_ATOM_NS}}}feed")
    sub(root, "id").text = feed.self_url
    sub(root, "title").text = feed.title
    sub(root, "subtitle").text = feed.description
    sub(root, "updated").text = updated.isoformat()
    sub(root, "link", {"rel": "alternate", "type": "text/html", "href": feed.page_url})
    sub(root, "link", {"rel": "self", "type": ATOM_TYPE, "href": feed.self_url})
    sub(root, "generator").text = "Cordée"
    if feed.icon:
        sub(root, "icon").text = feed.icon
    for entry in feed.entries:
        node = sub(root, "entry")
        sub(node, "id").text = entry["uri"]
        sub(node, "title").text = _title(entry)
        sub(node, "published").text = _when(entry["created_at"]).isoformat()
        sub(node, "updated").text = _updated(entry).isoformat()
        sub(node, "link", {"rel": "alternate", "type": "text/html", "href": entry["url"]})
        author = sub(node, "author")
        sub(author, "name").text = entry["account"]["display_name"] or entry["account"]["username"]
        sub(author, "uri").text = entry["account"]["url"]
        sub(node, "content", {"type": "html"}).text = _html(request, entry)
        for m, content_type, size in _media(entry, feed.files):
            attrs = {"rel": "enclosure", "href": m["url"], "type": content_type, "length": str(size)}
            if m["description"]:
                attrs["title"] = m["description"]
            sub(node, "link", attrs)
        for tag in entry["tags"]:
            sub(node, "category", {"term": tag["name"]})
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body


# --- conditional answers ------------------------------------------------------------------------


def _not_modified(request: Request, etag: str, last_modified: datetime) -> bool:
    """RFC 9110: If-None-Match decides when sent; If-Modified-Since only without it."""
    match = request.headers.get("if-none-match")
    if match is not None:
        tags = {t.strip().removeprefix("W/") for t in match.split(",")}
        return "*" in tags or etag in tags
    since = request.headers.get("if-modified-since")
    if since:
        try:
            return last_modified.replace(microsecond=0) <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


async def _answer(request: Request, feed: _Feed, ext: str) -> Response:
    updated = max((_updated(e) for e in feed.entries), default=feed.fallback_updated)
    body = _rss(request, feed, updated) if ext == "rss" else _atom(request, feed, updated)
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {
        "ETag": etag,
        "Last-Modified": format_datetime(updated, usegmt=True),
        "Cache-Control": CACHE_CONTROL,
        "Vary": "Accept-Language",
    }
    if _not_modified(request, etag, updated):
        return Response(status_code=304, headers=headers)
    media_type = (RSS_TYPE if ext == "rss" else ATOM_TYPE) + "; charset=utf-8"
    return Response(body, headers=headers, media_type=media_type)


async def account_rss(request: Request) -> Response:
    return await _answer(request, await _account_feed(request, "rss"), "rss")


async def account_atom(request: Request) -> Response:
    return await _answer(request, await _account_feed(request, "atom"), "atom")


async def tag_rss(request: Request) -> Response:
    return await _answer(request, await _tag_feed(request, "rss"), "rss")


async def tag_atom(request: Request) -> Response:
    return await _answer(request, await _tag_feed(request, "atom"), "atom")


def feed_routes() -> list[BaseRoute]:
    return [
        Route("/@{username}.rss", account_rss, methods=["GET", "HEAD"]),
        Route("/@{username}.atom", account_atom, methods=["GET", "HEAD"]),
        Route("/tags/{name}.rss", tag_rss, methods=["GET", "HEAD"]),
        Route("/tags/{name}.atom", tag_atom, methods=["GET", "HEAD"]),
    ]
