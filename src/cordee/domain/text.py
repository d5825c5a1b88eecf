"""Note text: entities (URLs, mentions, hashtags), weighted length, and the content HTML.

URLs are found by the twitter-text URL extractor (a port of Twitter's own rules: trailing punctuation,
parentheses, IDN). Mentions and hashtags follow Mastodon's patterns, written with the ``regex``
module for Unicode classes. Length is counted the way Mastodon counts it: grapheme clusters, with
every URL counting as ``characters_reserved_per_url`` and every mention as ``@username`` (its domain
is free).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import nh3
import regex
from twitter_text import extract_urls_with_indices

EntityKind = Literal["url", "mention", "hashtag"]

# Mastodon: a mention is @user or @user@domain, not preceded by a word character, '=' or '/'.
MENTION_RE = regex.compile(
    r"(?<![=/\w@])@(?P<username>[a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_])?)(?:@(?P<domain>[\w.-]+\w))?",
    regex.IGNORECASE,
)
# Mastodon: a hashtag has at least one letter or underscore, and no leading '#' glued to a word.
HASHTAG_RE = regex.compile(r"(?<![=/)\w#&])#(?P<name>[\w·]*[\p{L}_][\w·]*)")

ALLOWED_TAGS = {"p", "br", "a", "span"}
ALLOWED_ATTRIBUTES = {"a": {"href", "class", "rel", "target", "translate"}, "span": {"class", "translate"}}


@dataclass(frozen=True)
class Entity:
    kind: EntityKind
    start: int
    end: int
    #: The URL, the ``user`` or ``user@domain`` of a mention, or the tag name as written.
    value: str

    @property
    def username(self) -> str:
        return self.value.split("@", 1)[0]

    @property
    def domain(self) -> str | None:
        parts = self.value.split("@", 1)
        return parts[1] if len(parts) == 2 else None


def extract_entities(text: str) -> list[Entity]:
    """All entities in order, non-overlapping; URLs win over mentions/hashtags inside them."""
    entities = [
        Entity("url", u["indices"][0], u["indices"][1], u["url"])
        for u in extract_urls_with_indices(text, extract_urls_without_protocol=False)
    ]

    def overlaps(start: int, end: int) -> bool:
        return any(e.start < end and start < e.end for e in entities)

    for m in MENTION_RE.finditer(text):
        if not overlaps(m.start(), m.end()):
            value = m.group("username") + (f"@{m.group('domain')}" if m.group("domain") else "")
            entities.append(Entity("mention", m.start(), m.end(), value))
    for m in HASHTAG_RE.finditer(text):
        if not overlaps(m.start(), m.end()):
            entities.append(Entity("hashtag", m.start(), m.end(), m.group("name")))
    return sorted(entities, key=lambda e: e.start)


def count_graphemes(text: str) -> int:
    return len(regex.findall(r"\X", text))


def weighted_length(text: str, url_weight: int = 23, entities: list[Entity] | None = None) -> int:
    """Length as Mastodon counts it (see module docstring)."""
    if entities is None:
        entities = extract_entities(text)
    total, cursor = 0, 0
    for e in entities:
        total += count_graphemes(text[cursor : e.start])
        if e.kind == "url":
            total += url_weight
        elif e.kind == "mention":
            total += 1 + len(e.username)
        else:
            total += count_graphemes(text[e.start : e.end])
        cursor = e.end
    return total + count_graphemes(text[cursor:])


def normalize_tag(name: str) -> str:
    return name.casefold()


def _link_url(url: str) -> str:
    # Mastodon shows the scheme-less URL, cut at 30 characters, and keeps the full one in href.
    scheme, _, rest = url.partition("://")
    shown = rest if rest else url
    display, ellipsis = (shown[:30], ' class="ellipsis"') if len(shown) > 30 else (shown, "")
    invisible = f'<span class="invisible">{html.escape(scheme)}://</span>' if rest else ""
    tail = f'<span class="invisible">{html.escape(shown[30:])}</span>' if ellipsis else ""
    return (
        f'<a href="{html.escape(url)}" target="_blank" rel="nofollow noopener noreferrer" translate="no">'
        f"{invisible}<span{ellipsis}>{html.escape(display)}</span>{tail}</a>"
    )


def render_html(
    text: str,
    entities: list[Entity],
    mention_url: Callable[[Entity], str | None],
    tag_url: Callable[[str], str],
) -> str:
    """The content HTML of a note: paragraphs, line breaks, and links for each entity.

    ``mention_url`` returns the profile URL of a mentioned account, or None when no such account
    exists (then the text stays plain, as Mastodon does). The result goes through nh3 anyway so
    that a mistake here can never ship markup we did not mean to allow.
    """
    pieces: list[str] = []
    cursor = 0
    for e in entities:
        pieces.append(html.escape(text[cursor : e.start]))
        raw = text[e.start : e.end]
        if e.kind == "url":
            pieces.append(_link_url(e.value))
        elif e.kind == "mention":
            url = mention_url(e)
            if url is None:
                pieces.append(html.escape(raw))
            else:
                pieces.append(
                    f'<span class="h-card" translate="no"><a href="{html.escape(url)}" '
                    f'class="u-url mention">@<span>{html.escape(e.username)}</span></a></span>'
                )
        else:
            pieces.append(
                f'<a href="{html.escape(tag_url(e.value))}" class="mention hashtag" rel="tag">'
                f"#<span>{html.escape(e.value)}</span></a>"
            )
        cursor = e.end
    pieces.append(html.escape(text[cursor:]))
    body = "".join(pieces).replace("\r\n", "\n")
    paragraphs = [p for p in body.split("\n\n") if p.strip()]
    rendered = "".join(f"<p>{p.strip(chr(10)).replace(chr(10), '<br />')}</p>" for p in paragraphs)
    return sanitize_html(rendered)


#: Built once: ``nh3.clean`` builds its cleaner from the sets on every call (15 µs a note's HTML,
#: 7 µs this way).
_CLEANER = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    link_rel=None,
    url_schemes={"http", "https", "mailto"},
)


def sanitize_html(markup: str) -> str:
    return _CLEANER.clean(markup)


def plain_text_bio_html(text: str) -> str:
    """Profile notes are plain text with line breaks, rendered like a note without links."""
    return render_html(text, [e for e in extract_entities(text) if e.kind == "url"], lambda _: None, str)
