"""Mastodon.py, unchanged: a video posted with ``synchronous=True`` (it polls ``GET
/api/v1/media/:id`` until the server's job has processed the file), then in a note; and a file
whose declared type is a lie."""

from __future__ import annotations

import time

import pytest
from mastodon import MastodonAPIError

from tests import av_samples
from tests.clients.test_mastodon_py import NewUser, app_keys, new_user  # noqa: F401 (fixtures)

pytestmark = pytest.mark.clients


def test_video_upload_waits_until_processed(new_user: NewUser, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    # Mastodon.py waits five seconds between polls; the server needs about one (a tick of its job).
    pause = time.sleep
    monkeypatch.setattr("mastodon.media.time.sleep", lambda _: pause(0.2))
    alice = new_user("mpvideo")
    media = alice.media_post(av_samples.video(), mime_type="video/mp4", description="A short clip",
                             synchronous=True)  # fmt: skip
    assert media.type == "video" and media.url.endswith(".mp4") and media.preview_url.endswith(".jpg")
    assert media.meta.original.width == 64 and media.meta.original.frame_rate == "10/1"
    assert media.meta.audio_encode == "aac" and media.description == "A short clip"

    note = alice.status_post("A clip", media_ids=[media])
    assert note.media_attachments[0].type == "video" and note.media_attachments[0].url == media.url

    with pytest.raises(MastodonAPIError, match="does not match its content"):
        alice.media_post(av_samples.video(), mime_type="image/png")
