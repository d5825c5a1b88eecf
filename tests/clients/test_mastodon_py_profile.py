"""Mastodon.py, unchanged: avatar and header upload and removal, a custom media thumbnail, and the
v1 filters older apps use (the fixtures are those of ``test_mastodon_py``)."""

from __future__ import annotations

import io
import urllib.request

import pytest
from mastodon import MastodonAPIError, MastodonNotFoundError
from PIL import Image

from tests.clients.test_mastodon_py import NewUser, app_keys, new_user  # noqa: F401 (fixtures)

pytestmark = pytest.mark.clients


def picture(size: tuple[int, int], colour: tuple[int, int, int], fmt: str = "PNG") -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format=fmt)
    out.seek(0)
    return out


def image_at(url: str) -> Image.Image:
    with urllib.request.urlopen(url, timeout=10) as r:  # noqa: S310 (the test server, on loopback)
        return Image.open(io.BytesIO(r.read()))


def test_avatar_and_header(new_user: NewUser) -> None:  # noqa: F811
    alice = new_user("mpavatar")
    note = alice.status_post("Before my new face")
    me = alice.account_update_credentials(
        display_name="Alice",
        avatar=picture((800, 600), (200, 0, 0), "JPEG"),
        avatar_mime_type="image/jpeg",
        header=picture((3000, 1000), (0, 0, 200)),
        header_mime_type="image/png",
    )
    assert me.display_name == "Alice" and "/media/accounts/" in me.avatar
    assert image_at(me.avatar).size == (400, 400) and image_at(me.header).size == (1500, 500)
    assert me.avatar_static == me.avatar
    assert alice.status(note).account.avatar == me.avatar  # at once, where notes show it
    with pytest.raises(MastodonAPIError):
        alice.account_update_credentials(avatar=io.BytesIO(b"not a picture"), avatar_mime_type="image/png")

    cleared = alice.account_delete_avatar()
    assert cleared.avatar.endswith("/static/avatar.png") and cleared.header == me.header
    assert alice.account_delete_header().header.endswith("/static/header.png")


def test_custom_media_thumbnail(new_user: NewUser) -> None:  # noqa: F811
    alice = new_user("mpthumb")
    media = alice.media_post(
        picture((100, 100), (200, 0, 0)),
        mime_type="image/png",
        thumbnail=picture((320, 180), (0, 200, 0)),
        thumbnail_mime_type="image/png",
    )
    assert image_at(media.preview_url).size == (320, 180)
    changed = alice.media_update(
        media, thumbnail=picture((64, 64), (0, 0, 200)), thumbnail_mime_type="image/png"
    )
    assert changed.preview_url != media.preview_url and image_at(changed.preview_url).size == (64, 64)


def test_v1_filters(new_user: NewUser) -> None:  # noqa: F811
    alice, bob = new_user("mpfilta"), new_user("mpfiltb")
    alice.account_follow(bob.me())
    made = alice.filter_create("spoiler", ["home", "public"], irreversible=True, whole_word=False)
    assert made.phrase == "spoiler" and made.context == ["home", "public"] and made.irreversible is True
    assert [f.id for f in alice.filters()] == [made.id] and alice.filter(made).phrase == "spoiler"
    bob.status_post("a spoiler inside")
    kept = bob.status_post("harmless")
    assert [s.id for s in alice.timeline_home()] == [kept.id]
    [v2] = alice.filters_v2()
    assert v2.title == "spoiler" and v2.filter_action == "hide"

    changed = alice.filter_update(made, phrase="finale", context=["thread"], irreversible=False)
    assert changed.phrase == "finale" and changed.context == ["thread"] and changed.irreversible is False
    alice.filter_delete(made)
    assert list(alice.filters()) == []
    with pytest.raises(MastodonNotFoundError):
        alice.filter(made)
