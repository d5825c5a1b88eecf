"""Sentiment of a note's text, offline, in English and French.

English: VADER (``vaderSentiment``, the lexicon and rules of Hutto & Gilbert, shipped in the
package). French: ``vaderSentiment-fr``, the same method with a French lexicon (a translation of
VADER's, with French negations and boosters). Both are small, rule-based and need no download at
run time. No actively maintained French *lexicon* package exists on PyPI (the French VADER port's
last release is from 2021; textblob-fr's from 2013): the port is the best offline option found, and
a person's correction of a note's label (``SentimentCorrection``) always wins over it.

Other languages are scored with the English lexicon when the note has no language, and are
neutral otherwise (a lexicon of the wrong language says nothing useful).
"""

from __future__ import annotations

import functools
import warnings
from typing import Any, Protocol

LABELS = ("positive", "neutral", "negative")
#: VADER's own thresholds on the compound score.
POSITIVE_AT = 0.05
NEGATIVE_AT = -0.05


class _Analyzer(Protocol):
    def polarity_scores(self, text: str) -> dict[str, float]: ...


@functools.cache
def _english() -> _Analyzer:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer: Any = SentimentIntensityAnalyzer()
    return analyzer  # type: ignore[no-any-return]


@functools.cache
def _french() -> _Analyzer:
    with warnings.catch_warnings():
        # fuzzywuzzy warns that it runs without python-Levenshtein: only speed, and only for
        # the French port's fuzzy lookups of unknown words.
        warnings.simplefilter("ignore")
        from vaderSentiment_fr.vaderSentiment import SentimentIntensityAnalyzer

        analyzer: Any = SentimentIntensityAnalyzer()
    return analyzer  # type: ignore[no-any-return]


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
