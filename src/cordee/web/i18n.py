"""Translations for the web pages (English and French) and choosing the language of a request.

Catalogs are gettext ``.po`` files under ``cordee/locale/<lang>/LC_MESSAGES/messages.po``. They are
compiled in memory with Babel the first time a language is used, so there is no ``.mo`` file to
forget to rebuild. After changing a message in a template or in ``cordee/web/*.py``::

    pybabel extract -F src/cordee/web/babel.cfg --no-location --sort-output \\
        --project=Cordée --version=0.1.0 -o /tmp/messages.pot src/cordee/web
    pybabel update -i /tmp/messages.pot -d src/cordee/locale --no-wrap --ignore-obsolete

then translate the new (empty or fuzzy) French entries; tests/web checks that none are missing.
"""

from __future__ import annotations

from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from starlette.requests import Request

LANGUAGES = ("en", "fr")
DEFAULT_LANGUAGE = "en"
LANGUAGE_NAMES = {"en": "English", "fr": "Français"}
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated later, where the language is known."""
    return message


def catalog_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"


@cache
def translations(lang: str) -> Translations:
    """The compiled catalog of ``lang`` (one of LANGUAGES), built once per process."""
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}")
    with catalog_path(lang).open("rb") as po:
        catalog = read_po(po, locale=lang, domain="messages")
    compiled = BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out, as gettext expects
    compiled.seek(0)
    return Translations(compiled, domain="messages")


def _supported(tag: str) -> str | None:
    primary = tag.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in LANGUAGES else None


def parse_accept_language(header: str) -> list[str]:
    """Language tags of an Accept-Language header, best first (q=0 means "not this one")."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag.strip() and quality > 0:
            ranked.append((-quality, position, tag.strip()))
    return [tag for _, _, tag in sorted(ranked)]


def choose_language(request: Request) -> str:
    """``?lang=`` (remembered in the session), then the session, then Accept-Language, then English."""
    asked = _supported(request.query_params.get("lang", ""))
    if asked is not None:
        request.session["lang"] = asked
        return asked
    remembered = request.session.get("lang")
    if isinstance(remembered, str) and remembered in LANGUAGES:
        return remembered
    for tag in parse_accept_language(request.headers.get("accept-language", "")):
        found = _supported(tag)
        if found is not None:
            return found
    return DEFAULT_LANGUAGE
