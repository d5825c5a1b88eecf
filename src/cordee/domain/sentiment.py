"""Sentiment of a note's text, offline, in English and French.

Both languages are scored by VADER (``vaderSentiment``, MIT: the rules of Hutto & Gilbert, 2014).
English uses the lexicon shipped in the package. French uses a French lexicon and emoji descriptions
vendored in ``domain/lexicons/`` from the French port of VADER (``vaderSentiment-fr``, MIT, see the
NOTICE there). The port's *code* is not used: it depends on fuzzywuzzy (GPLv2-only, incompatible with
Cordée's AGPL-3.0-or-later) and Unidecode (GPL). Instead, a French text is rewritten before VADER
reads it (``_french_tokens``): elisions are split (``n'aime`` → ``n aime``), accents are folded (as
the port did, so ``genial`` finds ``génial``), and French function words become the English ones
VADER's rules know: negators → ``not`` (``ne … pas`` counts once, at the ``ne``, since VADER looks
only at the words *before* a sentiment word), intensifiers → ``very``, dampeners → ``slightly``,
``mais`` → ``but``. A person's correction of a note's label (``SentimentCorrection``) always wins.

Other languages are scored with the English lexicon when the note has no language, and are
neutral otherwise (a lexicon of the wrong language says nothing useful).
"""

from __future__ import annotations

import functools
import re
import string
import threading
import unicodedata
import warnings
from pathlib import Path
from typing import Any, Protocol

import Stemmer

LABELS = ("positive", "neutral", "negative")
#: VADER's own thresholds on the compound score.
POSITIVE_AT = 0.05
NEGATIVE_AT = -0.05

LEXICONS = Path(__file__).with_name("lexicons")

# French function words, mapped to the English words whose role VADER's rules already encode.
#: Negators heard without "ne" (spoken French drops it: "c'est pas bon"). "plus" is left out: alone
#: it means "more"; it negates only after "ne".
NEGATORS = frozenset({"pas", "jamais", "rien", "sans", "ni", "aucun", "aucune", "aucunement", "nullement"})
#: What completes a "ne": dropped there, since the "ne" before the verb already carries the negation.
AFTER_NE = NEGATORS | {"plus", "point", "guere", "personne", "nulle"}
INTENSIFIERS = frozenset(
    {
        "tres", "trop", "tellement", "vraiment", "extremement", "absolument", "totalement",
        "completement", "particulierement", "hyper", "ultra", "si", "franchement",
        "incroyablement", "terriblement", "vachement", "carrement", "archi",
    }
)  # fmt: skip
DAMPENERS = frozenset({"peu", "assez", "plutot", "moyennement", "legerement", "presque", "quasi"})
#: The elided articles, pronouns and conjunctions split off their word ("l'", "qu'", "jusqu'"…).
ELISION = re.compile(r"\b(c|d|j|l|m|n|s|t|qu|jusqu|lorsqu|puisqu|quoiqu)['’]", re.IGNORECASE)
#: How far after a "ne" its "pas" may come ("je ne l'ai jamais aimé": ne l ai jamais).
NE_REACH = 4
#: Shorter unknown words are not looked up by their stem (too many false friends).
STEM_FROM = 6
#: How many letters an unknown form's ending may differ by from the lexicon's ("heureuses", "heureux").
FORM_GAP = 3

_local = threading.local()  # a Snowball stemmer is not safe to share between threads


class _Analyzer(Protocol):
    def polarity_scores(self, text: str) -> dict[str, float]: ...


_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE"})


def fold(word: str) -> str:
    """``word`` without its accents (é → e, ç → c), as the French lexicon's keys are looked up."""
    # The lexicon writes "oe" ("écoeurant"); people type "œ" too, which NFKD does not decompose.
    decomposed = unicodedata.normalize("NFKD", word.translate(_LIGATURES))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@functools.cache
def _english() -> _Analyzer:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer: Any = SentimentIntensityAnalyzer()
    return analyzer  # type: ignore[no-any-return]


def _read_pairs(name: str, separator: str) -> list[tuple[str, str]]:
    lines = (LEXICONS / name).read_text(encoding="utf-8").splitlines()
    return [(k, v) for k, _, v in (line.partition(separator) for line in lines if separator in line)]


@functools.cache
def _french_lexicon() -> dict[str, float]:
    """The French lexicon, its keys folded like the words looked up; the French function words
    mapped to English ones are never sentiment words themselves."""
    lexicon: dict[str, float] = {}
    for word, measure in _read_pairs("fr_lexicon.txt", "->"):
        key = fold(word).lower()
        if key not in AFTER_NE | INTENSIFIERS | DAMPENERS | {"ne", "mais"}:
            lexicon.setdefault(key, float(measure))
    return lexicon


@functools.cache
def _french() -> _Analyzer:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    # VADER's rules with the French data (the constructor reads the English files, replaced here).
    analyzer: Any = SentimentIntensityAnalyzer()
    analyzer.lexicon = _french_lexicon()
    analyzer.emojis = {e: fold(d).lower() for e, d in _read_pairs("emojis_fr.txt", "\t")}
    return analyzer  # type: ignore[no-any-return]


def _stem(word: str) -> str:
    stemmer: Stemmer.Stemmer | None = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = Stemmer.Stemmer("french")
    return str(stemmer.stemWord(word))


@functools.cache
def _by_stem() -> dict[str, tuple[str, ...]]:
    """The lexicon's words by Snowball stem: the lexicon lists some forms of a word and not others
    ("contente" but not "content"). The port found missing forms by fuzzy matching (GPLv2-only code)."""
    lexicon = _french_lexicon()
    found: dict[str, list[str]] = {}
    for key in sorted(lexicon):
        if key.isalpha():
            found.setdefault(_stem(key), []).append(key)
    return {stem: tuple(keys) for stem, keys in found.items()}


def _known_form(word: str) -> str | None:
    """The lexicon's form of an unknown inflected ``word``: same stem, and only an ending apart
    (the stem alone also joins derived words of another meaning: "train", "trainasse")."""
    best: str | None = None
    for key in _by_stem().get(_stem(word), ()):
        if abs(len(key) - len(word)) > FORM_GAP or _common_prefix(key, word) < min(len(key), len(word)) - 2:
            continue
        if best is None or abs(len(key) - len(word)) < abs(len(best) - len(word)):
            best = key
    return best


def _common_prefix(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def _core(token: str) -> tuple[str, str, str]:
    """A token as (leading punctuation, word, trailing punctuation)."""
    word = token.strip(string.punctuation + "«»…")
    if not word:
        return "", token, ""
    start = token.index(word)
    return token[:start], word, token[start + len(word) :]


def _french_tokens(text: str) -> str:
    """The French text rewritten for VADER's English rules (see the module's docstring)."""
    tokens = [_core(t) for t in ELISION.sub(r"\1 ", text).split()]
    words = [fold(w).lower() for _, w, _ in tokens]
    lexicon = _french_lexicon()
    out: list[str] = []
    dropped: set[int] = set()
    for i, (lead, word, trail) in enumerate(tokens):
        if i in dropped:
            out.append(lead + trail)
            continue
        low = words[i]
        if low in ("ne", "n"):
            for j in range(i + 1, min(i + 1 + NE_REACH, len(words))):
                if words[j] in AFTER_NE:
                    dropped.add(j)
                    break
            mapped = "not"
        elif low in NEGATORS:
            mapped = "not"
        elif low in INTENSIFIERS:
            mapped = "very"
        elif low in DAMPENERS:
            mapped = "slightly"
        elif low == "mais":
            mapped = "but"
        else:
            mapped = fold(word)  # the case is kept: VADER weighs words in capitals
            if low not in lexicon and len(low) >= STEM_FROM and low.isalpha():
                known = _known_form(low)
                if known:
                    mapped = known.upper() if mapped.isupper() else known
        out.append(lead + mapped + trail)
    return " ".join(t for t in out if t)


def note_text(text: str, spoiler_text: str) -> str:
    """What is scored of a note: its content warning, then its text."""
    return f"{spoiler_text}\n{text}" if spoiler_text else text


def score(text: str, language: str | None) -> float:
    """The compound score in [-1, 1] (0: neutral or unknown language)."""
    lang = (language or "").split("-")[0].lower()
    if not text.strip():
        return 0.0
    if lang == "fr":
        analyzer = _french()
        text = _french_tokens(text)
    elif lang in ("en", ""):
        analyzer = _english()
    else:
        return 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return round(float(analyzer.polarity_scores(text)["compound"]), 4)


def label(compound: float) -> str:
    if compound >= POSITIVE_AT:
        return "positive"
    if compound <= NEGATIVE_AT:
        return "negative"
    return "neutral"
