"""toot 0.52's ``lists`` and ``tags`` commands (and their deprecated ``list_*`` forms), unchanged,
against a running ``cordee serve``. Same setup as test_toot: private toot configuration, users
created with the ``cordee`` CLI, logged in with ``toot login_cli``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.clients.conftest import PASSWORD, Server
from tests.clients.test_toot import TOOT, Toot

pytestmark = pytest.mark.clients


@dataclass(frozen=True)
class Pair:
    me: str
    friend: str


@pytest.fixture(scope="module")
def toot(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Toot:
    if not Path(TOOT).exists():
        pytest.fail(f"toot is not installed at {TOOT}: pip install -e '.[test]'", pytrace=False)
    home = tmp_path_factory.mktemp("toot-lists-home")
    return Toot(home, server.base_url.removeprefix("http://"))


@pytest.fixture(scope="module")
def pair(server: Server, toot: Toot, unique: Callable[[str], str]) -> Pair:
    me, friend = unique("listme"), unique("listfriend")
    for name in (friend, me):  # "me" last: the active account
        created = server.cordee(
            "user", "create", name, "--email", f"{name}@example.org", "--password", PASSWORD
        )
        assert created.returncode == 0, created.stderr
        done = toot.run(
            "login_cli",
            "--instance",
            server.base_url,
            "--email",
            f"{name}@example.org",
            "--password",
            PASSWORD,
        )
        assert "Successfully logged in" in done.stdout
    return Pair(me, friend)


def test_lists(toot: Toot, pair: Pair) -> None:
    assert "You have no lists defined." in toot.run("lists", "list").stdout
    assert (
        'List "Climbers" created.'
        in toot.run("lists", "create", "Climbers", "--replies-policy", "list").stdout
    )
    deprecated = toot.run("list_create", "Old style")
    assert 'List "Old style" created.' in deprecated.stdout
    shown = toot.run("lists", "list").stdout
    assert "Climbers" in shown and "Old style" in shown and "list" in shown
    assert [x["title"] for x in toot.json("lists", "list")] == ["Climbers", "Old style"]

    refused = toot.run("lists", "add", "Climbers", pair.friend, ok=False)
    assert refused.returncode != 0 and f"You must follow @{pair.friend}" in refused.stderr
    toot.run("follow", pair.friend)
    assert f'Added account "{pair.friend}"' in toot.run("lists", "add", "Climbers", pair.friend).stdout
    assert f"@{pair.friend}" in toot.run("lists", "accounts", "Climbers").stdout

    note = toot.json("post", "Sent from the crag", user=pair.friend)
    listed = toot.json("timelines", "list", "Climbers", "--no-pager", "--no-clear")
    assert [s["id"] for s in listed] == [note["id"]]
    assert f"ID {note['id']}" in toot.run("timeline", "--list", "Climbers", "--once").stdout

    assert f'Removed account "{pair.friend}"' in toot.run("lists", "remove", "Climbers", pair.friend).stdout
    assert "This list has no accounts." in toot.run("lists", "accounts", "Climbers").stdout
    assert 'List "Climbers" deleted.' in toot.run("lists", "delete", "Climbers").stdout
    assert 'List "Old style" deleted.' in toot.run("list_delete", "Old style").stdout
    assert toot.json("lists", "list") == []
    # Another user's list cannot be found, by title or by id.
    toot.run("lists", "create", "Private")
    [private] = toot.json("lists", "list")
    gone = toot.run("lists", "delete", "--id", private["id"], user=pair.friend, ok=False)
    assert gone.returncode != 0 and "List not found" in gone.stderr


def test_tags(toot: Toot, pair: Pair) -> None:
    assert "You're not following any hashtags" in toot.run("tags", "followed").stdout
    assert "You are now following #Bouldering" in toot.run("tags", "follow", "#Bouldering").stdout
    followed = toot.run("tags", "followed").stdout
    assert "#bouldering" in followed and "/tags/bouldering" in followed
    assert [t["name"] for t in toot.json("tags", "followed")] == ["bouldering"]

    note = toot.json("post", "Sending it #bouldering", user=pair.friend)
    home = toot.json("timelines", "home", "--no-pager", "--no-clear")
    assert note["id"] in [s["id"] for s in home]
    info = toot.run("tags", "info", "bouldering").stdout
    assert "#bouldering" in info and "\nFollowed" in info

    assert "You are no longer following #bouldering" in toot.run("tags", "unfollow", "bouldering").stdout
    assert toot.json("tags", "followed") == []

    assert "Tag #bouldering is now featured" in toot.run("tags", "feature", "bouldering").stdout
    featured = toot.run("tags", "featured").stdout
    assert "bouldering" in featured.lower()
    assert "is no longer featured" in toot.run("tags", "unfeature", "bouldering").stdout
    assert "You don't have any featured hashtags" in toot.run("tags", "featured").stdout
