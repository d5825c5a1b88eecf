"""Where media files live: a small interface, and the local-disk implementation.

``LocalStorage`` keeps files under ``<data_dir>/media`` and the app serves them at
``<base_url>/media/…``. Another implementation (an S3-compatible bucket) only has to store, delete
and name files by key; the database keeps keys, never URLs, so moving storage moves every URL.
"""

from __future__ import annotations

import asyncio
import mimetypes
import os
import tempfile
from pathlib import Path, PurePosixPath
from typing import Protocol

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from cordee.config import Settings

MEDIA_PATH = "/media"
# Served with the right type even where the system's MIME table lacks it (Python < 3.13 does).
mimetypes.add_type("image/webp", ".webp")


class MediaStorage(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key`` (replacing any file there), durably."""

    async def delete(self, key: str) -> None:
        """Remove the file at ``key``; removing a missing file is not an error."""

    def url(self, key: str) -> str:
        """The public URL of the file at ``key``."""


def _checked(key: str) -> PurePosixPath:
    path = PurePosixPath(key)
    if not key or path.is_absolute() or any(part in ("", ".", "..") for part in path.parts):
        raise ValueError(f"invalid media key {key!r}")
    return path


class LocalStorage:
    """Files in a directory of this machine, written atomically (temporary file, then rename)."""

    def __init__(self, root: Path, base_url: str) -> None:
        self.root = root
        self.base_url = base_url.rstrip("/")

    def path(self, key: str) -> Path:
        return self.root.joinpath(*_checked(key).parts)

    def _write(self, key: str, data: bytes) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o644)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def _remove(self, key: str) -> None:
        target = self.path(key)
        target.unlink(missing_ok=True)
        # Drop the directories the key created, up to the root, once they are empty.
        parent = target.parent
        while parent != self.root and self.root in parent.parents:
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._write, key, data)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._remove, key)

    def url(self, key: str) -> str:
        return f"{self.base_url}/{_checked(key)}"


def storage_for(settings: Settings) -> MediaStorage:
    """The media storage the settings describe (local disk, for now)."""
    return LocalStorage(settings.data_dir / "media", settings.base_url + MEDIA_PATH)


def routes(settings: Settings) -> list[BaseRoute]:
    """Serve locally stored media at ``/media`` (with another storage, its own URLs are used)."""
    storage = storage_for(settings)
    if not isinstance(storage, LocalStorage):
        return []
    return [Mount(MEDIA_PATH, StaticFiles(directory=storage.root, check_dir=False), name="media")]
