"""toot, unchanged, posting a picture with alt text and a poll to a running ``cordee serve``
(the fixtures are those of ``test_toot``: a private toot configuration, Alice and Bob logged in)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.clients.conftest import Server
from tests.clients.test_toot import Toot, Users, toot, users  # noqa: F401 (fixtures)

pytestmark = pytest.mark.clients


def test_post_with_media_and_description(toot: Toot, users: Users, server: Server, tmp_path: Path) -> None:  # noqa: F811
    picture = tmp_path / "sunset.png"
    Image.new("RGB", (64, 48), (250, 120, 30)).save(picture)

    note = toot.json("post", "Sunset tonight", "--media", str(picture), "--description", "An orange sky")
    [media] = note["media_attachments"]
    assert media["type"] == "image" and media["description"] == "An orange sky"
    assert media["meta"]["original"]["width"] == 64 and media["blurhash"]
    served = httpx.get(media["url"], timeout=10)
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"

    shown = toot.run("status", note["id"]).stdout
    assert "Sunset tonight" in shown and media["url"] in shown

    out = toot.run("post", "--media", str(picture), "--description", "Same sky, no words").stdout
    assert out.startswith(f"Toot posted: http://{toot.domain}/@{users.alice}/")


def test_post_a_poll_and_vote(toot: Toot, users: Users, server: Server) -> None:  # noqa: F811
    note = toot.json(
        "post", "Lunch?", "--poll-option", "Soup", "--poll-option", "Salad", "--poll-expires-in", "1h"
    )
    poll = note["poll"]
    assert [o["title"] for o in poll["options"]] == ["Soup", "Salad"]
    assert poll["multiple"] is False and poll["expired"] is False
    assert "Soup" in toot.run("status", note["id"]).stdout

    multiple = toot.json(
        "post",
        "Toppings?",
        "--poll-option",
        "Cheese",
        "--poll-option",
        "Olives",
        "--poll-multiple",
        "--poll-hide-totals",
        user=users.bob,
    )
    assert multiple["poll"]["multiple"] is True
    assert [o["votes_count"] for o in multiple["poll"]["options"]] == [None, None]
