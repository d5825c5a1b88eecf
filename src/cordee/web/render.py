"""What every page shares: Jinja2 rendering in the request's language, the CSRF token, the
signed-in user, and safe redirects.

Who is signed in is a server-side web session (``actions/sessions.py``): the ``cordee_sid`` cookie
holds its random key, so signing out, a password change or "sign out everywhere" really ends it —
a copy of the cookie is worth nothing afterwards. The signed client-side cookie
(``request.session``) only keeps what is harmless to keep there: the language, a flash message,
and the CSRF token of a browser that is not signed in. A signed-in browser's CSRF token is derived
from its session key, so it is bound to that session and changes with it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from sqlalchemy import select
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from cordee.actions import sessions as session_actions
from cordee.client_ip import client_ip
from cordee.config import Settings
from cordee.db.engine import Database
from cordee.db.tables import Account, User
from cordee.db.types import utcnow
from cordee.domain.passwords import MIN_PASSWORD_LENGTH
from cordee.queries import sessions as session_queries
from cordee.web.i18n import LANGUAGE_NAMES, LANGUAGES, choose_language, translations

TEMPLATES_DIR = Path(__file__).parent / "templates"
CSRF_FIELD = "csrf_token"
SESSION_COOKIE = "cordee_sid"
# Pages are never cached (they hold tokens). The security headers (Content-Security-Policy, no
# framing, nosniff, referrer policy) are added to every response by ``web/headers.py``.
PAGE_HEADERS = {"Cache-Control": "no-store"}


class _Environment(Environment):
    """Notes, accounts and polls reach the templates as the API's entities: plain dicts. Jinja reads
    ``note.account`` as an attribute first and only then as a key, and the failed attribute lookup
    (an exception per dot) was a fifth of a home page's rendering (py-spy, bench/web.py). For a dict,
    the key comes first here; a name that is not a key falls back to Jinja's own rule (so
    ``mapping.items()`` still works, as long as no entity has a key named like a dict method)."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


@cache
def environment(lang: str) -> Environment:
    """One Jinja2 environment per language, so concurrent requests never share a catalog.

    Templates are files of the installed package: they are not checked for changes on every use
    (``auto_reload``; a restart picks changes up), which saved a ``stat`` per template and per
    ``{% include %}`` — a home page includes a note's templates twice per note."""
    env = _Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    catalog = translations(lang)
    env.install_gettext_translations(catalog, newstyle=True)  # type: ignore[attr-defined]
    env.globals["_"] = env.globals["gettext"] = _cached_gettext(catalog)
    env.globals["min_password_length"] = MIN_PASSWORD_LENGTH
    return env


def _cached_gettext(catalog: Translations) -> Callable[..., Markup]:
    """``_()`` for the templates, as Jinja's "newstyle" gettext behaves (the translation is markup,
    its ``%(name)s`` values are escaped), but with each message looked up once per language. Every
    template here autoescapes. Jinja's own version, through its context call machinery, was a third
    of a home page's rendering time (a dozen labels per note: measured with bench/web.py)."""
    found: dict[str, Markup] = {}

    def gettext(message: str, /, **variables: Any) -> Markup:
        translated = found.get(message)
        if translated is None:
            translated = found[message] = Markup(catalog.gettext(message))
        return translated % variables if variables or "%" in translated else translated

    return gettext


def gettext(request: Request, message: str) -> str:
    """Translate a message marked with ``N_`` into the request's language."""
    return translations(choose_language(request)).gettext(message)


@dataclass(frozen=True)
class SignedIn:
    user: User
    account: Account
    #: The id of this browser's web session (to keep it when signing out the others).
    session_id: int = 0


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def db_of(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def ip_of(request: Request) -> str:
    return client_ip(request.scope, settings_of(request).trusted_proxies)


def user_agent_of(request: Request) -> str:
    return request.headers.get("user-agent", "")


async def current_user(request: Request) -> SignedIn | None:
    """The signed-in user of this browser, or None (no cookie; a revoked, expired or unknown key; a
    disabled user). Looked up once per request."""
    if hasattr(request.state, "signed_in"):
        found: SignedIn | None = request.state.signed_in
        return found
    signed_in: SignedIn | None = None
    await db_of(request).catch_up()  # other processes' writes: see db/change_log.py
    key = request.cookies.get(SESSION_COOKIE)
    if key:
        async with db_of(request).read() as session:
            found_session = await session_queries.find(session, key)
        if found_session is not None:
            row = found_session.web_session
            signed_in = SignedIn(found_session.user, found_session.account, row.id)
            if utcnow() - row.last_seen_at >= session_actions.TOUCH_EVERY:
                await session_actions.touch(db_of(request), row.id, ip_of(request), user_agent_of(request))
    request.state.signed_in = signed_in
    return signed_in


def _set_session_cookie(request: Request, response: Response, key: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        key,
        max_age=int(session_actions.LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings_of(request).base_url.startswith("https://"),
    )


async def sign_in(request: Request, response: Response, user_id: int, *, method: str = "password") -> None:
    """The last step of every web sign-in (after the password and, when enabled, the second factor):
    start a server-side session for ``user_id`` and give its key to the browser in ``response``. A
    session this browser already had is ended (signing in again replaces the account)."""
    previous = await current_user(request)
    if previous is not None:
        await session_actions.end(db_of(request), previous.session_id, previous.user.id, ip_of(request))
    key = await session_actions.start(
        db_of(request), user_id, ip_of(request), user_agent_of(request), method=method
    )
    _set_session_cookie(request, response, key)
    request.session.pop(CSRF_FIELD, None)  # the anonymous token is done with
    # The account's language, when the pages speak it, wins over the browser's from now on.
    async with db_of(request).read() as session:
        locale = await session.scalar(select(User.locale).where(User.id == user_id))
    if locale in LANGUAGES:
        request.session["lang"] = locale


async def sign_out(request: Request, response: Response) -> None:
    """End this browser's session (a copy of the cookie stops working too) and forget the cookie."""
    me = await current_user(request)
    if me is not None:
        await session_actions.end(db_of(request), me.session_id, me.user.id, ip_of(request))
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    lang = request.session.get("lang")
    request.session.clear()
    if lang is not None:
        request.session["lang"] = lang
    request.state.signed_in = None


def csrf_token(request: Request) -> str:
    """The CSRF token of this browser: derived from its session key when it holds one (bound to the
    session, never stored), else a random one kept in the signed cookie."""
    key = request.cookies.get(SESSION_COOKIE)
    if key:
        secret = settings_of(request).secret_key.encode()
        return hmac.new(secret, b"csrf:" + key.encode("utf-8", "replace"), hashlib.sha256).hexdigest()
    token = request.session.get(CSRF_FIELD)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return token


def csrf_ok(request: Request, form: FormData) -> bool:
    sent = form.get(CSRF_FIELD)
    if not isinstance(sent, str) or not sent:
        return False
    if not request.cookies.get(SESSION_COOKIE) and not isinstance(request.session.get(CSRF_FIELD), str):
        return False
    return hmac.compare_digest(csrf_token(request), sent)


def field(form: FormData, name: str, max_length: int = 1000) -> str:
    """A text field of a submitted form ("" when missing or a file), cut to ``max_length``."""
    value = form.get(name)
    return value[:max_length] if isinstance(value, str) else ""


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go back to after a form; anything pointing off-site becomes ``default``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(c) < 32 for c in target):
        return default
    return target


def redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303, headers=PAGE_HEADERS)


def _with_lang(request: Request, code: str) -> str:
    url = request.url.include_query_params(lang=code)
    return f"{url.path}?{url.query}"


async def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """Render ``template`` in the request's language; ``me`` is looked up unless given."""
    lang = choose_language(request)
    if "me" not in context:
        context["me"] = await current_user(request)
    html = (
        environment(lang)
        .get_template(template)
        .render(
            request=request,
            lang=lang,
            settings=settings_of(request),
            csrf_field=CSRF_FIELD,
            csrf_token=csrf_token(request),
            other_languages=[
                (code, LANGUAGE_NAMES[code], _with_lang(request, code)) for code in LANGUAGES if code != lang
            ],
            **context,
        )
    )
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)
