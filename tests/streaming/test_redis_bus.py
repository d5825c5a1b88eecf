"""Events on the wire and the Redis bus, against a real Redis on 127.0.0.1:6379."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from redis.asyncio import Redis

from cordee.app import build_app
from cordee.config import Settings
from cordee.events import codec
from cordee.events.redis import RedisBus
from cordee.events.types import (
    BlockChanged,
    Event,
    FollowChanged,
    MuteChanged,
    NotificationCreated,
    StatusCreated,
    StatusDeleted,
)
from cordee.streaming.connections import SERVICE_RESTART

SAMPLES: list[Event] = [
    StatusCreated(1, 2, "public", True, None, 3, (4, 5), ("cats", "dogs")),
    StatusDeleted(1, 2, "private", (4,)),
    NotificationCreated(7, 2, "mention"),
    FollowChanged(2, 3, True),
    BlockChanged(2, 3, False),
    MuteChanged(2, 3, True),
]


def test_events_round_trip_by_kind() -> None:
    assert codec.loads(codec.dumps(SAMPLES)) == SAMPLES
    assert codec.encode(SAMPLES) == [{"kind": e.kind, **dataclasses.asdict(e)} for e in SAMPLES]
    # A kind this process does not know (a newer process in a rolling upgrade) is skipped.
    assert codec.loads(
        b'[{"kind": "from.the.future", "x": 1}, {"kind": "follow.changed", '
        b'"account_id": 1, "target_account_id": 2, "following": false}]'
    ) == [FollowChanged(1, 2, False)]


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url("redis://127.0.0.1:6379/0")
    yield client
    await client.aclose()


async def test_every_process_receives_every_batch_in_order(redis: Redis) -> None:
    channel = f"cordee-test-{uuid.uuid4().hex[:10]}:events"
    first, second = RedisBus(redis, channel), RedisBus(redis, channel)
    seen: dict[str, list[Event]] = {"first": [], "second": []}
    arrived = asyncio.Event()

    def recorder(name: str):  # type: ignore[no-untyped-def]
        async def record(batch: Sequence[Event]) -> None:
            seen[name].extend(batch)
            if all(len(events) == len(SAMPLES) for events in seen.values()):
                arrived.set()

        return record

    first.subscribe(recorder("first"))
    unsubscribe = second.subscribe(recorder("second"))
    await first.start()
    await second.start()
    try:
        await first.publish(SAMPLES[:3])
        await second.publish(SAMPLES[3:])
        await first.publish([])  # nothing to say: nothing sent
        await asyncio.wait_for(arrived.wait(), 5)
        assert seen["first"] == SAMPLES and seen["second"] == SAMPLES
        unsubscribe()
        await first.publish(SAMPLES[:1])
        await asyncio.sleep(0.2)
        assert len(seen["second"]) == len(SAMPLES) and len(seen["first"]) == len(SAMPLES) + 1
    finally:
        await first.stop()
        await second.stop()


async def test_a_lost_channel_is_reported_once_it_is_back(redis: Redis) -> None:
    channel = f"cordee-test-{uuid.uuid4().hex[:10]}:events"
    name = f"cordee-gap-{uuid.uuid4().hex[:8]}"
    listener = Redis.from_url("redis://127.0.0.1:6379/0", client_name=name)
    bus = RedisBus(listener, channel)
    gap, arrived = asyncio.Event(), asyncio.Event()
    bus.on_gap(gap.set)
    received: list[Event] = []

    async def record(batch: Sequence[Event]) -> None:
        received.extend(batch)
        arrived.set()

    bus.subscribe(record)
    await bus.start()
    try:
        assert not gap.is_set()
        # Redis drops our subscriber connection (only ours: other tests share this Redis).
        ours = [c["id"] for c in await redis.client_list() if c.get("name") == name]
        assert ours
        for client_id in ours:
            await redis.client_kill_filter(_id=client_id)
        await asyncio.wait_for(gap.wait(), 10)
        await bus.publish([FollowChanged(1, 2, True)])  # and the channel works again
        await asyncio.wait_for(arrived.wait(), 5)
        assert received == [FollowChanged(1, 2, True)]
    finally:
        await bus.stop()
        await listener.aclose()


async def test_open_streams_are_reset_after_a_redis_gap(redis: Redis, tmp_path: Path) -> None:
    """The server wiring: when its Redis channel comes back, the hub closes every open stream
    (clients reconnect and fetch what they missed) and keeps accepting new ones."""
    name = f"cordee-gap-{uuid.uuid4().hex[:8]}"
    settings = Settings(
        base_url="http://cordee.test",
        data_dir=tmp_path / "data",
        secret_key="test-secret",
        redis_url=f"redis://127.0.0.1:6379/0?client_name={name}",
        redis_prefix=f"cordee-test-{uuid.uuid4().hex[:10]}:",
    )
    app = build_app(settings)
    async with app.router.lifespan_context(app):
        hub = app.state.hub
        connection = await hub.connect(1, "ws")
        for client in await redis.client_list():
            if client.get("name") == name:
                await redis.client_kill_filter(_id=client["id"])
        async with asyncio.timeout(10):
            while await connection.queue.get() is not None:  # None: the connection is closed
                pass
        assert connection.close_code == SERVICE_RESTART
        assert not (await hub.connect(1, "ws")).closed
