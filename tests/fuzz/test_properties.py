"""Property tests (hypothesis) on the text rules and on request parsing.

The text rules are the ones every path shares (entities, weighted length, content HTML); the
request-parsing properties go through a real server: whatever a client sends as parameters,
query strings or JSON, the answer is a success or a clear 4xx, never a server error.
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cordee.api.mastodon.params import id_or_none
from cordee.domain import scopes as sc
from cordee.domain.text import (
    ALLOWED_TAGS,
    count_graphemes,
    extract_entities,
    render_html,
    sanitize_html,
    weighted_length,
)
from tests.support.running import Running, launch, register

# Through a server, each example is a request or two: keep the counts modest in the suite.
API = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
PURE = settings(max_examples=300, deadline=None)

#: Text that can hold no entity at all (no '@', '#', '.', ':', '/').
PLAIN = st.text(alphabet=st.characters(blacklist_characters="@#.:/", blacklist_categories=("Cs",)))
WORD = st.text(alphabet=string.ascii_lowercase + string.digits + "_", min_size=1, max_size=20)
NOTES = st.lists(
    st.sampled_from([*"ab cé#@_/:.\n", "https://", "www.", "example.com", "🧗", "e\u0301", "<b>", "&amp;"]),
    max_size=30,
).map("".join)


# --- the text rules -----------------------------------------------------------------------


@PURE
@given(NOTES)
def test_entities_are_ordered_disjoint_and_spell_the_text(text: str) -> None:
    entities = extract_entities(text)
    end = 0
    for e in entities:
        assert end <= e.start < e.end <= len(text)
        end = e.end
        raw = text[e.start : e.end]
        if e.kind == "mention":
            assert raw.lower() == "@" + e.value.lower()
        elif e.kind == "hashtag":
            assert raw == "#" + e.value


@PURE
@given(PLAIN)
def test_text_without_entities_counts_its_graphemes(text: str) -> None:
    assert extract_entities(text) == []
    assert weighted_length(text) == count_graphemes(text)


@PURE
@given(PLAIN, PLAIN, WORD, st.integers(min_value=0, max_value=200))
def test_every_url_counts_23_whatever_its_length(before: str, after: str, word: str, extra: int) -> None:
    url = f"https://example.com/{word}{'x' * extra}"
    text = f"{before} {url} {after}"
    assert weighted_length(text) == weighted_length(f"{before} {after}") + 1 + 23


@PURE
@given(WORD, st.from_regex(r"[a-z]{1,20}(\.[a-z]{2,10}){1,3}", fullmatch=True))
def test_a_mention_counts_its_username_not_its_domain(username: str, domain: str) -> None:
    assert weighted_length(f"hi @{username}@{domain}") == len("hi @") + len(username)


@PURE
@given(NOTES)
def test_content_html_is_sanitised_and_stable(text: str) -> None:
    html = render_html(text, extract_entities(text), lambda e: f"https://x.test/@{e.username}", str)
    assert sanitize_html(html) == html  # nothing left for the sanitiser to remove
    tags = {t.split()[0].strip("</>") for t in html.replace(">", ">\n").split("<")[1:]}
    assert tags <= ALLOWED_TAGS | {""}
    assert "javascript:" not in html.lower()


@PURE
@given(st.text(max_size=25))
def test_ids_are_ascii_digits_within_63_bits(raw: str) -> None:
    number = id_or_none(raw)
    if number is not None:
        assert 0 <= number < 1 << 63
        assert raw.isascii() and raw.isdigit() and int(raw) == number


@PURE
@given(st.integers(min_value=0, max_value=(1 << 63) - 1))
def test_every_snowflake_id_parses_back(number: int) -> None:
    assert id_or_none(str(number)) == number


@PURE
@given(st.text(max_size=80))
def test_scopes_parse_into_known_scopes_or_a_clear_error(raw: str) -> None:
    try:
        parsed = sc.parse_scopes(raw)
    except sc.ScopeError:
        return
    assert all(s in sc.ALL_SCOPES or s.startswith("admin:") for s in parsed)
    assert sc.parse_scopes(sc.to_string(parsed)) == parsed


# --- request parsing through a running server --------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Running, dict[str, str], str]]:
    running = launch(tmp_path_factory.mktemp("properties"), CORDEE_RATE_LIMITS="off")
    headers = register(running.base_url, "prop", "read write follow")
    me = httpx.get(f"{running.base_url}/api/v1/accounts/verify_credentials", headers=headers).json()["id"]
    yield running, headers, me
    running.stop()


def _no_server_error(r: httpx.Response) -> None:
    assert r.status_code < 500, (r.request.method, r.request.url, r.status_code, r.text[:300])
    if r.status_code >= 400:
        assert "error" in r.json(), r.text[:300]


PAGE_VALUES = st.one_of(
    st.text(max_size=24),
    st.integers(min_value=-(1 << 70), max_value=1 << 70).map(str),
    st.sampled_from(["", "0", "-1", "1e3", "0x10", "٣", "²", "9" * 30, " 5 "]),
)


@API
@given(st.dictionaries(st.sampled_from(["max_id", "since_id", "min_id", "limit", "local"]), PAGE_VALUES))
def test_any_pagination_parameters_page_or_refuse(
    server: tuple[Running, dict[str, str], str], query: dict[str, str]
) -> None:
    running, headers, me = server
    for path in ("/api/v1/timelines/public", "/api/v1/timelines/home", f"/api/v1/accounts/{me}/statuses"):
        r = httpx.get(running.base_url + path, params=query, headers=headers)
        _no_server_error(r)
        if r.status_code == 200:
            page = r.json()
            assert len(page) <= 40
            ids = [int(s["id"]) for s in page]
            assert ids == sorted(ids, reverse=True)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
FIELDS = st.sampled_from(
    [
        "status",
        "visibility",
        "sensitive",
        "spoiler_text",
        "language",
        "in_reply_to_id",
        "media_ids",
        "poll",
        "scheduled_at",
        "title",
        "display_name",
        "note",
        "locked",
        "limit",
        "q",
        "type",
    ]
)


@API
@given(st.dictionaries(FIELDS | st.text(max_size=12), JSON_VALUES, max_size=6))
def test_any_json_body_is_accepted_or_refused_clearly(
    server: tuple[Running, dict[str, str], str], body: dict[str, Any]
) -> None:
    running, headers, _ = server
    for method, path in (
        ("POST", "/api/v1/statuses"),
        ("POST", "/api/v1/lists"),
        ("PATCH", "/api/v1/accounts/update_credentials"),
        ("POST", "/api/v2/filters"),
        ("GET", "/api/v2/search"),
    ):
        r = httpx.request(
            method,
            running.base_url + path,
            content=json.dumps(body),
            headers={**headers, "Content-Type": "application/json"},
        )
        _no_server_error(r)


@API
@given(st.text(max_size=200))
def test_any_note_text_posts_sanitised_or_is_refused(
    server: tuple[Running, dict[str, str], str], text: str
) -> None:
    running, headers, _ = server
    # Sent as raw JSON so that lone surrogates (invalid in UTF-8) reach the server escaped.
    r = httpx.post(
        running.base_url + "/api/v1/statuses",
        content=json.dumps({"status": text}),
        headers={**headers, "Content-Type": "application/json"},
    )
    _no_server_error(r)
    if r.status_code == 200:
        content = r.json()["content"]
        assert sanitize_html(content) == content
        assert "<script" not in content.lower()


@API
@given(st.lists(st.tuples(st.text(max_size=15), st.text(max_size=30)), max_size=8))
def test_any_form_fields_are_accepted_or_refused_clearly(
    server: tuple[Running, dict[str, str], str], fields: list[tuple[str, str]]
) -> None:
    running, headers, _ = server
    for path in ("/api/v1/statuses", "/api/v1/lists", "/api/v1/reports"):
        r = httpx.post(
            running.base_url + path,
            content=urlencode(fields),
            headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
        )
        _no_server_error(r)
