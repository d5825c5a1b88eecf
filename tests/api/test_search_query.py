"""The search query language, the normaliser and the in-memory matcher (pure: no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from cordee.search import NoteFacts, QueryError, matches, parse
from cordee.search.query import Hashtag, Mention, Words
from cordee.search.text import index_tokens, words


def note(text: str, language: str | None = "fr", **kw: object) -> NoteFacts:
    facts: dict[str, object] = {
        "tags": frozenset(),
        "author": "alice",
        "created_at": datetime(2026, 3, 10, 12, tzinfo=UTC),
        "has_media": False,
    }
    facts.update(kw)
    return NoteFacts(text=text, language=language, **facts)  # type: ignore[arg-type]


def test_normaliser_folds_case_accents_ligatures_and_width() -> None:
    assert words("École ÉCOLE école Ｅｃｏｌｅ") == ["ecole"] * 4
    assert words("Œuvre, cœur!") == ["oeuvre", "coeur"]
    assert words("l'assemblée_générale") == ["l", "assemblee", "generale"]
    # Stemmed per language: French plural, English -ing.
    assert index_tokens("bénévoles", "fr") == index_tokens("Benevole", "fr-CA")
    assert index_tokens("running runs", "en") == ("run", "run")
    assert index_tokens("running", None) == ("running",)  # no language: folded, unstemmed


def test_parse_every_operator() -> None:
    q = parse(
        'bénévoles "Assemblée générale" climat OR météo -pluie -"fake news" #Cordée @Alice '
        "@bob@example.org from:carol -from:dave lang:fr-CA since:2026-01-01 until:2026-02-01 has:media",
        local_domain="cordee.test",
    )
    assert q.groups == (
        (Words(("benevoles",)),),
        (Words(("assemblee", "generale")),),
        (Words(("climat",)), Words(("meteo",))),
        (Hashtag("cordée"),),
        (Mention("alice"),),
        (Mention("bob@example.org"),),
    )
    assert q.excluded == (Words(("pluie",)), Words(("fake", "news")))
    assert (q.authors, q.excluded_authors, q.language) == (("carol",), ("dave",), "fr")
    assert (q.since, q.until, q.has_media) == (date(2026, 1, 1), date(2026, 2, 1), True)
    assert parse("from:alice@cordee.test", local_domain="cordee.test").authors == ("alice",)
    assert parse("-has:media x").has_media is False
    assert parse("(a OR b) c").groups == ((Words(("a",)), Words(("b",))), (Words(("c",)),))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('"unbalanced', "quotation mark"),
        ("a OR", "OR needs"),
        ("OR a", "OR needs"),
        ("a OR OR b", "OR needs"),
        ("a OR -b", "excluded term cannot"),
        ("-a -b", "not only excluded"),
        ("", "nothing to look for"),
        ("lang:fr since:2026-01-01", "nothing to look for"),
        ("x has:pictures", "has:media"),
        ("x since:2026-02-30", "YYYY-MM-DD"),
        ("x since:2026-02-01 until:2026-01-01", "before until"),
        ("x lang:fr lang:en", "only once"),
        ("x from:", "needs a value"),
        ("x -lang:fr", "cannot be excluded"),
        (" ".join(f"w{i}" for i in range(17)), "too many terms"),
        ('"' + " ".join(f"w{i}" for i in range(9)) + '"', "at most 8 words"),
        ("x" * 501, "too long"),
    ],
)
def test_malformed_or_costly_queries_are_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(QueryError, match=reason):
        parse(text)


def test_matcher_applies_every_operator() -> None:
    n = note(
        "Les bénévoles de l'Assemblée générale parlent météo",
        tags=frozenset({"cordée"}),
        mentions=frozenset({"bob"}),
        has_media=True,
    )
    assert matches(parse("benevole"), n)
    assert matches(parse('"assemblee generale"'), n)
    assert not matches(parse('"generale assemblee"'), n)
    assert matches(parse("pluie OR meteo"), n)
    assert not matches(parse("meteo -benevoles"), n)
    assert matches(parse("#Cordée @bob from:alice lang:fr has:media"), n)
    assert not matches(parse("meteo -has:media"), n)
    assert not matches(parse("meteo from:bob"), n)
    assert not matches(parse("meteo -from:alice"), n)
    assert not matches(parse("meteo lang:en"), n)
    assert matches(parse("meteo since:2026-03-10 until:2026-03-11"), n)
    assert not matches(parse("meteo until:2026-03-10"), n)
    assert matches(parse("runs"), note("I was running", "en"))
