"""Video and audio uploads waiting to be processed: files in ``<data_dir>/media-incoming``, a
directory the web server never serves (the upload is the sender's bytes, unchecked until the job has
transcoded them). The database row names the file (``incoming_key``); the file goes when the row is
processed or removed. Several server processes of one instance share ``data_dir``, as they share
the local media storage.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
from pathlib import Path

from cordee.config import Settings


def root(settings: Settings) -> Path:
    return settings.data_dir / "media-incoming"


def path(settings: Settings, key: str) -> Path:
    if not key or "/" in key or key.startswith(".") or "\\" in key:
        raise ValueError(f"invalid incoming key {key!r}")
    return root(settings) / key


def _write(target_dir: Path, key: str, data: bytes) -> None:
    target_dir.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target_dir, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())  # the row that names it is committed next: the file must be there
        os.replace(temporary, target_dir / key)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


async def put(settings: Settings, media_id: int, data: bytes) -> str:
    """Keep an upload until it is processed; returns its key."""
    key = f"{media_id}-{secrets.token_urlsafe(9)}"
    await asyncio.to_thread(_write, root(settings), key, data)
    return key


async def delete(settings: Settings, key: str | None) -> None:
    if key:
        await asyncio.to_thread(path(settings, key).unlink, True)
