"""The one text normaliser of search, used for indexing notes and for queries alike.

``words(text)``: Unicode NFKC, case folded, accents and ligatures folded (``École`` → ``ecole``,
``œuvre`` → ``oeuvre``), cut into tokens of letters and digits (``_``, apostrophes and every other
mark separate tokens, as SQLite's ``unicode61`` and PostgreSQL's parser do with what we give them).

Stemming (Snowball, through PyStemmer) depends on the note's language: a note in French is indexed
with French stems, in English with English stems, in any other or no language with the folded words
unstemmed ("modes" ``fr``, ``en`` and ``None``). We do not guess languages: detection on a short note
is unreliable and would make the index depend on a model. A query word is therefore looked up under
every form it takes in the modes a query can reach — French stem, English stem, plain folded word —
or only under its ``lang:`` mode when the query names one. ``bénévoles`` → ``benevol`` finds
"bénévole" and "Benevoles" in French notes; ``running`` → ``run`` finds "runs" in English ones.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Literal

import regex
import Stemmer

Mode = Literal["fr", "en"] | None

#: Every indexing mode, in a fixed order (queries without ``lang:`` look under all of them).
MODES: tuple[Mode, ...] = ("fr", "en", None)

_STEMMER_NAMES = {"fr": "french", "en": "english"}

# Letters NFKD does not decompose into a base letter and a combining mark.
_LIGATURES = str.maketrans(
    {"œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"}
)

# Combining marks (accents once NFKD has split them from their letters).
_COMBINING = regex.compile(r"\p{M}+")

# Letters and digits only: "_" is a separator here as it is for SQLite's unicode61 tokenizer.
_TOKEN = re.compile(r"[^\W_]+")

# PyStemmer's objects are not safe to share between threads; one set per thread.
_local = threading.local()


def fold(text: str) -> str:
    """NFKC, case folding, accents and ligatures folded; the string keeps its separators."""
    if text.isascii():  # most text: nothing to normalise or fold but the case
        return text.lower()
    text = unicodedata.normalize("NFKC", text).casefold().translate(_LIGATURES)
    stripped = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
    return unicodedata.normalize("NFC", stripped)


def words(text: str) -> list[str]:
    """The folded, unstemmed tokens of ``text``."""
    return _TOKEN.findall(fold(text))


def mode_for_language(language: str | None) -> Mode:
    """``fr``, ``fr-CA``, ``FR`` → ``fr``; ``en-GB`` → ``en``; anything else (or none) → ``None``."""
    if not language:
        return None
    primary = primary_language(language)
    if primary == "fr":
        return "fr"
    if primary == "en":
        return "en"
    return None


def primary_language(language: str | None) -> str | None:
    """The primary subtag, lower case (``fr-CA`` → ``fr``), or ``None``."""
    if not language or not language.strip():
        return None
    return language.strip().lower().split("-", 1)[0]


def _stemmer(mode: str) -> Stemmer.Stemmer:
    stemmers: dict[str, Stemmer.Stemmer] | None = getattr(_local, "stemmers", None)
    if stemmers is None:
        stemmers = _local.stemmers = {}
    found = stemmers.get(mode)
    if found is None:
        found = stemmers[mode] = Stemmer.Stemmer(_STEMMER_NAMES[mode])
    return found


def stem(tokens: Sequence[str], mode: Mode) -> tuple[str, ...]:
    """Folded tokens stemmed in ``mode`` (unchanged for ``None``)."""
    if mode is None:
        return tuple(tokens)
    # Stemming can leave accents back in (it never does for folded input today, but the stemmer is
    # not ours): fold again so that index and queries stay in the same alphabet.
    stems = _stemmer(mode).stemWords(list(tokens))
    return tuple(stems) if "".join(stems).isascii() else tuple(fold(t) for t in stems)


def index_tokens(text: str, language: str | None) -> tuple[str, ...]:
    """The tokens a note is indexed under: its words, stemmed in its language's mode."""
    return stem(words(text), mode_for_language(language))


def index_body(text: str, spoiler_text: str, language: str | None) -> str:
    """The string stored in the index: tokens separated by spaces (content warning first)."""
    return " ".join(index_tokens(f"{spoiler_text}\n{text}" if spoiler_text else text, language))


def query_forms(tokens: Sequence[str], modes: Iterable[Mode]) -> tuple[tuple[str, ...], ...]:
    """The distinct forms a query word (or phrase) takes in ``modes``, in a stable order."""
    forms: list[tuple[str, ...]] = []
    for mode in modes:
        form = stem(tokens, mode)
        if form and form not in forms:
            forms.append(form)
    return tuple(forms)
