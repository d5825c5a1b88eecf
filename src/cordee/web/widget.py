"""The blog widget: the script (``/widget.js``), its data (``/widget/notes``, ``/widget/stream``),
the iframe variant (``/widget/frame``) and the page that builds the snippet (``/widget``).

Everything a host page's visitor fetches is anonymous and stateless: these endpoints never read or
set a cookie (``choose_language`` and the CSRF token would write the session, so the frame does not
use ``render``), and the widget asks for them with ``credentials: "omit"``. Cross-origin reads are
allowed by ``web/cors.py`` (``/widget/`` is covered; no credentials).

What is shown is ``queries.widget.widget_query`` (public notes only, see there why), rendered by
``rendering.statuses`` and cut down by ``rendering.widget.compact_note``; the stream is the hub's,
on the anonymous channels of ``streaming/widget.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from cordee.api.mastodon.errors import error_response
from cordee.api.mastodon.params import id_or_none
from cordee.api.mastodon.serializers.accounts import render_account
from cordee.api.mastodon.serializers.tags import tag_url
from cordee.db.tables import Account, Status
from cordee.domain.text import normalize_tag
from cordee.queries.accounts import account_by_acct
from cordee.queries.pages import tagged_page
from cordee.queries.tags import valid_tag_name
from cordee.queries.widget import widget_query
from cordee.rendering.statuses import render_live, render_statuses
from cordee.rendering.widget import compact_account, compact_note
from cordee.streaming.endpoints import _EventStream
from cordee.streaming.hub import Hub
from cordee.streaming.widget import ANONYMOUS, widget_channel
from cordee.web.headers import EMBED_POLICY
from cordee.web.i18n import LANGUAGES, parse_accept_language
from cordee.web.render import db_of, environment, render, settings_of

SCRIPT = Path(__file__).parent / "static" / "widget.js"
DEFAULT_LIMIT = 10
MAX_LIMIT = 40
#: Anonymous widget streams one process keeps open at most; past it, a 503 (the widget retries).
MAX_STREAMS = 5000
THEMES = ("auto", "light", "dark")
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
#: What an account or a tag may be spelled with in a snippet (nothing that needs quoting).
_ACCT = re.compile(r"[A-Za-z0-9_.@-]{1,100}")
_TAG = re.compile(r"\w{1,100}")


class WidgetError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Source:
    account: Account | None = None
    tag: str | None = None


@dataclass(frozen=True)
class Options:
    """The widget's settings, as the snippet builder and the iframe page read them."""

    account: str = ""
    tag: str = ""
    theme: str = "auto"
    accent: str = ""
    lang: str = ""
    limit: int = DEFAULT_LIMIT

    @classmethod
    def parse(cls, params: Any) -> Options:
        theme = params.get("theme", "")
        accent = params.get("accent", "")
        lang = params.get("lang", "")
        account = params.get("account", "").strip().lstrip("@")
        tag = params.get("tag", "").strip().lstrip("#")
        return cls(
            account=account if _ACCT.fullmatch(account) else "",
            tag=tag if _TAG.fullmatch(tag) and not account else "",
            theme=theme if theme in THEMES else "auto",
            accent=accent if _COLOUR.fullmatch(accent) else "",
            lang=lang if lang in LANGUAGES else "",
            limit=_limit(params.get("limit")),
        )

    def items(self) -> list[tuple[str, str]]:
        """The non-default settings, in a fixed order (the snippet's attributes, the frame's query)."""
        pairs = [("account", self.account), ("tag", self.tag)]
        pairs += [("theme", self.theme if self.theme != "auto" else ""), ("accent", self.accent)]
        pairs += [("lang", self.lang), ("limit", str(self.limit) if self.limit != DEFAULT_LIMIT else "")]
        return [(k, v) for k, v in pairs if v]


def _limit(raw: str | None) -> int:
    value = id_or_none(raw or "")
    return DEFAULT_LIMIT if value is None else max(1, min(MAX_LIMIT, value))


async def _source(request: Request, session: Any) -> Source:
    params = request.query_params
    acct, tag = params.get("account", "").strip(), params.get("tag", "").strip().lstrip("#")
    if bool(acct) == bool(tag):
        raise WidgetError(400, "Give an account or a tag")
    if tag:
        if not valid_tag_name(tag):
            raise WidgetError(400, "Invalid tag")
        return Source(tag=normalize_tag(tag))
    account = await account_by_acct(session, settings_of(request), acct[:300])
    if account is None:
        raise WidgetError(404, "Record not found")
    return Source(account=account)


def _query(source: Source) -> Any:
    if source.account is not None:
        return widget_query(account_id=source.account.id)
    return widget_query(tag=source.tag)


async def notes(request: Request) -> Response:
    """``GET /widget/notes?account=…|tag=…&limit=…&since_id=…``: the newest notes, compact."""
    settings = settings_of(request)
    since = id_or_none(request.query_params.get("since_id", ""))
    db = db_of(request)
    limit = _limit(request.query_params.get("limit"))
    try:
        async with db.read() as session:
            source = await _source(request, session)
            if source.tag is None:
                query = _query(source)
                if since is not None:
                    query = query.where(Status.id > since)
                rows = list(await session.scalars(query.order_by(Status.id.desc()).limit(limit)))
                entities = await render_statuses(session, settings, None, rows)
    except WidgetError as e:
        return error_response(e.status, e.message)
    if source.tag is not None:
        # The hashtag's page walked through its index (``TAG_PAGES``: ``widget_query``'s notes for a
        # tag — public ones, no boosts — for nobody in particular): as an ``EXISTS`` over every
        # public note, each load of a widget of a rare tag walked all of them.
        hot = await tagged_page(db.hot_replica, None, "all", [source.tag], None, since, limit)
        entities = await render_live(db, settings, None, hot.lives, hot.originals)
    if source.account is not None:
        about: dict[str, Any] = {
            "account": compact_account(settings, render_account(settings, source.account))
        }
    else:
        assert source.tag is not None
        about = {"tag": {"name": source.tag, "url": tag_url(settings, source.tag)}}
    body = {**about, "notes": [compact_note(settings, e) for e in entities]}
    # A few seconds of caching spares the database a page full of widgets; the stream is live.
    return JSONResponse(body, headers={"Cache-Control": "public, max-age=5"})


async def stream(request: Request) -> Response:
    """``GET /widget/stream?account=…|tag=…``: server-sent events (``update``, ``status.update``,
    ``delete``) of the notes the widget shows, with the hub's heartbeats."""
    hub: Hub | None = getattr(request.app.state, "hub", None)
    if hub is None or hub.draining:
        return error_response(503, "The server is restarting; reconnect in a moment")
    try:
        async with db_of(request).read() as session:
            source = await _source(request, session)
    except WidgetError as e:
        return error_response(e.status, e.message)
    if hub.open_for(ANONYMOUS) >= MAX_STREAMS:
        return error_response(503, "Too many widgets are open; retry in a moment")
    connection = await hub.connect(ANONYMOUS, "sse")
    if source.account is not None:
        hub.subscribe(connection, widget_channel(account_id=source.account.id))
    else:
        hub.subscribe(connection, widget_channel(tag=source.tag))
    return _EventStream(hub, connection)  # type: ignore[return-value]


async def script(request: Request) -> Response:
    """``/widget.js``: cached for an hour by the host pages' visitors."""
    return Response(
        SCRIPT.read_bytes(),
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=3600"},
    )


async def frame(request: Request) -> Response:
    """``/widget/frame?…``: the iframe variant, a page holding nothing but the widget script."""
    options = Options.parse(request.query_params)
    lang = options.lang or _browser_language(request)
    attributes = [*options.items(), *([] if options.lang else [("lang", lang)])]
    html = environment(lang).get_template("widget_frame.html").render(attributes=attributes, lang=lang)
    headers = {"Content-Security-Policy": EMBED_POLICY, "Cache-Control": "public, max-age=300"}
    if not options.lang:
        headers["Vary"] = "Accept-Language"
    return HTMLResponse(html, headers=headers)


def _browser_language(request: Request) -> str:
    """The visitor's language from Accept-Language only (``choose_language`` would read and write
    the session: the frame sets no cookie)."""
    for tag in parse_accept_language(request.headers.get("accept-language", "")):
        code = tag.split("-")[0].lower()
        if code in LANGUAGES:
            return code
    return "en"


def snippets(base_url: str, options: Options) -> tuple[str, str]:
    """The two snippets to paste: the script tag, and the iframe for sites that forbid scripts."""
    attributes = "".join(f' data-{k}="{v}"' for k, v in options.items())
    script_tag = f'<script src="{base_url}/widget.js"{attributes} async></script>'
    query = urlencode(options.items())
    iframe = (
        f'<iframe src="{base_url}/widget/frame?{query}" title="{options.account or "#" + options.tag}"'
        ' width="400" height="600" style="border:0;max-width:100%" loading="lazy"></iframe>'
    )
    return script_tag, iframe


async def builder(request: Request) -> Response:
    """``/widget``: the snippet builder (a GET form: it changes nothing) with a live preview."""
    options = Options.parse(request.query_params)
    ready = bool(options.account or options.tag)
    found = True
    if options.account:
        async with db_of(request).read() as session:
            found = await account_by_acct(session, settings_of(request), options.account) is not None
    script_tag, iframe = snippets(settings_of(request).base_url, options)
    return await render(
        request,
        "widget.html",
        options=options,
        ready=ready and found,
        not_found=ready and not found,
        themes=THEMES,
        script_tag=script_tag,
        iframe=iframe,
        frame_src="/widget/frame?" + urlencode(options.items()),
        max_limit=MAX_LIMIT,
    )
