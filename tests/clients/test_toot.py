"""The ``toot`` CLI, unchanged, run as a subprocess against a running ``cordee serve``.

toot keeps its apps and tokens in ``$XDG_CONFIG_HOME/toot/config.json``: every run here gets a
temporary HOME and XDG_CONFIG_HOME, so the real user's configuration is never read or written.

Alice is created with ``cordee user create`` on the server's data directory, Bob signs up through
the API; both log in with ``toot login_cli`` (the OAuth password grant), and ``--as`` picks who acts.
Commands that print JSON with ``--json`` are checked on that; the human-readable output is checked
too, because that is where toot parses the entities into its own strict dataclasses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.clients.conftest import PASSWORD, Server

pytestmark = pytest.mark.clients

OOB = "urn:ietf:wg:oauth:2.0:oob"
# The toot installed next to the Python running the tests (the project's virtualenv).
TOOT = str(Path(sys.executable).with_name("toot"))


@dataclass(frozen=True)
class Toot:
    """Runs toot with a private configuration directory."""

    home: Path
    domain: str

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TOOT_", "XDG_"))}
        env.update(
            HOME=str(self.home), XDG_CONFIG_HOME=str(self.home / "config"), COLUMNS="100", NO_COLOR="1"
        )
        return env

    def run(self, *args: str, user: str | None = None, ok: bool = True) -> subprocess.CompletedProcess[str]:
        prefix = ["--as", f"{user}@{self.domain}"] if user else []
        done = subprocess.run(
            [TOOT, *prefix, *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        if ok:
            output = done.stdout + done.stderr
            assert done.returncode == 0, f"toot {' '.join(args)} failed ({done.returncode}):\n{output}"
        return done

    def json(self, *args: str, user: str | None = None) -> Any:
        return json.loads(self.run(*args, "--json", user=user).stdout)


@dataclass(frozen=True)
class Users:
    alice: str
    bob: str


@pytest.fixture(scope="module")
def toot(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Toot:
    if not Path(TOOT).exists():
        pytest.fail(f"toot is not installed at {TOOT}: pip install -e '.[test]'", pytrace=False)
    home = tmp_path_factory.mktemp("toot-home")
    return Toot(home, server.base_url.removeprefix("http://"))


def _register_through_api(server: Server, username: str) -> None:
    """Sign up the way an app does: register an app, get an app token, POST /api/v1/accounts."""
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        app = http.post(
            "/api/v1/apps",
            data={"client_name": "sign-up", "redirect_uris": OOB, "scopes": "read write"},
        ).json()
        token = http.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
                "scope": "write",
            },
        ).json()["access_token"]
        r = http.post(
            "/api/v1/accounts",
            data={
                "username": username,
                "email": f"{username}@example.org",
                "password": PASSWORD,
                "agreement": "true",
                "locale": "en",
            },
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 200, r.text


@pytest.fixture(scope="module")
def users(server: Server, toot: Toot, unique: Callable[[str], str]) -> Users:
    alice, bob = unique("tootalice"), unique("tootbob")
    email = f"{alice}@example.org"
    created = server.cordee("user", "create", alice, "--email", email, "--password", PASSWORD)
    assert created.returncode == 0, created.stderr
    _register_through_api(server, bob)
    for name in (bob, alice):  # Alice last: she is the active account
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
    return Users(alice, bob)


def test_login_and_whoami(toot: Toot, users: Users) -> None:
    assert users.alice in toot.run("auth").stdout
    out = toot.run("whoami").stdout
    assert f"@{users.alice}" in out
    assert f"http://{toot.domain}/@{users.alice}" in out
    me = toot.json("whoami")
    assert me["username"] == users.alice
    assert toot.json("whoami", user=users.bob)["username"] == users.bob

    failed = toot.run(
        "login_cli",
        "--instance",
        f"http://{toot.domain}",
        "--email",
        f"{users.alice}@example.org",
        "--password",
        "wrong password",
        ok=False,
    )
    assert failed.returncode != 0 and "Login failed" in failed.stderr


def test_post_status_timeline_and_delete(toot: Toot, users: Users) -> None:
    out = toot.run("post", "Hello from toot, #cordee").stdout
    assert out.startswith(f"Toot posted: http://{toot.domain}/@{users.alice}/")
    note_id = out.strip().rsplit("/", 1)[-1]

    shown = toot.run("status", note_id).stdout
    assert "Hello from toot, #cordee" in shown and f"ID {note_id}" in shown
    assert toot.json("status", note_id)["content"].startswith("<p>Hello from toot")

    home = toot.run("timeline", "--once").stdout
    assert f"ID {note_id}" in home and "Hello from toot" in home
    assert f"ID {note_id}" in toot.run("timelines", "home", "--no-pager", "--no-clear").stdout
    account_notes = toot.json("timelines", "account", users.alice, "--no-pager", "--no-clear")
    assert note_id in [s["id"] for s in account_notes]

    reply = toot.json("post", "A reply to myself", "--reply-to", note_id)
    assert reply["in_reply_to_id"] == note_id
    thread = toot.run("thread", note_id).stdout
    assert thread.index("Hello from toot") < thread.index("A reply to myself")

    private = toot.json("post", "Followers only", "--visibility", "private")
    assert private["visibility"] == "private"
    hidden = toot.run("status", private["id"], user=users.bob, ok=False)  # Bob does not follow Alice
    assert hidden.returncode != 0 and "Record not found" in hidden.stderr

    deleted = toot.run("delete", reply["id"])
    assert "Status deleted" in deleted.stdout
    gone = toot.run("status", reply["id"], ok=False)
    assert gone.returncode != 0 and "Record not found" in gone.stderr


def test_follow_and_see_in_timeline(toot: Toot, users: Users) -> None:
    note = toot.json("post", "Bob's news of the day", user=users.bob)
    out = toot.run("follow", users.bob).stdout
    assert f"You are now following {users.bob}" in out
    assert f"@{users.bob}" in toot.run("following", users.alice).stdout
    assert f"@{users.alice}" in toot.run("followers", users.bob).stdout
    whois = toot.run("whois", users.bob).stdout
    assert f"@{users.bob}" in whois and "Followers: 1" in whois

    home = toot.run("timeline", "--once").stdout
    assert f"ID {note['id']}" in home and "Bob's news of the day" in home


def test_favourite_reblog_and_notifications(toot: Toot, users: Users) -> None:
    note = toot.json("post", "Please boost this")
    assert "Status favourited" in toot.run("favourite", note["id"], user=users.bob).stdout
    assert "Status reblogged" in toot.run("reblog", note["id"], user=users.bob).stdout
    assert toot.json("status", note["id"])["favourites_count"] == 1
    assert users.bob in toot.run("reblogged-by", note["id"]).stdout.split()

    listed = toot.json("notifications")
    mine = [n for n in listed if n.get("status", {}).get("id") == note["id"]]
    assert sorted(n["type"] for n in mine) == ["favourite", "reblog"]
    assert all(n["account"]["username"] == users.bob for n in mine)
    only_favourites = toot.json("notifications", "--type", "favourite")
    assert {n["type"] for n in only_favourites} == {"favourite"}
    assert note["id"] in [n["status"]["id"] for n in only_favourites]

    out = toot.run("notifications").stdout
    assert f"@{users.bob} favourited your status" in out
    assert f"@{users.bob} boosted your status" in out

    assert "Status unreblogged" in toot.run("unreblog", note["id"], user=users.bob).stdout
    assert "Status unfavourited" in toot.run("unfavourite", note["id"], user=users.bob).stdout
    assert toot.json("status", note["id"])["favourites_count"] == 0


def test_search(toot: Toot, users: Users) -> None:
    note = toot.json("post", "Looking for a good gooseberry pie #pastry", user=users.bob)
    out = toot.run("search", users.bob).stdout
    assert f"@{users.bob}" in out
    out = toot.run("search", "gooseberry").stdout
    assert note["id"] in out
    out = toot.run("search", "#pastry", "--type", "hashtags").stdout
    assert "#pastry" in out
    found = toot.json("search", "gooseberry", "--type", "statuses")
    assert [s["id"] for s in found["statuses"]] == [note["id"]]


def test_instance(toot: Toot, server: Server) -> None:
    out = toot.run("instance", server.base_url).stdout
    assert "Cordée" in out and "4.5.0" in out
