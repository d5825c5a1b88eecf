"""Where an account's avatar and header are kept, and their URLs.

``accounts.avatar_url`` and ``accounts.header_url`` hold storage *keys*, not URLs (so moving the
storage moves every URL, as for media): ``"<key>"`` for a still image, ``"<key> <static key>"`` for
an animation, whose first frame is kept as a PNG for ``avatar_static``/``header_static`` (what
Mastodon serves to those who asked not to see animations). Keys never hold a space. A value that is
a full URL (``http…``) is used as it is; an empty one means the instance's default picture.
"""

from __future__ import annotations

import secrets

from cordee.config import Settings
from cordee.media.images import ProcessedImage
from cordee.media.storage import MediaStorage, storage_for

#: Mastodon's avatar limit (with libvips); headers have the same.
PROFILE_IMAGE_LIMIT = 8 * 1024 * 1024
DEFAULTS = {"avatar": "/static/avatar.png", "header": "/static/header.png"}


def keys_of(value: str) -> list[str]:
    """The storage keys a column value refers to (none for a URL or the default)."""
    if not value or value.startswith(("http://", "https://")):
        return []
    return value.split(" ")


def urls(settings: Settings, value: str, kind: str) -> tuple[str, str]:
    """``(url, static_url)`` of an avatar or a header column value."""
    if not value:
        default = settings.base_url + DEFAULTS[kind]
        return default, default
    keys = keys_of(value)
    if not keys:
        return value, value
    storage = storage_for(settings)
    return storage.url(keys[0]), storage.url(keys[-1])


async def store(storage: MediaStorage, account_id: int, kind: str, image: ProcessedImage) -> str:
    """Write the processed image (and its static frame, for an animation); returns the column value."""
    # A random part: a new picture gets a new URL (no stale caches), unguessable from the id.
    prefix = f"accounts/{account_id}/{kind}-{secrets.token_urlsafe(9)}"
    key = f"{prefix}/original.{image.original.extension}"
    await storage.put(key, image.original.data, image.original.content_type)
    if image.small is image.original or image.small.data == image.original.data:
        return key
    static_key = f"{prefix}/static.{image.small.extension}"
    try:
        await storage.put(static_key, image.small.data, image.small.content_type)
    except BaseException:
        await storage.delete(key)
        raise
    return f"{key} {static_key}"


async def remove(storage: MediaStorage, value: str) -> None:
    for key in keys_of(value):
        await storage.delete(key)
