"""The hub in-process: one rendering per event whatever the number of streams, the same frame
object for every recipient, and a client that does not read is dropped without slowing the others."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pytest

from cordee.actions.statuses import NewStatus, post_status
from cordee.config import Settings
from cordee.db.engine import Database
from cordee.events.types import Event
from cordee.streaming import hub as hub_module
from cordee.streaming.channels import channel_for
from cordee.streaming.connections import TRY_AGAIN_LATER, Connection
from cordee.streaming.hub import Hub
from tests.conftest import MakeUser


def _drain(connection: Connection) -> list[str | None]:
    got: list[str | None] = []
    while not connection.queue.empty():
        got.append(connection.queue.get_nowait())
    return got


async def test_rendered_once_and_slow_clients_dropped(
    db: Database,
    settings: Settings,
    make_user: MakeUser,
    events: Sequence[Event],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = replace(settings, streaming_queue_size=5)
    hub = Hub(db, settings)
    author = await make_user("author")
    reader = await make_user("reader")
    connections = []
    for _ in range(30):  # thirty open streams (one account's, to keep the test fast)
        connection = await hub.connect(reader.account_id, "ws")
        hub.subscribe(connection, channel_for("public", {}, reader.account_id))
        connections.append(connection)
    sluggish, *attentive = connections

    renders = 0
    render = hub_module.render_statuses  # type: ignore[attr-defined]

    async def counting(*args: Any, **kw: Any) -> Any:
        nonlocal renders
        renders += 1
        return await render(*args, **kw)

    monkeypatch.setattr(hub_module, "render_statuses", counting)

    received: dict[Connection, list[str | None]] = {c: [] for c in attentive}
    for i in range(8):
        seen = len(events)
        await post_status(db, settings, author.account_id, NewStatus(f"note {i}"))
        await hub.process(events[seen:])  # what the hub's worker does with each published batch
        for connection in attentive:
            received[connection] += _drain(connection)
    assert renders == 8  # once per note, not once per connection
    first = {id(frames[0]) for frames in received.values()}
    assert len(first) == 1  # the very same string, framed once, for every recipient
    assert all(len(frames) == 8 and None not in frames for frames in received.values())
    assert sluggish.closed and sluggish.close_code == TRY_AGAIN_LATER
    assert _drain(sluggish) == [None]  # what it had not read was dropped: it will fetch it again
    hub.disconnect(sluggish)
    assert hub.dropped == 1 and hub.connection_count == 29


async def test_drain_closes_every_stream_and_refuses_new_ones(
    db: Database, settings: Settings, make_user: MakeUser
) -> None:
    hub = Hub(db, settings)
    user = await make_user("someone")
    connection = await hub.connect(user.account_id, "sse")
    connection.send("event: update\ndata: {}\n\n")
    hub.drain()
    assert _drain(connection) == ["event: update\ndata: {}\n\n", None]  # queued frames go out first
    with pytest.raises(hub_module.HubClosed):
        await hub.connect(user.account_id, "sse")
