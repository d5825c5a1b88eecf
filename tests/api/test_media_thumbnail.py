"""A custom thumbnail for media (``thumbnail`` on ``POST /api/v2/media`` and ``PUT /api/v1/media/:id``):
processed like an image and served as the ``preview_url``, as Mastodon does."""

from __future__ import annotations

import io
from typing import Any

import httpx
from PIL import Image

from cordee.config import Settings
from tests.api.test_media import image_bytes, stored_files
from tests.conftest import BASE_URL, ApiUser


def green(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "Spy camera maker"
    Image.new("RGB", size, (10, 220, 10)).save(out, format="JPEG", exif=exif)
    return out.getvalue()


def is_green(image: Image.Image) -> bool:
    red, green, blue = image.convert("RGB").getpixel((5, 5))  # type: ignore[misc]
    return bool(green > 200 and red < 50)


async def preview_of(client: httpx.AsyncClient, media: dict[str, Any]) -> Image.Image:
    r = await client.get(media["preview_url"].removeprefix(BASE_URL))
    assert r.status_code == 200
    assert b"Spy camera maker" not in r.content
    return Image.open(io.BytesIO(r.content))


async def test_a_thumbnail_given_at_upload_is_the_preview(
    client: httpx.AsyncClient, alice: ApiUser, settings: Settings
) -> None:
    r = await client.post(
        "/api/v2/media",
        files={
            "file": ("red.png", image_bytes(), "image/png"),
            "thumbnail": ("t.jpg", green((1280, 720)), "image/jpeg"),
        },
        headers=alice.headers,
    )
    assert r.status_code == 200, r.text
    media = r.json()
    preview = await preview_of(client, media)
    assert preview.size == (640, 360)
    assert is_green(preview)  # the thumbnail, not the image
    assert media["meta"]["small"]["width"] == 640 and media["meta"]["small"]["height"] == 360
    assert media["meta"]["original"]["width"] == 120  # the image itself is untouched
    assert len(stored_files(settings)) == 2


async def test_a_thumbnail_can_be_set_later_and_bad_ones_are_refused(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, settings: Settings
) -> None:
    media = (
        await client.post(
            "/api/v2/media", files={"file": ("r.png", image_bytes(), "image/png")}, headers=alice.headers
        )
    ).json()
    before = media["preview_url"]
    url = f"/api/v1/media/{media['id']}"
    r = await client.put(
        url,
        files={"thumbnail": ("t.jpg", green((300, 300)), "image/jpeg")},
        data={"description": "with a thumbnail"},
        headers=alice.headers,
    )
    assert r.status_code == 200, r.text
    changed = r.json()
    assert changed["description"] == "with a thumbnail" and changed["preview_url"] != before
    preview = await preview_of(client, changed)
    assert preview.size == (300, 300) and is_green(preview)
    assert (await client.get(before.removeprefix(BASE_URL))).status_code == 404  # the old one is gone
    assert len(stored_files(settings)) == 2
    assert (await client.get(url, headers=alice.headers)).json() == changed

    # Refused: not an image (nothing changes), or someone else's media.
    bad = await client.put(url, files={"thumbnail": ("t.jpg", b"nope", "image/jpeg")}, headers=alice.headers)
    assert bad.status_code == 422 and "File type is not supported" in bad.json()["error"]
    other = await client.put(
        url, files={"thumbnail": ("t.jpg", green((50, 50)), "image/jpeg")}, headers=bob.headers
    )
    assert other.status_code == 404
    assert (await client.get(url, headers=alice.headers)).json() == changed
    refused = await client.post(
        "/api/v2/media",
        files={"file": ("r.png", image_bytes(), "image/png"), "thumbnail": ("t.gif", b"GIF89a", "image/gif")},
        headers=alice.headers,
    )
    assert refused.status_code == 422, refused.text
    assert len(stored_files(settings)) == 2
