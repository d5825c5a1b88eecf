"""Avatar and header uploads (``PATCH /api/v1/accounts/update_credentials``) and their removal
(``DELETE /api/v1/profile/avatar|header``), processed as Mastodon does: cropped to 400×400 and
1500×500, metadata dropped, an animated avatar kept animated with a still ``avatar_static``."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from PIL import Image

from cordee.config import Settings
from tests.api.test_media import image_bytes, stored_files
from tests.conftest import BASE_URL, ApiUser, MakeUser

Post = Callable[..., Awaitable[dict[str, Any]]]
DEFAULT_AVATAR = f"{BASE_URL}/static/avatar.png"
DEFAULT_HEADER = f"{BASE_URL}/static/header.png"


def animated_gif(size: tuple[int, int] = (200, 100), frames: int = 3) -> bytes:
    images = [Image.new("RGB", size, colour) for colour in ((250, 0, 0), (0, 250, 0), (0, 0, 250))[:frames]]
    out = io.BytesIO()
    images[0].save(out, format="GIF", save_all=True, append_images=images[1:], duration=100, loop=0)
    return out.getvalue()


async def fetched(client: httpx.AsyncClient, url: str) -> Image.Image:
    assert url.startswith(f"{BASE_URL}/media/accounts/"), url
    r = await client.get(url.removeprefix(BASE_URL))
    assert r.status_code == 200, url
    return Image.open(io.BytesIO(r.content))


async def update(client: httpx.AsyncClient, user: ApiUser, **files: tuple[str, bytes, str]) -> httpx.Response:
    return await client.patch(
        "/api/v1/accounts/update_credentials", files=files, data={"display_name": "New"}, headers=user.headers
    )


async def test_avatar_and_header_are_cropped_cleaned_and_shown_at_once(
    client: httpx.AsyncClient, alice: ApiUser, post: Post
) -> None:
    note = await post(alice, "before the new avatar")
    shown = (await client.get(f"/api/v1/statuses/{note['id']}", headers=alice.headers)).json()
    assert shown["account"]["avatar"] == DEFAULT_AVATAR  # now cached

    exif = Image.Exif()
    exif[0x010F] = "Spy camera maker"
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 24.0)}  # a GPS position
    photo = image_bytes("JPEG", (1000, 600), exif=exif)
    r = await update(
        client,
        alice,
        avatar=("me.jpg", photo, "image/jpeg"),
        header=("banner.png", image_bytes("PNG", (900, 900)), "image/png"),
    )
    assert r.status_code == 200, r.text
    me = r.json()
    assert me["display_name"] == "New" and "source" in me
    assert me["avatar"].endswith(".jpg") and me["avatar_static"] == me["avatar"]
    assert me["header"].endswith(".png") and me["header_static"] == me["header"]
    avatar = await fetched(client, me["avatar"])
    assert avatar.size == (400, 400) and avatar.format == "JPEG"
    assert dict(avatar.getexif()) == {}
    assert b"Spy camera maker" not in (await client.get(me["avatar"].removeprefix(BASE_URL))).content
    assert (await fetched(client, me["header"])).size == (1500, 500)

    # Everywhere at once: the status (its cached account body dropped), the account, verify.
    shown = (await client.get(f"/api/v1/statuses/{note['id']}", headers=alice.headers)).json()
    assert shown["account"]["avatar"] == me["avatar"] and shown["account"]["header"] == me["header"]
    account = (await client.get(f"/api/v1/accounts/{alice.id}")).json()
    assert (account["avatar"], account["avatar_static"]) == (me["avatar"], me["avatar"])
    verified = await client.get("/api/v1/accounts/verify_credentials", headers=alice.headers)
    assert verified.json()["avatar"] == me["avatar"]


async def test_an_animated_avatar_stays_animated_with_a_still_static(
    client: httpx.AsyncClient, alice: ApiUser
) -> None:
    r = await update(client, alice, avatar=("cat.gif", animated_gif(), "image/gif"))
    assert r.status_code == 200, r.text
    me = r.json()
    assert me["avatar"].endswith(".gif") and me["avatar_static"].endswith(".png")
    animated = await fetched(client, me["avatar"])
    assert animated.size == (400, 400) and getattr(animated, "n_frames", 1) == 3
    still = await fetched(client, me["avatar_static"])
    assert still.size == (400, 400) and still.format == "PNG"
    red, green, _ = still.convert("RGB").getpixel((200, 200))  # type: ignore[misc]
    assert red > 200 and green < 50  # the first (red) frame


async def test_replacing_and_deleting_remove_the_old_files(
    client: httpx.AsyncClient, alice: ApiUser, settings: Settings, post: Post
) -> None:
    first = (await update(client, alice, avatar=("cat.gif", animated_gif(), "image/gif"))).json()
    assert len(stored_files(settings)) == 2  # the animation and its static frame
    second = (await update(client, alice, avatar=("me.png", image_bytes(), "image/png"))).json()
    assert second["avatar"] != first["avatar"]
    assert (await client.get(first["avatar"].removeprefix(BASE_URL))).status_code == 404
    header = (await update(client, alice, header=("h.png", image_bytes(), "image/png"))).json()
    assert len(stored_files(settings)) == 2

    note = await post(alice, "cached")
    await client.get(f"/api/v1/statuses/{note['id']}")
    r = await client.delete("/api/v1/profile/avatar", headers=alice.headers)
    assert r.status_code == 200, r.text
    assert r.json()["avatar"] == DEFAULT_AVATAR and r.json()["avatar_static"] == DEFAULT_AVATAR
    assert r.json()["header"] == header["header"] and "source" in r.json()
    shown = (await client.get(f"/api/v1/statuses/{note['id']}")).json()
    assert shown["account"]["avatar"] == DEFAULT_AVATAR
    r = await client.delete("/api/v1/profile/header", headers=alice.headers)
    assert r.json()["header"] == DEFAULT_HEADER
    assert stored_files(settings) == []
    # Deleting again is fine (Mastodon answers the account as it is).
    assert (await client.delete("/api/v1/profile/avatar", headers=alice.headers)).status_code == 200


async def test_refused_pictures_change_nothing(
    client: httpx.AsyncClient, alice: ApiUser, settings: Settings, make_user: MakeUser
) -> None:
    for files, needle in (
        ({"avatar": ("notes.txt", b"not an image at all", "image/png")}, "File type is not supported"),
        ({"header": ("empty.png", b"", "image/png")}, "File is empty"),
        (
            {
                "avatar": ("me.png", image_bytes(), "image/png"),
                "header": ("big.png", b"\x89PNG" + b"0" * (8 * 1024 * 1024 + 10), "image/png"),
            },
            "too large",
        ),
    ):
        r = await update(client, alice, **files)
        assert r.status_code == 422, r.text
        assert needle in r.json()["error"], r.json()
    bomb = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(bomb, format="PNG")  # a few KB, 100 million pixels
    r = await update(client, alice, avatar=("bomb.png", bomb.getvalue(), "image/png"))
    assert r.status_code == 422 and "Image is too large" in r.json()["error"], r.text
    text = await client.patch(
        "/api/v1/accounts/update_credentials",
        data={"avatar": "http://elsewhere/x.png"},
        headers=alice.headers,
    )
    assert text.status_code == 422 and "must be a file" in text.json()["error"]
    me = (await client.get("/api/v1/accounts/verify_credentials", headers=alice.headers)).json()
    assert me["display_name"] == "" and me["avatar"] == DEFAULT_AVATAR and me["header"] == DEFAULT_HEADER
    assert stored_files(settings) == []

    # An empty field or a JSON null is no picture, not an error.
    blank = await client.patch(
        "/api/v1/accounts/update_credentials",
        json={"avatar": None, "header": "", "note": "hi"},
        headers=alice.headers,
    )
    assert blank.status_code == 200 and blank.json()["avatar"] == DEFAULT_AVATAR, blank.text

    reader = await make_user("reader", scopes="read")
    assert (await client.delete("/api/v1/profile/avatar", headers=reader.headers)).status_code == 403
