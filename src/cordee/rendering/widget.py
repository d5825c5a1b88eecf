"""The widget's compact note: a few fields cut from the Mastodon entity ``render_statuses`` built
(no second renderer: the content is the entity's, already sanitised), and nothing that would make
the host page's visitors ask another site for something (pictures elsewhere are dropped)."""

from __future__ import annotations

from typing import Any

from cordee.config import Settings


def _here(settings: Settings, url: object) -> str | None:
    """``url`` when it is on this instance (an avatar or picture from another host would be a
    third-party request from every page the widget is on)."""
    if isinstance(url, str) and (url.startswith(settings.base_url + "/") or url.startswith("/")):
        return url
    return None


def compact_note(settings: Settings, entity: dict[str, Any]) -> dict[str, Any]:
    media = [
        {
            "type": m["type"],
            "url": _here(settings, m.get("url")),
            "preview_url": _here(settings, m.get("preview_url")),
            "description": m.get("description") or "",
        }
        for m in entity.get("media_attachments") or ()
        if m.get("type") == "image" and _here(settings, m.get("preview_url"))
    ]
    return {
        "id": entity["id"],
        "url": entity["url"],
        "created_at": entity["created_at"],
        "edited_at": entity.get("edited_at"),
        "content": entity["content"],
        "spoiler_text": entity.get("spoiler_text") or "",
        "sensitive": bool(entity.get("sensitive")),
        "language": entity.get("language"),
        "account": compact_account(settings, entity["account"]),
        "media": media,
    }


def compact_account(settings: Settings, entity: dict[str, Any]) -> dict[str, Any]:
    return {
        "acct": entity["acct"],
        "display_name": entity.get("display_name") or entity["username"],
        "url": entity["url"],
        "avatar": _here(settings, entity.get("avatar_static") or entity.get("avatar")),
    }
