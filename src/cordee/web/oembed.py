"""oEmbed for notes (Mastodon's ``GET /api/oembed?url=``) and the page it frames
(``/@alice/123/embed``), so that a blog which knows oEmbed embeds a note from its address.

Only what an anonymous reader may see is embedded — the one rule, ``visible_to(None)``: public
and unlisted notes, as Mastodon's ``StatusPolicy#show?`` for no account. A private, direct,
unknown, remote or boosted note is a 404, the same bytes as a note that does not exist.

The embed page is static HTML (no script), rendered from the API's entity by the one note
partial (``_note.html``) with no viewer, may be framed by any site (``EMBED_POLICY``), and sets
no cookie: it never touches the session (no CSRF token, no signed-in lookup).
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import urlencode, urlsplit

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from cordee.actions.errors import NotFound
from cordee.api.mastodon.base import Ctx, endpoint, json_response
from cordee.api.mastodon.errors import ApiError
from cordee.api.mastodon.serializers.accounts import profile_url
from cordee.config import Settings
from cordee.db.engine import Database
from cordee.queries.accounts import account_by_id
from cordee.queries.statuses import visible_status
from cordee.rendering.statuses import render_status
from cordee.web.headers import EMBED_POLICY
from cordee.web.i18n import DEFAULT_LANGUAGE, LANGUAGES, parse_accept_language
from cordee.web.render import db_of, environment, settings_of

#: Mastodon's default width; the height fits a note without media (the frame has no script to
#: resize itself), more with pictures or a poll.
DEFAULT_WIDTH = 400
HEIGHT_TEXT = 220
HEIGHT_MEDIA = 300
HEIGHT_POLL = 120
CACHE_AGE = 86_400
_NOTE_PATH = re.compile(r"/@(?P<username>[A-Za-z0-9_]{1,30})/(?P<id>[0-9]{1,20})/?")
_URI_PATH = re.compile(r"/users/(?P<username>[A-Za-z0-9_]{1,30})/statuses/(?P<id>[0-9]{1,20})/?")
_ID_MAX = 2**63 - 1


def oembed_link(settings: Settings, note_url: str) -> dict[str, str]:
    """The discovery link of a note's page, for its ``<head>``::

    <link rel="alternate" type="{{ o.type }}" href="{{ o.href }}" title="{{ o.title }}">
    """
    return {
        "type": "application/json+oembed",
        "href": f"{settings.base_url}/api/oembed?{urlencode({'url': note_url})}",
        "title": "oEmbed",
    }


def _note_of(settings: Settings, url: str) -> tuple[str, int] | None:
    """(username, id) of a local note's address (its page or its ``uri``), else None."""
    try:
        parts, base = urlsplit(url), urlsplit(settings.base_url)
    except ValueError:
        return None
    if (parts.scheme.lower(), parts.netloc.lower()) != (base.scheme.lower(), base.netloc.lower()):
        return None
    found = _NOTE_PATH.fullmatch(parts.path) or _URI_PATH.fullmatch(parts.path)
    if found is None or int(found["id"]) > _ID_MAX:
        return None
    return found["username"], int(found["id"])


async def _embeddable(db: Database, settings: Settings, username: str, status_id: int) -> dict[str, Any]:
    """The entity of a local, original note an anonymous reader may see, by this author; else
    NotFound (one answer for every reason)."""
    async with db.read() as session:
        status = await visible_status(session, None, status_id)
        if status is None or status.reblog_of_id is not None:
            raise NotFound("Record not found")
        author = await account_by_id(session, status.account_id)
        if author is None or author.domain is not None or author.username_key != username.lower():
            raise NotFound("Record not found")
        return await render_status(session, settings, None, status)


def _positive(raw: str | None) -> int | None:
    # isascii: "²" and other Unicode digits pass str.isdigit but not int().
    return int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) < 6 and int(raw) > 0 else None


@endpoint(auth="none")
async def oembed(ctx: Ctx) -> Response:
    p = ctx.params
    if (p.str("format") or "json") != "json":
        raise ApiError(501, "Only the json format is available")  # oEmbed's answer for xml
    note = _note_of(ctx.settings, p.str("url") or "")
    if note is None:
        raise NotFound("Record not found")
    entity = await _embeddable(ctx.db, ctx.settings, *note)
    account = entity["account"]
    max_width = _positive(p.str("maxwidth"))
    max_height = _positive(p.str("maxheight"))
    width = min(DEFAULT_WIDTH, max_width) if max_width else DEFAULT_WIDTH
    height = HEIGHT_TEXT + (HEIGHT_MEDIA if entity["media_attachments"] else 0)
    height += HEIGHT_POLL if entity["poll"] else 0
    if max_height:
        height = min(height, max_height)
    src = f"{entity['url']}/embed"
    author_name = account["display_name"] or account["username"]
    frame = (
        f'<iframe src="{html.escape(src)}" class="cordee-embed" style="max-width: 100%; border: 0" '
        f'width="{width}" height="{height}" allowfullscreen="allowfullscreen" '
        f'title="{html.escape(author_name)}"></iframe>'
    )
    return json_response(
        {
            "type": "rich",
            "version": "1.0",
            "title": "",
            "author_name": author_name,
            "author_url": profile_url(ctx.settings, account["username"]),
            "provider_name": ctx.settings.domain,
            "provider_url": ctx.settings.base_url + "/",
            "cache_age": CACHE_AGE,
            "html": frame,
            "width": width,
            "height": height,
        },
        headers={"Cache-Control": "public, max-age=300"},
    )


async def embed_page(request: Request) -> Response:
    settings = settings_of(request)
    try:
        entity = await _embeddable(
            db_of(request), settings, str(request.path_params["username"]), int(request.path_params["id"])
        )
    except NotFound:
        raise HTTPException(404) from None
    lang = _language(request)
    page = (
        environment(lang)
        .get_template("embed.html")
        .render(lang=lang, settings=settings, status=entity, me=None)
    )
    return HTMLResponse(
        page,
        headers={
            "Content-Security-Policy": EMBED_POLICY,
            "Cache-Control": "public, max-age=60",
            "Vary": "Accept-Language",
        },
    )


def _language(request: Request) -> str:
    """``?lang=`` (the host page's choice), else the visitor's browser: never the session, which
    ``choose_language`` would write to (a cookie set from inside someone else's page)."""
    asked = request.query_params.get("lang", "")
    if asked in LANGUAGES:
        return asked
    for tag in parse_accept_language(request.headers.get("accept-language", "")):
        base = tag.split("-")[0].lower()
        if base in LANGUAGES:
            return base
    return DEFAULT_LANGUAGE


def oembed_routes() -> list[BaseRoute]:
    return [
        Route("/api/oembed", oembed, methods=["GET"]),
        Route("/@{username}/{id:int}/embed", embed_page, methods=["GET"]),
    ]
