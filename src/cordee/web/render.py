"""What every page shares: Jinja2 rendering in the request's language, the CSRF token, the
signed-in user kept in the session, and safe redirects."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from cordee.config import Settings
from cordee.db.engine import Database
from cordee.db.tables import Account, User
from cordee.domain.passwords import MIN_PASSWORD_LENGTH
from cordee.web.i18n import LANGUAGE_NAMES, LANGUAGES, choose_language, translations

TEMPLATES_DIR = Path(__file__).parent / "templates"
CSRF_FIELD = "csrf_token"
# Pages are never framed (no clickjacking of the consent page) and never cached (they hold tokens).
PAGE_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


@cache
def environment(lang: str) -> Environment:
    """One Jinja2 environment per language, so concurrent requests never share a catalog."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.globals["min_password_length"] = MIN_PASSWORD_LENGTH
    return env


def gettext(request: Request, message: str) -> str:
    """Translate a message marked with ``N_`` into the request's language."""
    return translations(choose_language(request)).gettext(message)


@dataclass(frozen=True)
class SignedIn:
    user: User
    account: Account


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def db_of(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def current_user(request: Request) -> SignedIn | None:
    """The signed-in user, or None. A session naming a missing or disabled user is cleared."""
    user_id = request.session.get("user_id")
    if not isinstance(user_id, int):
        return None
    async with db_of(request).read() as session:
        row = (
            await session.execute(
                select(User, Account).join(Account, Account.id == User.account_id).where(User.id == user_id)
            )
        ).first()
    if row is None or row[0].disabled:
        request.session.pop("user_id", None)
        return None
    return SignedIn(row[0], row[1])


def sign_in(request: Request, user_id: int) -> None:
    request.session["user_id"] = user_id
    request.session[CSRF_FIELD] = secrets.token_urlsafe(32)  # a new identity gets a new token


def sign_out(request: Request) -> None:
    lang = request.session.get("lang")
    request.session.clear()
    if lang is not None:
        request.session["lang"] = lang


def csrf_token(request: Request) -> str:
    token = request.session.get(CSRF_FIELD)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return token


def csrf_ok(request: Request, form: FormData) -> bool:
    expected = request.session.get(CSRF_FIELD)
    sent = form.get(CSRF_FIELD)
    return isinstance(expected, str) and isinstance(sent, str) and hmac.compare_digest(expected, sent)


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
