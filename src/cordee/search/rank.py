"""Relevance: the order of ``order=relevance``, among the newest matching notes a search reads.

BM25, the scoring FTS5's ``bm25()`` uses (k1 = 1.2, b = 0.75), over the tokens each note is
indexed under (``status_search.body``, the very strings both text indexes are built from): each
positive word or phrase of the query is one term, counted in any of its forms (the ``query_forms``
the index is searched with), so a French stem and its plain form are one word, not two. A note
scores more the more often it has the query's words, the shorter it is, and the rarer those words
are — rarity (IDF) and the average length measured over the ranked notes themselves.

Why not the databases' own ranks: FTS5's ``bm25()`` counts, for its IDF, every note that has each
of the query's forms, which reads the forms' whole entries in the index — 10-20 ms for a common
word over 1M notes, growing with the corpus, whatever the window; PostgreSQL's ``ts_rank`` has no
IDF at all, and the two backends ranked differently. This one costs ~3 µs a note, the same on both.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from cordee.search.match import query_modes
from cordee.search.query import Query, Words
from cordee.search.text import query_forms

K1 = 1.2
B = 0.75


def _terms(query: Query) -> list[tuple[tuple[str, ...], ...]]:
    """The forms of each distinct positive word or phrase of ``query``."""
    modes = query_modes(query)
    terms: list[tuple[tuple[str, ...], ...]] = []
    for group in query.groups:
        for term in group:
            if isinstance(term, Words):
                forms = query_forms(term.tokens, modes)
                if forms and forms not in terms:
                    terms.append(forms)
    return terms


def _phrase_count(tokens: list[str], form: tuple[str, ...]) -> int:
    if form[0] not in tokens:
        return 0
    n = len(form)
    return sum(
        1 for i in range(len(tokens) - n + 1) if tokens[i] == form[0] and tuple(tokens[i : i + n]) == form
    )


def by_relevance(query: Query, notes: Sequence[tuple[int, str]]) -> list[int]:
    """The ids of ``notes`` (id, indexed body), best match first, newest (largest id) first among
    equals."""
    terms = _terms(query)
    if not notes or not terms:
        return sorted((i for i, _ in notes), reverse=True)
    # Each term's one-word forms apart: counted with list.count, in C (most query words, and a
    # note is a few dozen tokens); phrases by a scan where their first word appears.
    words = [[f[0] for f in forms if len(f) == 1] for forms in terms]
    phrases = [[f for f in forms if len(f) > 1] for forms in terms]
    frequencies: list[list[int]] = []  # per note, each term's number of occurrences
    lengths: list[int] = []
    for _, body in notes:
        tokens = body.split()
        frequencies.append(
            [
                sum(map(tokens.count, one)) + sum([_phrase_count(tokens, p) for p in several])
                for one, several in zip(words, phrases, strict=True)
            ]
        )
        lengths.append(len(tokens))
    n = len(notes)
    average = sum(lengths) / n or 1.0
    having = [sum(1 for tf in frequencies if tf[k]) for k in range(len(terms))]
    idf = [math.log(1 + (n - h + 0.5) / (h + 0.5)) for h in having]
    scores = []
    for (status_id, _), tf, length in zip(notes, frequencies, lengths, strict=True):
        norm = K1 * (1 - B + B * length / average)
        score = sum(w * f * (K1 + 1) / (f + norm) for w, f in zip(idf, tf, strict=True) if f)
        scores.append((-score, -status_id))
    scores.sort()
    return [-negative_id for _, negative_id in scores]
