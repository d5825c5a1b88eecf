"""Uploading images, describing them, attaching them to notes, and what is refused."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select, update

from cordee.app import build_app
from cordee.config import Settings
from cordee.db.engine import Database
from cordee.db.tables_media import MediaAttachment
from cordee.db.types import utcnow
from cordee.jobs.runner import run_due
from tests.conftest import BASE_URL, ApiUser, MakeUser


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (120, 80), **save: Any) -> bytes:
    image = Image.new("RGB", size, (200, 40, 40))
    for x in range(0, size[0], 7):  # some detail, so the blurhash has something to say
        for y in range(size[1]):
            image.putpixel((x, y), (20, 40, 220))
    out = io.BytesIO()
    image.save(out, format=fmt, **save)
    return out.getvalue()


async def upload(
    client: httpx.AsyncClient,
    user: ApiUser,
    data: bytes,
    filename: str = "picture.png",
    mime: str = "image/png",
    path: str = "/api/v2/media",
    **fields: str,
) -> httpx.Response:
    return await client.post(path, files={"file": (filename, data, mime)}, data=fields, headers=user.headers)


async def uploaded(client: httpx.AsyncClient, user: ApiUser, **fields: str) -> dict[str, Any]:
    r = await upload(client, user, image_bytes(), **fields)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def stored_files(settings: Settings) -> list[Path]:
    root = settings.data_dir / "media"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def media_rows(db: Database) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count(MediaAttachment.id))) or 0)


async def test_upload_an_image_and_fetch_it(client: httpx.AsyncClient, alice: ApiUser) -> None:
    r = await upload(
        client, alice, image_bytes(), description="A red square with blue stripes", focus="-0.5,0.25"
    )
    assert r.status_code == 200, r.text
    media = r.json()
    assert media["type"] == "image"
    assert media["description"] == "A red square with blue stripes"
    assert media["url"].startswith(f"{BASE_URL}/media/") and media["url"].endswith(".png")
    assert media["preview_url"].startswith(f"{BASE_URL}/media/")
    assert media["remote_url"] is None and media["text_url"] is None
    assert isinstance(media["blurhash"], str) and len(media["blurhash"]) >= 6
    assert media["meta"]["original"] == {"width": 120, "height": 80, "size": "120x80", "aspect": 1.5}
    assert media["meta"]["small"]["width"] == 120  # already small: the preview is not enlarged
    assert media["meta"]["focus"] == {"x": -0.5, "y": 0.25}

    original = await client.get(media["url"].removeprefix(BASE_URL))
    assert original.status_code == 200
    assert original.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(original.content)).size == (120, 80)
    preview = await client.get(media["preview_url"].removeprefix(BASE_URL))
    assert preview.status_code == 200 and preview.headers["content-type"].startswith("image/")

    again = await client.get(f"/api/v1/media/{media['id']}", headers=alice.headers)
    assert again.status_code == 200 and again.json() == media


async def test_v1_upload_and_large_images_get_a_small_preview(
    client: httpx.AsyncClient, alice: ApiUser
) -> None:
    photo = image_bytes("JPEG", (1600, 900))
    r = await upload(client, alice, photo, "photo.jpg", "image/jpeg", "/api/v1/media")
    assert r.status_code == 200, r.text
    meta = r.json()["meta"]
    assert meta["original"]["width"] == 1600 and meta["original"]["height"] == 900
    assert meta["small"]["width"] == 640 and meta["small"]["height"] == 360
    assert "focus" not in meta and r.json()["description"] is None


async def test_exif_orientation_is_applied_then_metadata_is_stripped(
    client: httpx.AsyncClient, alice: ApiUser
) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: shown 90° clockwise
    exif[0x010F] = "Spy camera maker"
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 24.0)}  # a GPS position
    data = image_bytes("JPEG", (300, 200), exif=exif, comment=b"taken at home")
    assert b"Spy camera maker" in data
    r = await upload(client, alice, data, "holiday.jpg", "image/jpeg")
    assert r.status_code == 200, r.text
    media = r.json()
    assert media["meta"]["original"]["width"] == 200 and media["meta"]["original"]["height"] == 300
    stored = (await client.get(media["url"].removeprefix(BASE_URL))).content
    assert b"Spy camera maker" not in stored and b"taken at home" not in stored
    image = Image.open(io.BytesIO(stored))
    assert image.size == (200, 300)
    assert dict(image.getexif()) == {}
    assert "exif" not in image.info and "comment" not in image.info


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
async def test_gif_and_webp_are_accepted(client: httpx.AsyncClient, alice: ApiUser, fmt: str) -> None:
    r = await upload(client, alice, image_bytes(fmt), f"x.{fmt.lower()}", f"image/{fmt.lower()}")
    assert r.status_code == 200, r.text
    assert r.json()["url"].endswith("." + fmt.lower())
    served = await client.get(r.json()["url"].removeprefix(BASE_URL))
    assert served.headers["content-type"] == f"image/{fmt.lower()}"


async def test_the_type_comes_from_the_content_not_the_name(
    client: httpx.AsyncClient, alice: ApiUser
) -> None:
    r = await upload(client, alice, image_bytes("PNG"), "looks-like.jpg", "image/jpeg")
    assert r.status_code == 200, r.text
    assert r.json()["url"].endswith(".png")


async def test_refused_files_store_nothing(
    client: httpx.AsyncClient, alice: ApiUser, settings: Settings, db: Database
) -> None:
    jpeg = image_bytes("JPEG")
    bmp = image_bytes("BMP")
    cases = [
        (b"just some text, not a picture", "cat.png", "not supported"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "vector.svg", "not supported"),
        (bmp, "old.png", "not supported"),
        (jpeg[: len(jpeg) // 2], "cut.jpg", "corrupt"),
        (b"", "empty.png", "empty"),
    ]
    for data, name, reason in cases:
        r = await upload(client, alice, data, name, "image/png")
        assert r.status_code == 422, (name, r.text)
        assert reason in r.json()["error"], (name, r.json())
    no_file = await client.post("/api/v2/media", data={"description": "x"}, headers=alice.headers)
    assert no_file.status_code == 422 and "file" in no_file.json()["error"].lower()
    as_text = await client.post("/api/v2/media", data={"file": "not a file"}, headers=alice.headers)
    assert as_text.status_code == 422
    too_long = await upload(client, alice, image_bytes(), description="x" * 1501)
    assert too_long.status_code == 422 and "1500" in too_long.json()["error"]
    for focus in ("1.5,0", "0", "a,b", "nan,0"):
        bad_focus = await upload(client, alice, image_bytes(), focus=focus)
        assert bad_focus.status_code == 422, focus
    assert stored_files(settings) == []
    assert await media_rows(db) == 0


@pytest.fixture
async def strict_client(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """A server with small limits: 20 KB and 10,000 pixels."""
    app = build_app(replace(settings, image_size_limit=20_000, image_matrix_limit=10_000), database=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as c:
        yield c


async def test_size_limits_are_configurable(
    strict_client: httpx.AsyncClient, alice: ApiUser, settings: Settings, db: Database
) -> None:
    noise = Image.effect_noise((90, 90), 80).convert("RGB")  # small in pixels, big in bytes
    out = io.BytesIO()
    noise.save(out, format="PNG")
    assert len(out.getvalue()) > 20_000
    heavy = await upload(strict_client, alice, out.getvalue())
    assert heavy.status_code == 422 and "too large" in heavy.json()["error"]
    wide = await upload(strict_client, alice, image_bytes("PNG", (200, 60)))
    assert wide.status_code == 422 and "pixels" in wide.json()["error"]
    assert stored_files(settings) == [] and await media_rows(db) == 0

    limits = (await strict_client.get("/api/v2/instance")).json()["configuration"]["media_attachments"]
    assert limits["image_size_limit"] == 20_000 and limits["image_matrix_limit"] == 10_000
    assert (await upload(strict_client, alice, image_bytes("PNG", (100, 60)))).status_code == 200


async def test_instance_advertises_media_limits(client: httpx.AsyncClient) -> None:
    for path in ("/api/v2/instance", "/api/v1/instance"):
        config = (await client.get(path)).json()["configuration"]
        media = config["media_attachments"]
        assert {"image/jpeg", "image/png", "image/gif", "image/webp"} <= set(media["supported_mime_types"])
        assert media["image_size_limit"] == 16 * 1024 * 1024
        assert media["image_matrix_limit"] == 33_177_600
        assert config["statuses"]["max_media_attachments"] == 4


async def test_describe_and_focus_until_attached(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, post: Any
) -> None:
    media = await uploaded(client, alice)
    path = f"/api/v1/media/{media['id']}"
    changes = {"description": "Now described", "focus": "0.1,-0.2"}
    r = await client.put(path, data=changes, headers=alice.headers)
    assert r.status_code == 200, r.text
    assert r.json()["description"] == "Now described"
    assert r.json()["meta"]["focus"] == {"x": 0.1, "y": -0.2}
    assert (await client.put(path, json={"focus": "3,3"}, headers=alice.headers)).status_code == 422
    assert (await client.get(path, headers=alice.headers)).json()["meta"]["focus"] == {"x": 0.1, "y": -0.2}
    # Someone else's media, or an unknown id: not found, and unchanged.
    for other in (path, "/api/v1/media/123456", "/api/v1/media/nope"):
        assert (await client.put(other, data={"description": "mine"}, headers=bob.headers)).status_code == 404
        assert (await client.get(other, headers=bob.headers)).status_code == 404
    assert (await client.delete(path, headers=bob.headers)).status_code == 404
    assert (await client.get(path, headers=alice.headers)).json()["description"] == "Now described"

    await post(alice, "With a picture", media_ids=[media["id"]])
    # Attached: the media API no longer shows or changes it (as Mastodon).
    assert (await client.get(path, headers=alice.headers)).status_code == 404
    assert (await client.put(path, data={"description": "x"}, headers=alice.headers)).status_code == 404


async def test_delete_unattached_media_removes_its_files(
    client: httpx.AsyncClient, alice: ApiUser, settings: Settings
) -> None:
    media = await uploaded(client, alice)
    assert len(stored_files(settings)) == 2
    assert (await client.delete(f"/api/v1/media/{media['id']}", headers=alice.headers)).status_code == 200
    assert stored_files(settings) == []
    assert (await client.get(media["url"].removeprefix(BASE_URL))).status_code == 404
    assert (await client.get(f"/api/v1/media/{media['id']}", headers=alice.headers)).status_code == 404


async def test_attach_media_in_order_and_note_without_text(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, post: Any
) -> None:
    first = await uploaded(client, alice, description="first")
    second = await uploaded(client, alice, description="second")
    # Form style, as Mastodon.py sends it; an empty text is fine when there is media.
    form = {"status": "", "media_ids[]": [second["id"], first["id"]]}
    r = await client.post("/api/v1/statuses", data=form, headers=alice.headers)
    assert r.status_code == 200, r.text
    note = r.json()
    assert [m["id"] for m in note["media_attachments"]] == [second["id"], first["id"]]
    assert note["media_attachments"][1] == first
    assert note["content"] == ""

    shown = (await client.get(f"/api/v1/statuses/{note['id']}")).json()  # anonymous
    assert [m["description"] for m in shown["media_attachments"]] == ["second", "first"]
    timeline = (await client.get(f"/api/v1/accounts/{alice.id}/statuses", headers=bob.headers)).json()
    assert [m["id"] for m in timeline[0]["media_attachments"]] == [second["id"], first["id"]]
    boost = (await client.post(f"/api/v1/statuses/{note['id']}/reblog", headers=bob.headers)).json()
    assert len(boost["reblog"]["media_attachments"]) == 2 and boost["media_attachments"] == []


async def test_wrong_media_ids_refuse_the_note(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, post: Any, db: Database
) -> None:
    mine = await uploaded(client, alice)
    bobs = await uploaded(client, bob)
    used = await uploaded(client, alice)
    await post(alice, "Uses one", media_ids=[used["id"]])
    five = [(await uploaded(client, alice))["id"] for _ in range(5)]
    cases = [
        [bobs["id"]],  # someone else's
        [used["id"]],  # already attached
        ["999999"],  # unknown
        ["not-an-id"],
        [mine["id"], bobs["id"]],
        five,  # more than 4
    ]
    for media_ids in cases:
        r = await client.post(
            "/api/v1/statuses", json={"status": "Look", "media_ids": media_ids}, headers=alice.headers
        )
        assert r.status_code == 422, (media_ids, r.text)
    assert "4" in r.json()["error"]
    no_text = await client.post("/api/v1/statuses", json={"status": " "}, headers=alice.headers)
    assert no_text.status_code == 422
    notes = (await client.get(f"/api/v1/accounts/{alice.id}/statuses")).json()
    assert [n["content"] for n in notes] == ["<p>Uses one</p>"]
    # Nothing was attached by the refused notes: the media are still free to use.
    ok = await post(alice, "Now it works", media_ids=[mine["id"], *five[:3]])
    assert len(ok["media_attachments"]) == 4


async def test_a_token_without_write_media_cannot_upload(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    reader = await make_user("reader", scopes="read")
    r = await upload(client, reader, image_bytes())
    assert r.status_code == 403
    anonymous = await client.post("/api/v2/media", files={"file": ("a.png", image_bytes(), "image/png")})
    assert anonymous.status_code == 401


async def test_unattached_media_are_cleaned_up_and_redraft_keeps_them(
    client: httpx.AsyncClient, alice: ApiUser, post: Any, db: Database, settings: Settings
) -> None:
    forgotten = await uploaded(client, alice)
    kept = await uploaded(client, alice)
    note = await post(alice, "Soon redrafted", media_ids=[kept["id"]])
    async with db.write() as tx:  # both uploaded two days ago
        await tx.session.execute(update(MediaAttachment).values(created_at=utcnow() - timedelta(days=2)))
    deleted = await client.delete(f"/api/v1/statuses/{note['id']}", headers=alice.headers)
    assert deleted.status_code == 200
    assert [m["id"] for m in deleted.json()["media_attachments"]] == [kept["id"]]

    done = await run_due(db, settings)
    assert done["media.remove_unattached"] == 1  # the forgotten upload; the redraft has a day
    assert (await client.get(forgotten["url"].removeprefix(BASE_URL))).status_code == 404
    assert len(stored_files(settings)) == 2
    redraft = await post(alice, "Redrafted", media_ids=[kept["id"]])
    assert [m["id"] for m in redraft["media_attachments"]] == [kept["id"]]
    assert (await run_due(db, settings))["media.remove_unattached"] == 0
    assert await media_rows(db) == 1


async def test_media_kept_for_a_scheduled_note_cannot_be_deleted(
    client: httpx.AsyncClient, alice: ApiUser, settings: Settings
) -> None:
    media = await uploaded(client, alice)
    when = (utcnow() + timedelta(hours=2)).isoformat()
    scheduled = await client.post(
        "/api/v1/statuses",
        json={"status": "Later", "media_ids": [media["id"]], "scheduled_at": when},
        headers=alice.headers,
    )
    assert scheduled.status_code == 200, scheduled.text
    r = await client.delete(f"/api/v1/media/{media['id']}", headers=alice.headers)
    assert r.status_code == 422 and "scheduled" in r.json()["error"]
    assert len(stored_files(settings)) == 2


async def test_only_media_on_timelines_and_profiles(client: httpx.AsyncClient, alice: ApiUser) -> None:
    media = await uploaded(client, alice, description="a picture")
    with_picture = await client.post(
        "/api/v1/statuses", json={"status": "look #pics", "media_ids": [media["id"]]}, headers=alice.headers
    )
    await client.post("/api/v1/statuses", json={"status": "just words #pics"}, headers=alice.headers)
    wanted = [with_picture.json()["id"]]
    for path in (
        "/api/v1/timelines/public",
        "/api/v1/timelines/tag/pics",
        f"/api/v1/accounts/{alice.id}/statuses",
    ):
        r = await client.get(path, params={"only_media": "true"})
        assert [s["id"] for s in r.json()] == wanted, path
        assert len((await client.get(path)).json()) == 2, path
