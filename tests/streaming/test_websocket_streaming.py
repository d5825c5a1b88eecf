"""The multiplexed WebSocket (``/api/v1/streaming``) with the ``websockets`` library: several
streams on one connection, Mastodon's framing, the three ways to give the token, errors."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from tests.streaming.conftest import Server

pytestmark = pytest.mark.clients


def ws_url(server: Server, query: str = "") -> str:
    return server.base_url.replace("http://", "ws://") + "/api/v1/streaming" + query


async def frames_until(ws: ClientConnection, done: Any, seconds: float = 10.0) -> list[dict[str, Any]]:
    """Read frames until ``done(frames)`` holds."""
    got: list[dict[str, Any]] = []
    async with asyncio.timeout(seconds):
        while not done(got):
            got.append(json.loads(await ws.recv()))
    return got


def post(user: Any, text: str, **kw: Any) -> str:
    return str(user.status_post(text, **kw).id)


async def test_several_streams_on_one_connection(stream_server: Server) -> None:
    alice, bob = stream_server.user("wsalice"), stream_server.user("wsbob")
    await asyncio.to_thread(alice.account_follow, bob.me().id)
    headers = {"Authorization": f"Bearer {alice.access_token}"}
    async with connect(ws_url(stream_server, "?stream=user"), additional_headers=headers) as ws:
        for message in (
            {"type": "subscribe", "stream": "hashtag", "tag": "Birds"},
            {"type": "subscribe", "stream": "public:local"},
            {"type": "subscribe", "stream": "nonsense"},
        ):
            await ws.send(json.dumps(message))
        error = json.loads(await ws.recv())  # subscriptions are handled in order: the three are in place
        assert error == {"error": "Unknown stream type", "status": 400}

        tagged = await asyncio.to_thread(post, bob, "tweet #birds")
        got = await frames_until(ws, lambda f: len(f) >= 3)
        assert sorted((tuple(f["stream"]), f["event"]) for f in got) == [
            (("hashtag", "Birds"), "update"),
            (("public:local",), "update"),
            (("user",), "update"),
        ]
        for f in got:
            assert isinstance(f["payload"], str)  # the entity as a JSON string, as Mastodon sends it
            assert json.loads(f["payload"])["id"] == tagged

        await ws.send(json.dumps({"type": "unsubscribe", "stream": "public:local"}))
        await ws.send(json.dumps({"type": "unsubscribe", "stream": "hashtag", "tag": "birds"}))
        await asyncio.to_thread(alice.status_favourite, tagged)  # a round trip: the unsubscribes are done
        mention = await asyncio.to_thread(post, bob, f"@{alice.me().username} #birds hi")
        got = await frames_until(ws, lambda f: any(x["event"] == "update" for x in f))
        assert [x["stream"] for x in got] == [["user"]] * len(got)
        assert json.loads(next(x for x in got if x["event"] == "update")["payload"])["id"] == mention
        if not any(x["event"] == "notification" for x in got):
            got += await frames_until(ws, lambda f: any(x["event"] == "notification" for x in f))
        notification = json.loads(next(x for x in got if x["event"] == "notification")["payload"])
        assert notification["type"] == "mention" and notification["status"]["id"] == mention

        await asyncio.to_thread(bob.status_delete, tagged)
        got = await frames_until(ws, lambda f: any(x["event"] == "delete" for x in f))
        assert {"stream": ["user"], "event": "delete", "payload": tagged} in got


async def test_token_in_protocol_header_or_query_and_rejections(stream_server: Server) -> None:
    carol = stream_server.user("wscarol")
    token = carol.access_token
    async with connect(ws_url(stream_server, "?stream=public"), subprotocols=[token]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == token
        note = await asyncio.to_thread(post, carol, "via the protocol header")
        got = await frames_until(ws, lambda f: len(f) >= 1)
        assert got[0]["stream"] == ["public"] and json.loads(got[0]["payload"])["id"] == note
    async with connect(ws_url(stream_server, f"?access_token={token}&stream=hashtag&tag=x")) as ws:
        note = await asyncio.to_thread(post, carol, "via the query #x")
        got = await frames_until(ws, lambda f: len(f) >= 1)
        assert got[0]["stream"] == ["hashtag", "x"]
    for query in ("?stream=user", "?stream=user&access_token=wrong"):
        with pytest.raises(InvalidStatus) as e:
            async with connect(ws_url(stream_server, query)):
                pass
        assert e.value.response.status_code == 401


async def test_filters_take_effect_on_streams(stream_server: Server) -> None:
    dana, erin = stream_server.user("wsdana"), stream_server.user("wserin")
    await asyncio.to_thread(dana.account_follow, erin.me().id)
    headers = {"Authorization": f"Bearer {dana.access_token}"}
    async with connect(ws_url(stream_server, "?stream=user"), additional_headers=headers) as ws:
        await ws.send(json.dumps({"type": "subscribe", "stream": "public"}))
        async with httpx.AsyncClient(base_url=stream_server.base_url, headers=headers) as api:
            for action, word in (("hide", "spoiler"), ("warn", "rumour")):
                r = await api.post(
                    "/api/v2/filters",
                    json={
                        "title": word,
                        "context": ["home", "public"],
                        "filter_action": action,
                        "keywords_attributes": [{"keyword": word}],
                    },
                )
                assert r.status_code == 200, r.text
        changed = await frames_until(ws, lambda f: len(f) >= 2)
        assert changed == [{"stream": ["user"], "event": "filters_changed"}] * 2

        hidden = await asyncio.to_thread(post, erin, "the ending, a spoiler")
        flagged = await asyncio.to_thread(post, erin, "a rumour")
        plain = await asyncio.to_thread(post, erin, "nothing special")
        got = await frames_until(ws, lambda f: len(f) >= 4)
        entities = [json.loads(f["payload"]) for f in got]
        assert hidden not in {e["id"] for e in entities}
        assert sorted((f["stream"][0], e["id"]) for f, e in zip(got, entities, strict=True)) == sorted(
            [("user", flagged), ("public", flagged), ("user", plain), ("public", plain)]
        )
        for entity in entities:
            titles = [r["filter"]["title"] for r in entity["filtered"]]
            assert titles == (["rumour"] if entity["id"] == flagged else [])


async def test_list_stream(stream_server: Server) -> None:
    owner, member, other = (
        stream_server.user("wsown"),
        stream_server.user("wsmem"),
        stream_server.user("wsoth"),
    )
    member_id = str(member.me().id)
    await asyncio.to_thread(owner.account_follow, member_id)
    headers = {"Authorization": f"Bearer {owner.access_token}"}
    async with httpx.AsyncClient(base_url=stream_server.base_url, headers=headers) as api:
        created = await api.post("/api/v1/lists", json={"title": "close friends"})
        assert created.status_code == 200, created.text
        list_id = created.json()["id"]
        added = await api.post(f"/api/v1/lists/{list_id}/accounts", json={"account_ids": [member_id]})
        assert added.status_code == 200, added.text
    async with connect(ws_url(stream_server), additional_headers=headers) as ws:
        await ws.send(json.dumps({"type": "subscribe", "stream": "list", "list": list_id}))
        await ws.send(json.dumps({"type": "subscribe", "stream": "list", "list": "12345"}))
        assert json.loads(await ws.recv()) == {"error": "Record not found", "status": 404}
        await asyncio.to_thread(post, other, "not in the list")
        note = await asyncio.to_thread(post, member, "in the list")
        got = await frames_until(ws, lambda f: len(f) >= 1)
        assert got[0]["stream"] == ["list", list_id] and json.loads(got[0]["payload"])["id"] == note
    other_headers = {"Authorization": f"Bearer {other.access_token}"}
    async with connect(
        ws_url(stream_server, f"?stream=list&list={list_id}"), additional_headers=other_headers
    ) as ws:
        assert json.loads(await ws.recv()) == {"error": "Record not found", "status": 404}


async def test_direct_stream_gets_the_conversation_as_listed(stream_server: Server) -> None:
    alice, bob = stream_server.user("dmalice"), stream_server.user("dmbob")
    headers = {"Authorization": f"Bearer {bob.access_token}"}
    async with connect(ws_url(stream_server, "?stream=direct"), additional_headers=headers) as ws:
        await ws.send(json.dumps({"type": "subscribe", "stream": "direct"}))
        await asyncio.to_thread(bob.status_favourite, post(bob, "round trip", visibility="private"))
        note = await asyncio.to_thread(post, alice, f"@{bob.me().username} just us", visibility="direct")
        got = await frames_until(ws, lambda f: any(x["event"] == "conversation" for x in f))
        event = json.loads(next(x for x in got if x["event"] == "conversation")["payload"])
        listed = (await asyncio.to_thread(bob.conversations))[0]
        assert event["id"] == str(listed.id) and event["unread"] is True
        assert event["last_status"]["id"] == note
        assert [a["username"] for a in event["accounts"]] == [alice.me().username]
