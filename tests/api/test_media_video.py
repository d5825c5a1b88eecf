"""Video and audio uploads, as Mastodon: 202 and no ``url`` while processing, 206 from ``GET
/api/v1/media/:id``, 200 once the job (stepped inline here) has transcoded them; notes refuse them
until then; hostile files answer 422."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from cordee.actions.media import NOT_READY
from cordee.actions.media_video import LEASE, process_pending
from cordee.app import build_app
from cordee.config import Settings
from cordee.db.engine import Database
from cordee.db.tables_media import MediaAttachment
from cordee.db.types import utcnow
from cordee.media.av_workers import shared_workers
from tests import av_samples
from tests.api.test_media import image_bytes, stored_files
from tests.conftest import BACKENDS, BASE_URL, ApiUser


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """SQLite for most of these tests (the media work is the same); the main one runs on both."""
    return str(request.param)


@pytest.fixture
def app(settings: Settings, db: Database) -> Any:
    return build_app(settings, database=db, run_jobs=False)  # the job is stepped by the tests


async def _upload(
    client: httpx.AsyncClient,
    user: ApiUser,
    data: bytes,
    name: str = "clip.mp4",
    mime: str = "video/mp4",
    path: str = "/api/v2/media",
    **files: tuple[str, bytes, str],
) -> httpx.Response:
    return await client.post(path, files={"file": (name, data, mime), **files}, headers=user.headers)


async def _step(db: Database, settings: Settings) -> int:
    return await process_pending(db, settings, shared_workers(settings))


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
async def test_video_is_processed_later_then_posted(
    client: httpx.AsyncClient, db: Database, settings: Settings, alice: ApiUser
) -> None:
    r = await _upload(client, alice, av_samples.video())
    assert r.status_code == 202, r.text
    media = r.json()
    assert media["type"] == "video" and media["url"] is None and media["preview_url"] is None
    shown = await client.get(f"/api/v1/media/{media['id']}", headers=alice.headers)
    assert shown.status_code == 206 and shown.json()["url"] is None
    early = await client.post("/api/v1/statuses", data={"status": "Too soon", "media_ids[]": media["id"]},
                              headers=alice.headers)  # fmt: skip
    assert early.status_code == 422 and early.json()["error"] == NOT_READY
    plain = await client.post("/api/v1/statuses", data={"status": "Plain"}, headers=alice.headers)
    edit = await client.put(f"/api/v1/statuses/{plain.json()['id']}", headers=alice.headers,
                            data={"status": "Plain", "media_ids[]": media["id"]})  # fmt: skip
    assert edit.status_code == 422 and edit.json()["error"] == NOT_READY

    assert await _step(db, settings) == 1
    done = await client.get(f"/api/v1/media/{media['id']}", headers=alice.headers)
    assert done.status_code == 200, done.text
    media = done.json()
    assert media["url"].startswith(f"{BASE_URL}/media/") and media["url"].endswith(".mp4")
    assert media["preview_url"].endswith(".jpg") and len(media["blurhash"]) >= 6
    meta = media["meta"]
    assert meta["original"]["width"] == 64 and meta["original"]["height"] == 64
    assert meta["original"]["frame_rate"] == "10/1" and meta["fps"] == 10
    assert 0.9 <= meta["original"]["duration"] <= 1.2 and meta["original"]["bitrate"] > 0
    assert meta["length"].startswith("0:00:01") and meta["size"] == "64x64" and meta["aspect"] == 1.0
    assert (meta["audio_encode"], meta["audio_channels"]) == ("aac", "mono")
    assert meta["small"] == {"width": 64, "height": 64, "size": "64x64", "aspect": 1.0}
    stored = await client.get(media["url"].removeprefix(BASE_URL))
    assert stored.status_code == 200 and stored.content[4:8] == b"ftyp"

    note = await client.post("/api/v1/statuses", data={"status": "A clip", "media_ids[]": media["id"]},
                             headers=alice.headers)  # fmt: skip
    assert note.status_code == 200, note.text
    assert note.json()["media_attachments"][0]["type"] == "video"
    assert note.json()["media_attachments"][0]["meta"]["original"]["frame_rate"] == "10/1"
    # Nothing of the upload is left waiting, and nothing in the public tree but the two renditions.
    assert not list((settings.data_dir / "media-incoming").glob("*"))
    assert len(stored_files(settings)) == 2


async def test_audio_with_a_custom_thumbnail_and_v1_answers_when_done(
    client: httpx.AsyncClient, db: Database, settings: Settings, alice: ApiUser
) -> None:
    r = await _upload(client, alice, av_samples.audio("ogg"), "tone.ogg", "audio/ogg",
                      thumbnail=("cover.png", image_bytes(), "image/png"))  # fmt: skip
    assert r.status_code == 202, r.text
    # The thumbnail keeps its format (PNG), as Mastodon keeps it.
    assert r.json()["type"] == "audio" and r.json()["preview_url"].endswith(".png")
    assert await _step(db, settings) == 1
    media = (await client.get(f"/api/v1/media/{r.json()['id']}", headers=alice.headers)).json()
    assert media["url"].endswith(".mp3") and media["preview_url"] == r.json()["preview_url"]  # kept
    meta = media["meta"]
    assert meta["audio_encode"] == "mp3" and meta["audio_channels"] == "mono"
    assert meta["audio_bitrate"] == "48000 Hz" and 0.9 <= meta["duration"] <= 1.2
    assert set(meta["original"]) == {"duration", "bitrate"} and "width" not in meta

    # v1 processes before answering, as Mastodon's v1 did; the cover art of an MP3 is its preview.
    v1 = await _upload(
        client, alice, av_samples.audio_with_cover(), "tone.mp3", "audio/mpeg", path="/api/v1/media"
    )
    assert v1.status_code == 200, v1.text
    assert v1.json()["url"].endswith(".mp3") and v1.json()["preview_url"].endswith(".jpg")
    assert v1.json()["meta"]["small"]["width"] == 48 and v1.json()["blurhash"]


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
async def test_an_abandoned_claim_is_taken_again(
    client: httpx.AsyncClient, db: Database, settings: Settings, alice: ApiUser
) -> None:
    # Odd sides (H.264 in yuv420p wants even ones), and filmed in portrait: turned upright.
    clip = av_samples.video((63, 45), rotation=270)
    r = await _upload(client, alice, clip, "clip.mov", "video/quicktime")
    assert r.status_code == 202, r.text
    # As if a server had claimed it and died: the claim has not been renewed for too long.
    async with db.write() as tx:
        await tx.session.execute(
            update(MediaAttachment).values(
                processing="in_progress", processing_attempts=1,
                processing_started_at=utcnow() - LEASE - timedelta(seconds=1),
            )
        )  # fmt: skip
    assert await _step(db, settings) == 1
    done = await client.get(f"/api/v1/media/{r.json()['id']}", headers=alice.headers)
    assert done.status_code == 200 and done.json()["url"].endswith(".mp4")
    assert done.json()["meta"]["size"] == "44x62" and done.json()["meta"]["small"]["width"] == 44


@pytest.fixture
async def strict(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """A server with small limits: 2 seconds, 4,000 pixels, images of 5,000 bytes."""
    small = replace(settings, media_duration_limit=2, video_matrix_limit=4000, image_size_limit=5000)
    app = build_app(small, database=db, run_jobs=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as c:
        yield c


async def test_hostile_files_are_refused(strict: httpx.AsyncClient, alice: ApiUser) -> None:
    clip = av_samples.video()
    cases = [
        (clip, "video/mp4", "Video is too large: 64×64 pixels"),  # 4,096 > 4,000
        (av_samples.video((32, 32), seconds=3, fps=2), "video/mp4", "File is too long"),
        (clip, "image/png", "File type does not match its content"),
        (av_samples.audio("matroska", 0.05, streams=9), "audio/webm", "more than 8 streams"),
    ]
    for data, mime, reason in cases:
        r = await _upload(strict, alice, data, mime=mime)
        assert r.status_code == 422, (reason, r.text)
        assert reason in r.json()["error"], r.json()
    # Within the limits: taken, although larger than an image may be (the body limit follows).
    small = av_samples.video((32, 32), seconds=1, fps=2)
    assert len(small) > 5000
    assert (await _upload(strict, alice, small)).status_code == 202


async def test_a_truncated_file_fails_in_processing(
    client: httpx.AsyncClient, db: Database, settings: Settings, alice: ApiUser
) -> None:
    clip = av_samples.video()
    r = await _upload(client, alice, clip[: len(clip) * 2 // 3])
    assert r.status_code == 202, r.text  # its index comes first and is whole: only decoding finds out
    assert await _step(db, settings) == 1
    failed = await client.get(f"/api/v1/media/{r.json()['id']}", headers=alice.headers)
    assert failed.status_code == 422
    assert failed.json()["error"].startswith("Error processing uploaded media: File could not be")
    assert not list((settings.data_dir / "media-incoming").glob("*")) and not stored_files(settings)
    gone = await client.delete(f"/api/v1/media/{r.json()['id']}", headers=alice.headers)
    assert gone.status_code == 200


async def test_limits_are_advertised(client: httpx.AsyncClient, settings: Settings) -> None:
    for path in ("/api/v2/instance", "/api/v1/instance"):
        config = (await client.get(path)).json()["configuration"]["media_attachments"]
        assert {"video/mp4", "video/webm", "audio/mpeg", "audio/ogg"} <= set(config["supported_mime_types"])
        assert config["video_size_limit"] == settings.video_size_limit
        assert config["video_frame_rate_limit"] == 120 and config["video_matrix_limit"] == 8_294_400
