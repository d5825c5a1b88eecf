"""Full-text search through ``/api/v2/search``, on SQLite (FTS5) and PostgreSQL (tsvector + GIN):
stemming and accents in French and English, every operator, visibility, ranking, bad queries, the
index kept in step with edits and deletes; and the in-memory matcher agreeing with the database."""

from __future__ import annotations

import random
import re
from datetime import timedelta
from typing import Any

import httpx
import pytest

from cordee.db.engine import Database
from cordee.db.types import utcnow
from cordee.queries import search as search_queries
from cordee.search import matches, parse
from cordee.search.facts import note_facts
from tests.api.test_media import uploaded
from tests.conftest import ApiUser

Post = Any

CORPUS = {
    "fr1": ("Les bénévoles de l'Assemblée générale préparent la fête #Cordée", "fr"),
    "fr2": ("Une bénévole à l'ÉCOLE du quartier, merci @bob", "fr"),
    "fr3": ("Réunion des benevoles demain : météo pluvieuse", "fr"),
    "en1": ("Volunteers are running the general assembly #cordee", "en"),
    "en2": ("She runs the school garden with volunteers", "en"),
    "de1": ("Die Schule ist geschlossen", "de"),
}


async def _corpus(client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser) -> dict[str, str]:
    ids = {}
    for key, (text, language) in CORPUS.items():
        author = bob if key == "en2" else alice
        extra: dict[str, Any] = {}
        if key == "fr3":
            extra["media_ids"] = [(await uploaded(client, alice))["id"]]
        ids[key] = (await post(author, text, language=language, **extra))["id"]
    return ids


async def _found(client: httpx.AsyncClient, user: ApiUser | None, q: str, **params: Any) -> list[str]:
    headers = user.headers if user else {}
    r = await client.get("/api/v2/search", params={"q": q, "type": "statuses", **params}, headers=headers)
    assert r.status_code == 200, (q, r.text)
    return [s["id"] for s in r.json()["statuses"]]


async def test_stemming_accents_and_every_operator(
    client: httpx.AsyncClient,
    post: Post,
    alice: ApiUser,
    bob: ApiUser,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = await _corpus(client, post, alice, bob)
    today = utcnow().date()
    cases = {
        "bénévoles": {"fr1", "fr2", "fr3"},  # French plural, singular, unaccented
        "BENEVOLE": {"fr1", "fr2", "fr3"},
        "école": {"fr2"},  # "ÉCOLE" folded
        "ecoles": {"fr2"},
        "volunteer": {"en1", "en2"},  # English stems
        "run": {"en1", "en2"},
        '"assemblée générale"': {"fr1"},  # a phrase: adjacent, in order
        '"general assembly"': {"en1"},
        '"assembly general"': set(),
        "école OR school": {"fr2", "en2"},
        "bénévoles -météo": {"fr1", "fr2"},
        'bénévoles -"assemblée générale"': {"fr2", "fr3"},
        "#cordée": {"fr1"},
        "#cordee": {"en1"},
        "#cordee OR #cordée": {"fr1", "en1"},
        "volunteers #cordee OR school": {"en1", "en2"},  # a word group and a mixed group
        "bénévoles -#cordée": {"fr2", "fr3"},
        "@bob": {"fr2"},
        "volunteers from:bob": {"en2"},
        "volunteers -from:bob": {"en1"},
        "volunteers #cordee": {"en1"},
        "benevoles lang:fr from:alice": {"fr1", "fr2", "fr3"},
        "from:alice lang:de": {"de1"},
        "benevole has:media": {"fr3"},
        "benevole -has:media": {"fr1", "fr2"},
        f"schule since:{today}": {"de1"},
        f"schule until:{today}": set(),
        f"schule until:{today + timedelta(days=1)}": {"de1"},
        "benevoles lang:en": set(),
        "l'école": {"fr2"},  # an elided article: a two-token phrase, as indexed
    }
    inverse = {v: k for k, v in ids.items()}
    for q, expected in cases.items():
        assert {inverse[i] for i in await _found(client, alice, q)} == expected, q
    # Anonymous readers search public notes too; offsets need an account, as in Mastodon.
    assert len(await _found(client, None, "benevoles")) == 3

    # The in-memory matcher (live columns) agrees with the database on the same corpus, for the
    # cases above and for random combinations of words and operators.
    async with db.read() as session:
        facts = await note_facts(session, [int(i) for i in ids.values()])
    vocabulary = [
        "benevole",
        "ecole",
        "school",
        "run",
        '"general assembly"',
        "#cordee",
        "@bob",
        "meteo",
        "schule",
    ]
    rng = random.Random(11)
    queries = list(cases)
    for _ in range(16):
        parts = rng.sample(vocabulary, rng.randint(1, 3))
        if len(parts) > 1 and rng.random() < 0.5:
            parts.insert(1, "OR")
        if rng.random() < 0.4:
            parts.append("-" + rng.choice(vocabulary))
        if rng.random() < 0.3:
            parts.append(rng.choice(["lang:fr", "lang:en", "from:bob", "has:media", "-has:media"]))
        queries.append(" ".join(parts))
    for q in queries:
        query = parse(q, local_domain="cordee.test")
        in_memory = {str(i) for i, f in facts.items() if matches(query, f)}
        assert set(await _found(client, alice, q, limit=40)) == in_memory, q
    # SQLite starts from a small enough author's or hashtag's notes (probing the text index for
    # each), else from the words' matches: both plans find the same notes, in the same order.
    narrowed = [q for q in queries if "from:" in q or "#" in q]
    by_default = {q: await _found(client, alice, q, limit=40) for q in narrowed}
    monkeypatch.setattr(search_queries, "PROBE_LIMIT", 0)
    for q in narrowed:
        assert await _found(client, alice, q, limit=40) == by_default[q], q


async def test_nobody_finds_what_they_may_not_read(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser, carol: ApiUser
) -> None:
    private = (await post(bob, "Secret bénévolat plan", visibility="private"))["id"]
    direct = (await post(bob, "Secret bénévolat for @carol", visibility="direct"))["id"]
    public = (await post(bob, "Public bénévolat plan"))["id"]
    assert await _found(client, alice, "bénévolat") == [public]
    assert await _found(client, None, "bénévolat") == [public]
    assert sorted(await _found(client, carol, "bénévolat")) == sorted([direct, public])
    r = await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice.headers)
    assert r.status_code == 200
    assert await _found(client, alice, "bénévolat") == [public, private]
    assert await _found(client, bob, "secret") == [direct, private]


async def test_many_newer_notes_the_reader_may_not_see(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser
) -> None:
    # PostgreSQL reads the matches' ids first and applies the rule to them, going on below the
    # last id read while the page is short: more hidden matches than a first batch must not end it.
    older = [(await post(alice, f"Randonnée numéro {i}"))["id"] for i in range(2)]
    for i in range(14):
        await post(bob, f"Randonnée privée {i}", visibility="private")
    assert await _found(client, alice, "randonnée", limit=1) == [older[1]]
    assert await _found(client, alice, "randonnée", limit=1, offset=1) == [older[0]]
    assert await _found(client, alice, "randonnée") == older[::-1]
    assert len(await _found(client, bob, "randonnée", limit=40)) == 16


async def test_ranking_pagination_bad_queries_edits_deletes_and_accounts(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, make_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    dense = (await post(alice, "vélo vélo vélo, le vélo partout"))["id"]
    sparse = (await post(alice, "Un long message sur les transports où il est question de vélo une fois"))[
        "id"
    ]
    other = (await post(alice, "Rien à voir"))["id"]
    assert await _found(client, alice, "vélo") == [sparse, dense]  # newest first by default
    assert await _found(client, alice, "vélo", order="relevance") == [dense, sparse]
    assert await _found(client, alice, "vélo", max_id=sparse) == [dense]
    assert await _found(client, alice, "vélo", min_id=dense) == [sparse]
    assert await _found(client, alice, "vélo", limit=1, offset=1) == [dense]
    assert await _found(client, alice, "vélo", account_id=alice.id) == [sparse, dense]
    monkeypatch.setattr(search_queries, "PROBE_LIMIT", 0)  # the same from the words' matches
    assert await _found(client, alice, "vélo", account_id=alice.id) == [sparse, dense]
    monkeypatch.undo()
    assert await _found(client, alice, "rien OR vélo") == [other, sparse, dense]
    r = await client.get("/api/v2/search", params={"q": "vélo", "order": "best"}, headers=alice.headers)
    assert r.status_code == 422

    # The web page says why, in the reader's language.
    r = await client.get("/search", params={"q": 'x "y'}, headers={"Accept-Language": "fr"})
    assert r.status_code == 200 and "un guillemet n’est pas fermé" in r.text
    hint = re.search(r'id="search-hint">([^<]*)<', r.text)  # the syntax, in French
    assert hint and hint.group(1).startswith("Dans les notes : des mots"), hint

    # Malformed or costly queries: 422 with the reason.
    for q, reason in (
        ('"unbalanced', "quotation mark is not closed"),
        ("-only -excluded", "not only excluded"),
        ("x OR", "OR needs"),
        ("x since:2026-02-30", "YYYY-MM-DD"),
        (" ".join(f"w{i}" for i in range(20)), "too many terms"),
    ):
        r = await client.get("/api/v2/search", params={"q": q}, headers=alice.headers)
        assert r.status_code == 422 and reason in r.json()["error"], (q, r.text)

    note = (await post(alice, "Premier jet", language="fr"))["id"]
    assert await _found(client, alice, "jet") == [note]  # searchable as soon as posted
    r = await client.put(
        f"/api/v1/statuses/{note}", json={"status": "Version corrigée"}, headers=alice.headers
    )
    assert r.status_code == 200, r.text
    assert await _found(client, alice, "jet") == []
    assert await _found(client, alice, "corrigee") == [note]
    assert (await client.delete(f"/api/v1/statuses/{note}", headers=alice.headers)).status_code == 200
    assert await _found(client, alice, "corrigee") == []

    # Accounts: folded words of the display name, by prefix.
    await make_user("eleve")
    r = await client.patch(
        "/api/v1/accounts/update_credentials", data={"display_name": "École Léon Blum"}, headers=alice.headers
    )
    assert r.status_code == 200, r.text
    for q in ("ecole", "Éco", "leon bl"):
        r = await client.get("/api/v2/search", params={"q": q, "type": "accounts"}, headers=alice.headers)
        assert [a["username"] for a in r.json()["accounts"]] == ["alice"], q


async def test_relevance_ranks_the_newest_visible_matches_alike_on_both_backends(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    # search.rank's BM25 over the ranked notes: the rarer word weighs more ("rain": 2 of the 4
    # matches, "bike": 3), repeats count, longer notes count less; PostgreSQL's ts_rank ranked the
    # note with both words first (it has no rarity), FTS5's bm25 counted rarity over all notes.
    rain = (await post(alice, "rain rain rain today", language="en"))["id"]
    commute = (await post(alice, "bike to work, bike home", language="en"))["id"]
    short = (await post(alice, "a bike", language="en"))["id"]
    both = (await post(alice, "bike in the rain", language="en"))["id"]
    hidden = (await post(bob, "rain rain rain rain", language="en", visibility="private"))["id"]
    ranked = [rain, both, commute, short]
    assert await _found(client, alice, "bike OR rain", order="relevance") == ranked
    assert await _found(client, alice, "bike OR rain", order="relevance", limit=2, offset=1) == ranked[1:3]
    assert await _found(client, bob, "rain", order="relevance") == [hidden, rain, both]  # bob sees his own
    # A phrase counts where its words are adjacent and in order, in any of its forms.
    assert await _found(client, alice, '"to work" OR "in the rain"', order="relevance") == [both, commute]
    # Only the newest matches the reader may see are ranked: bob's private note takes no place.
    monkeypatch.setattr(search_queries, "RELEVANCE_WINDOW", 2)
    assert await _found(client, alice, "bike OR rain", order="relevance") == [both, short]
    assert await _found(client, alice, "bike OR rain", order="relevance", offset=2) == []
