"""Mastodon.py's streaming client, unchanged, against a running ``cordee serve`` (server-sent
events): the user, public and hashtag streams receive update, notification and delete events from
notes posted through the API; and private, blocked and muted notes never reach the wrong stream."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import httpx
import pytest
from mastodon import Mastodon, StreamListener

from tests.streaming.conftest import Server, wait_for

pytestmark = pytest.mark.clients


class Recorder(StreamListener):
    """Keeps every event; ``ready`` is set by the server's first comment line (the stream is open)."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, Any]] = []
        self.ready = threading.Event()

    def handle_heartbeat(self) -> None:
        self.ready.set()

    def on_any_event(self, name: str, data: Any | None = None, for_stream: Any | None = None) -> None:
        self.events.append((name, data))

    def on_unknown_event(self, name: str, unknown_event: Any = None) -> None:
        pass

    def ids(self, name: str = "update") -> list[str]:
        return [str(d if name == "delete" else d["id"]) for n, d in self.events if n == name]

    def has(self, name: str, id_: str) -> bool:
        return id_ in self.ids(name)


@contextmanager
def streaming(open_stream: Any, *args: Any, **kw: Any) -> Iterator[Recorder]:
    recorder = Recorder()
    handle = open_stream(*args, recorder, run_async=True, **kw)
    try:
        assert recorder.ready.wait(10), "the stream did not open"
        yield recorder
    finally:
        handle.close()


def test_instance_advertises_the_streaming_url(stream_server: Server) -> None:
    v1 = httpx.get(f"{stream_server.base_url}/api/v1/instance").json()
    v2 = httpx.get(f"{stream_server.base_url}/api/v2/instance").json()
    expected = stream_server.base_url.replace("http://", "ws://")
    assert v1["urls"]["streaming_api"] == expected
    assert v2["configuration"]["urls"]["streaming"] == expected
    assert Mastodon(api_base_url=stream_server.base_url).stream_healthy()


def test_user_public_and_hashtag_streams(stream_server: Server) -> None:
    alice, bob, carol = stream_server.user("alice"), stream_server.user("bob"), stream_server.user("carol")
    bob_id = bob.me().id
    alice.account_follow(bob_id)
    with (
        streaming(alice.stream_user) as home,
        streaming(carol.stream_public) as public,
        streaming(carol.stream_hashtag, "Cats") as cats,
        streaming(alice.stream_user_notifications) as notifications,
    ):
        note = bob.status_post("hello from bob #cats")
        plain = bob.status_post("no tag here")
        mention = bob.status_post(f"@{alice.me().username} look")
        assert wait_for(lambda: home.has("update", str(mention.id)))
        assert home.ids() == [str(note.id), str(plain.id), str(mention.id)]
        assert wait_for(lambda: home.has("notification", str(alice.notifications()[0].id)))
        assert wait_for(lambda: notifications.ids("notification") == [str(alice.notifications()[0].id)])
        assert notifications.ids() == []  # user:notification carries notifications only
        assert wait_for(lambda: public.ids() == [str(note.id), str(plain.id), str(mention.id)])
        assert wait_for(lambda: cats.ids() == [str(note.id)])
        # The payload is Mastodon's Status entity.
        streamed = next(d for n, d in home.events if n == "update")
        assert streamed["content"] == bob.status(note.id)["content"]
        assert streamed["account"]["id"] == bob_id

        bob.status_delete(note.id)
        assert wait_for(lambda: home.has("delete", str(note.id)))
        assert wait_for(lambda: public.has("delete", str(note.id)) and cats.has("delete", str(note.id)))

        boost = carol.status_reblog(plain.id)
        own = alice.status_post("my own note")
        assert wait_for(lambda: home.has("update", str(own.id)))
        assert not home.has("update", str(boost.id))  # alice does not follow carol
        assert not public.has("update", str(boost.id))  # reblogs stay out of public streams


def test_private_blocked_and_muted_notes_never_reach_the_wrong_stream(stream_server: Server) -> None:
    author, follower, stranger = (
        stream_server.user("author"),
        stream_server.user("fol"),
        stream_server.user("str"),
    )
    blocker, muter, herald = stream_server.user("blk"), stream_server.user("mut"), stream_server.user("her")
    author_id = author.me().id
    for account in (follower, blocker, muter):
        account.account_follow(author_id)
    for account in (follower, stranger, blocker, muter):
        account.account_follow(herald.me().id)
    blocker.account_block(author_id)
    muter.account_mute(author_id)
    with (
        streaming(follower.stream_user) as follower_home,
        streaming(stranger.stream_user) as stranger_home,
        streaming(stranger.stream_public) as stranger_public,
        streaming(blocker.stream_user) as blocker_home,
        streaming(blocker.stream_public) as blocker_public,
        streaming(muter.stream_user) as muter_home,
        streaming(muter.stream_public) as muter_public,
        streaming(muter.stream_hashtag, "news") as muter_tag,
    ):
        private = author.status_post("for my followers only #news", visibility="private")
        public = author.status_post("for everyone #news")
        boost = herald.status_reblog(public.id)  # a reblog of a muted/blocked author's note
        mentioning = herald.status_post(f"@{author.me().username} hi #news")  # mentions a blocked account
        marker = herald.status_post("the last one #news")
        for stream in (follower_home, stranger_home, blocker_home, muter_home):
            assert wait_for(partial(stream.has, "update", str(marker.id))), "the marker did not arrive"
        for stream in (stranger_public, blocker_public, muter_public, muter_tag):
            assert wait_for(partial(stream.has, "update", str(marker.id))), "the marker did not arrive"

        expected = [str(private.id), str(public.id), str(boost.id), str(mentioning.id), str(marker.id)]
        assert follower_home.ids() == expected
        # A followers-only note reaches no one else, on any stream.
        for stream in (stranger_home, stranger_public, blocker_home, blocker_public, muter_public, muter_tag):
            assert not stream.has("update", str(private.id))
        assert stranger_public.has("update", str(public.id))
        # Blocked (and blocking) accounts' notes, reblogs of them and mentions of them stay away.
        for stream in (blocker_home, blocker_public):
            assert not {str(public.id), str(boost.id), str(mentioning.id)} & set(stream.ids())
        # Muted accounts' notes and reblogs of them stay away (a mention of them too, as in Mastodon).
        for stream in (muter_home, muter_public, muter_tag):
            assert not {str(private.id), str(public.id), str(boost.id), str(mentioning.id)} & set(
                stream.ids()
            )
