"""PreviewCard entities for trending links (we fetch nothing: the title is the URL itself)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from cordee.queries.trends import TrendingLink


def render_trending_link(link: TrendingLink) -> dict[str, Any]:
    parts = urlsplit(link.url)
    return {
        "url": link.url,
        "title": link.url,
        "description": "",
        "type": "link",
        "authors": [],
        "author_name": "",
        "author_url": "",
        "provider_name": parts.hostname or "",
        "provider_url": f"{parts.scheme}://{parts.netloc}" if parts.netloc else "",
        "html": "",
        "width": 0,
        "height": 0,
        "image": None,
        "image_description": "",
        "embed_url": "",
        "blurhash": None,
        "published_at": None,
        "history": link.history(),
    }
