"""The blog widget's data: only public notes, never a cookie, and a live stream of the same notes.

The JSON endpoint is asked in-process; the stream through a real ``cordee serve`` (server-sent
events need a server that streams, which the in-process transport does not).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

import httpx
import orjson
import pytest

from cordee.config import Settings
from cordee.db.engine import Database
from cordee.events.types import Event
from cordee.streaming.connections import Connection
from cordee.streaming.hub import Hub
from cordee.streaming.widget import ANONYMOUS, widget_channel
from tests.clients.conftest import Server, server, unique  # noqa: F401
from tests.conftest import ApiUser
from tests.support.running import register
from tests.support.waiting import wait_for

Post = Callable[..., Awaitable[dict[str, Any]]]


async def test_notes_are_public_only(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser, post: Post
) -> None:
    shown = await post(alice, "Hello from the #fete committee")
    reply_to_self = await post(alice, "and a thread #fete", in_reply_to_id=shown["id"])
    for visibility in ("unlisted", "private", "direct"):
        await post(alice, f"{visibility} note #fete @bob", visibility=visibility)
    # A hashtag's widget shows replies, as its timeline does; an account's leaves out replies to others.
    reply = await post(alice, "a reply to bob #fete", in_reply_to_id=(await post(bob, "bob here"))["id"])
    await client.post(f"/api/v1/statuses/{shown['id']}/reblog", headers=bob.headers)

    r = await client.get(
        "/widget/notes", params={"account": "alice"}, headers={"Origin": "https://blog.example"}
    )
    assert r.status_code == 200, r.text
    assert "set-cookie" not in r.headers
    body = r.json()
    assert [n["id"] for n in body["notes"]] == [reply_to_self["id"], shown["id"]]
    assert body["account"]["acct"] == "alice"
    note = body["notes"][1]
    assert note["content"] == shown["content"]  # the API's rendering, not a second one
    assert set(note) == {
        "id",
        "url",
        "created_at",
        "edited_at",
        "content",
        "spoiler_text",
        "sensitive",
        "language",
        "account",
        "media",
    }
    assert r.headers.get("access-control-allow-origin") == "*"
    assert "access-control-allow-credentials" not in r.headers

    r = await client.get("/widget/notes", params={"tag": "#Fete", "limit": "1"})
    assert [n["id"] for n in r.json()["notes"]] == [reply["id"]]
    r = await client.get("/widget/notes", params={"tag": "fete", "limit": "40"})
    contents = [n["content"] for n in r.json()["notes"]]
    assert len(contents) == 3 and not any(
        "unlisted" in c or "private" in c or "direct" in c for c in contents
    )

    since = await client.get("/widget/notes", params={"account": "alice", "since_id": shown["id"]})
    assert [n["id"] for n in since.json()["notes"]] == [reply_to_self["id"]]
    since = await client.get("/widget/notes", params={"tag": "fete", "since_id": shown["id"]})
    assert [n["id"] for n in since.json()["notes"]] == [reply["id"], reply_to_self["id"]]


async def test_bad_requests_are_json_errors(client: httpx.AsyncClient, alice: ApiUser) -> None:
    for params, status in (
        ({}, 400),
        ({"account": "alice", "tag": "x"}, 400),
        ({"account": "nobody"}, 404),
        ({"tag": "not a tag!"}, 400),
    ):
        r = await client.get("/widget/notes", params=params)
        assert r.status_code == status and "error" in r.json(), (params, r.text)
    r = await client.get("/widget/notes", params={"account": "alice", "limit": "999999999999999999999"})
    assert r.status_code == 200


async def test_script_frame_and_builder(client: httpx.AsyncClient, alice: ApiUser) -> None:
    r = await client.get("/widget.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert "set-cookie" not in r.headers

    r = await client.get(
        "/widget/frame",
        params={"account": "alice", "theme": "dark", "lang": "fr", "limit": "5", "accent": "x"},
    )
    assert r.status_code == 200 and "set-cookie" not in r.headers
    policy = r.headers["content-security-policy"]
    assert "frame-ancestors *" in policy and "script-src 'self'" in policy and "'unsafe-inline'" not in policy
    assert "x-frame-options" not in r.headers
    assert 'data-account="alice" data-theme="dark" data-lang="fr" data-limit="5"' in r.text
    assert "data-accent" not in r.text  # not a colour: left out
    r = await client.get(
        "/widget/frame", params={"tag": "fete"}, headers={"Accept-Language": "fr-CA, en;q=0.5"}
    )
    assert '<html lang="fr">' in r.text and 'data-tag="fete" data-lang="fr"' in r.text
    assert r.headers["vary"] == "Accept-Language" and "set-cookie" not in r.headers

    r = await client.get(
        "/widget", params={"account": "alice", "accent": "#aa3355"}, headers={"Accept-Language": "fr"}
    )
    assert r.status_code == 200
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert "Mettre vos notes sur votre site" in r.text
    assert "data-account=&#34;alice&#34; data-accent=&#34;#aa3355&#34; async" in r.text
    assert "/widget/frame?account=alice&amp;accent=%23aa3355" in r.text
    r = await client.get("/widget", params={"account": "nobody"})
    assert "No account has this name." in r.text


# -- the live stream, through a real server -------------------------------------------------------


class Listener:
    """Reads ``/widget/stream`` in a thread; collects its events."""

    def __init__(self, url: str) -> None:
        self.events: list[tuple[str, str]] = []
        self.headers: httpx.Headers | None = None
        self.opened = threading.Event()
        self._stop = False
        self._thread = threading.Thread(target=self._run, args=(url,), daemon=True)
        self._thread.start()
        assert self.opened.wait(10)

    def _run(self, url: str) -> None:
        with httpx.Client(timeout=30) as http, http.stream("GET", url) as r:
            self.headers = r.headers
            self.opened.set()
            event = ""
            for line in r.iter_lines():
                if self._stop:
                    return
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    self.events.append((event, line[6:]))

    def wait_for(self, condition: Callable[[], bool], timeout: float = 5) -> bool:
        return wait_for(condition, timeout)

    def close(self) -> None:
        self._stop = True


@pytest.fixture
def listeners() -> Iterator[list[Listener]]:
    made: list[Listener] = []
    yield made
    for listener in made:
        listener.close()


def test_stream_sends_new_public_notes_only(
    server: Server,  # noqa: F811
    unique: Callable[[str], str],  # noqa: F811
    listeners: list[Listener],
) -> None:
    name, tag = unique("asso"), unique("kermesse")
    author = register(server.base_url, name)
    other = register(server.base_url, unique("other"))
    by_account = Listener(f"{server.base_url}/widget/stream?account={name}")
    by_tag = Listener(f"{server.base_url}/widget/stream?tag={tag}")
    listeners += [by_account, by_tag]
    assert by_account.headers is not None
    assert by_account.headers["content-type"].startswith("text/event-stream")
    assert "set-cookie" not in by_account.headers

    def post(status: str, **fields: str) -> dict[str, Any]:
        r = httpx.post(
            f"{server.base_url}/api/v1/statuses", json={"status": status, **fields}, headers=author
        )
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    for visibility in ("unlisted", "private", "direct"):
        post(f"{visibility} #{tag}", visibility=visibility)
    httpx.post(f"{server.base_url}/api/v1/statuses", json={"status": f"not theirs #{tag}x"}, headers=other)
    started = time.monotonic()
    public = post(f"public news #{tag}")
    for listener in (by_account, by_tag):
        assert listener.wait_for(lambda listener=listener: len(listener.events) >= 1)  # type: ignore[misc]
    delay = time.monotonic() - started
    time.sleep(0.3)  # anything else would have arrived by now
    for listener in (by_account, by_tag):
        assert [e for e, _ in listener.events] == ["update"]
        note = orjson.loads(listener.events[0][1])
        assert note["id"] == public["id"] and note["account"]["acct"] == name
    assert delay < 1.0, delay

    httpx.delete(f"{server.base_url}/api/v1/statuses/{public['id']}", headers=author)
    assert by_account.wait_for(lambda: ("delete", public["id"]) in by_account.events)

    r = httpx.get(f"{server.base_url}/widget/stream?account=nobody-at-all")
    assert r.status_code == 404 and r.json() == {"error": "Record not found"}


async def test_hub_streams_what_the_notes_endpoint_shows(
    db: Database,
    settings: Settings,
    client: httpx.AsyncClient,
    alice: ApiUser,
    bob: ApiUser,
    post: Post,
    events: Sequence[Event],
) -> None:
    """In-process: edits and deletes too; replies to others, boosts and unlisted notes never."""
    hub = Hub(db, settings)
    by_account = await hub.connect(ANONYMOUS, "sse")
    hub.subscribe(by_account, widget_channel(account_id=alice.account_id))
    by_tag = await hub.connect(ANONYMOUS, "sse")
    hub.subscribe(by_tag, widget_channel(tag="Fete"))

    def drained(connection: Connection) -> list[str]:
        got = []
        while not connection.queue.empty():
            item = connection.queue.get_nowait()
            assert item is not None
            got.append(item.split("\n")[0])
        return got

    seen = len(events)
    shown = await post(alice, "Hello #fete")
    await post(alice, "quiet #fete", visibility="unlisted")
    await post(alice, "to bob #fete", in_reply_to_id=(await post(bob, "hi"))["id"])
    await client.post(f"/api/v1/statuses/{shown['id']}/reblog", headers=bob.headers)
    r = await client.put(
        f"/api/v1/statuses/{shown['id']}", json={"status": "Hello again #fete"}, headers=alice.headers
    )
    assert r.status_code == 200, r.text
    await hub.process(events[seen:])  # before the delete: a note gone by then is not sent
    seen = len(events)
    await client.delete(f"/api/v1/statuses/{shown['id']}", headers=alice.headers)
    await hub.process(events[seen:])
    # Deletes of public notes go to every note stream (the boost's too): a widget ignores unknown ids.
    got = drained(by_account)
    assert got[:2] == ["event: update", "event: status.update"] and set(got[2:]) == {"event: delete"}
    # A hashtag's widget shows replies (as the hashtag's timeline does), not unlisted notes.
    got = drained(by_tag)
    assert got[:3] == ["event: update", "event: update", "event: status.update"]
    assert set(got[3:]) == {"event: delete"}
    hub.disconnect(by_account)
    hub.disconnect(by_tag)
    assert hub.open_for(ANONYMOUS) == 0
