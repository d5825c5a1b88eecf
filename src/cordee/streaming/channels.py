"""Stream names as Mastodon clients send them, and the routing keys the hub files them under."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cordee.api.mastodon.params import id_or_none
from cordee.domain.text import normalize_tag

#: Routing keys: ("user", account) · ("notification", account) · ("direct", account) ·
#: ("public", "all" | "local" | "remote") · ("hashtag", tag, local) · ("list", list id) ·
#: ("tracked", tracked search id).
Key = tuple[object, ...]

READ_STATUSES = "read:statuses"
READ_NOTIFICATIONS = "read:notifications"
READ_LISTS = "read:lists"

PUBLIC_STREAMS = {
    "public": "all",
    "public:local": "local",
    "public:remote": "remote",
}


class StreamError(Exception):
    """A stream that cannot be opened: the message and HTTP status Mastodon gives."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Channel:
    key: Key
    #: The ``stream`` array of WebSocket frames, e.g. ``["user"]`` or ``["hashtag", "cats"]``.
    stream: tuple[str, ...]
    scope: str


def channel_for(name: str, params: Mapping[str, str], account_id: int) -> Channel:
    """The channel for a stream name and its parameters (``tag``, ``list``, ``only_media``)."""
    media = name.endswith(":media") or params.get("only_media", "").lower() in ("1", "true")
    base = name.removesuffix(":media")
    if base in PUBLIC_STREAMS:
        # No note carries media yet: a media-only stream is valid and quiet.
        variant = PUBLIC_STREAMS[base] if not media else "media"
        return Channel(("public", variant), (name,), READ_STATUSES)
    if name == "user":
        return Channel(("user", account_id), (name,), READ_STATUSES)
    if name == "user:notification":
        return Channel(("notification", account_id), (name,), READ_NOTIFICATIONS)
    if name == "direct":
        return Channel(("direct", account_id), (name,), READ_STATUSES)
    if name in ("hashtag", "hashtag:local"):
        tag = params.get("tag", "").strip().lstrip("#")
        if not tag:
            raise StreamError(400, "No tag for stream provided")
        return Channel(("hashtag", normalize_tag(tag), name == "hashtag:local"), (name, tag), READ_STATUSES)
    if name == "list":
        raw = params.get("list", "").strip()
        list_id = id_or_none(raw)
        if list_id is None:
            raise StreamError(400, "No list for stream provided")
        return Channel(("list", list_id), (name, raw), READ_LISTS)
    if name == "cordee:tracked":  # a tracked search's live column (Cordée extension)
        raw = params.get("id", "").strip()
        search_id = id_or_none(raw)
        if search_id is None:
            raise StreamError(400, "No tracked search for stream provided")
        return Channel(("tracked", search_id), (name, raw), READ_STATUSES)
    raise StreamError(400, "Unknown stream type")


#: SSE paths under /api/v1/streaming/ and the stream each one opens.
SSE_PATHS = {
    "user": "user",
    "user/notification": "user:notification",
    "public": "public",
    "public/local": "public:local",
    "public/remote": "public:remote",
    "hashtag": "hashtag",
    "hashtag/local": "hashtag:local",
    "list": "list",
    "direct": "direct",
    "cordee/tracked": "cordee:tracked",
}
