"""A tracked search's live column over the streaming API (a real server): a matching note posted
after the column opened arrives as Mastodon's ``update`` on ``cordee:tracked`` (WebSocket
``subscribe`` and SSE), a note that does not match or that the reader may not see does not."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.streaming.conftest import Server
from tests.streaming.test_websocket_streaming import frames_until, post, ws_url

pytestmark = pytest.mark.clients


async def test_live_column_receives_matching_notes(stream_server: Server) -> None:
    owner, member, author = (stream_server.user(p) for p in ("colowner", "colmember", "colauthor"))
    headers = {"Authorization": f"Bearer {owner.access_token}"}
    await asyncio.to_thread(member.account_follow, owner.me().id)  # members are followers of the owner
    async with httpx.AsyncClient(base_url=stream_server.base_url, headers=headers, timeout=10) as api:
        r = await api.post(
            "/api/v1/cordee/tracked_searches",
            json={"name": "Ponts", "query": "pont OR #viaduc", "member_ids": [str(member.me().id)]},
        )
        assert r.status_code == 200, r.text
        search_id = r.json()["id"]
    await asyncio.to_thread(owner.account_follow, author.me().id)
    member_headers = {"Authorization": f"Bearer {member.access_token}"}
    async with (
        connect(ws_url(stream_server), additional_headers=headers) as ws,
        connect(ws_url(stream_server), additional_headers=member_headers) as member_ws,
    ):
        for socket in (ws, member_ws):
            await socket.send(json.dumps({"type": "subscribe", "stream": "cordee:tracked", "id": search_id}))
            await socket.send(json.dumps({"type": "subscribe", "stream": "cordee:tracked", "id": "1"}))
            # Subscriptions are handled in order: once the error for the unknown id is back, ours is open.
            error = json.loads(await socket.recv())
            assert error == {"error": "Record not found", "status": 404}

        await asyncio.to_thread(post, author, "rien à voir")
        private = await asyncio.to_thread(post, author, "Le pont est fermé", visibility="private")
        public = await asyncio.to_thread(post, author, "Photo du #Viaduc ce matin")

        def updates(frames: list[dict[str, Any]]) -> list[str]:
            return [json.loads(f["payload"])["id"] for f in frames if f["event"] == "update"]

        got = await frames_until(ws, lambda f: len(updates(f)) >= 2)
        assert updates(got) == [private, public]  # the owner follows the author: both
        assert {tuple(f["stream"]) for f in got} == {("cordee:tracked", search_id)}
        # The member does not follow the author: the followers-only note never reaches them.
        got = await frames_until(member_ws, lambda f: len(updates(f)) >= 1)
        assert updates(got) == [public]

        # The member leaves: their open stream stops carrying the column at once.
        async with httpx.AsyncClient(base_url=stream_server.base_url, timeout=10) as api:
            r = await api.delete(f"/api/v1/cordee/tracked_searches/{search_id}", headers=member_headers)
            assert r.status_code == 200
        await member_ws.send(json.dumps({"type": "subscribe", "stream": "public:local"}))
        await member_ws.send(json.dumps({"type": "subscribe", "stream": "nonsense"}))
        assert json.loads(await member_ws.recv())["status"] == 400  # the subscription is in place
        after = await asyncio.to_thread(post, author, "Encore un pont")
        marker = await asyncio.to_thread(post, author, "fin")
        got = await frames_until(member_ws, lambda f: marker in updates(f))
        assert [(f["stream"][0], json.loads(f["payload"])["id"]) for f in got] == [
            ("public:local", after),
            ("public:local", marker),
        ]

    # The SSE path of the same stream.
    url = f"{stream_server.base_url}/api/v1/streaming/cordee/tracked?id={search_id}"
    async with httpx.AsyncClient(timeout=10) as http, http.stream("GET", url, headers=headers) as response:
        assert response.status_code == 200
        lines = response.aiter_lines()
        assert await anext(lines) == ":)"
        later = await asyncio.to_thread(post, author, "un autre pont")
        async with asyncio.timeout(10):
            while await anext(lines) != "event: update":
                pass
            assert json.loads((await anext(lines)).removeprefix("data: "))["id"] == later
    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.get(f"{stream_server.base_url}/api/v1/streaming/cordee/tracked", headers=headers)
        assert r.status_code == 400 and r.json() == {"error": "No tracked search for stream provided"}
