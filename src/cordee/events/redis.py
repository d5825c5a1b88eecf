"""The event bus over Redis pub/sub, for several server processes.

``publish`` sends a committed batch to one channel; every process (the publisher included) runs its
handlers when the batch comes back from Redis, so all processes see the same batches in the same
order. Pub/sub keeps nothing: a process that is disconnected from Redis misses what was published
meanwhile. That is acceptable for what the bus carries (stream updates a client can fetch again),
provided the clients *know* they missed something: once the channel is back after a loss, the
``on_gap`` callbacks run (the streaming hub closes its streams, so clients reconnect and fetch
with ``since_id``). Durable work (home feeds) never depends on the bus: it runs in the writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

from redis.asyncio import Redis
from redis.exceptions import RedisError

from cordee.events import codec
from cordee.events.bus import Handler
from cordee.events.types import Event

log = logging.getLogger(__name__)

RETRY_SECONDS = 1.0
START_TIMEOUT = 10.0


class RedisBus:
    """Implements ``cordee.events.bus.EventBus``; ``start`` before use, ``stop`` at shutdown."""

    def __init__(self, redis: Redis, channel: str) -> None:
        self._redis = redis
        self.channel = channel
        self._handlers: list[Handler] = []
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self._gap_callbacks: list[Callable[[], None]] = []

    async def publish(self, events: Sequence[Event]) -> None:
        if events:
            await self._redis.publish(self.channel, codec.dumps(events))

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        self._handlers.append(handler)
        return lambda: self._handlers.remove(handler) if handler in self._handlers else None

    def on_gap(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` each time the channel is back after a loss (events were missed)."""
        self._gap_callbacks.append(callback)

    async def start(self) -> None:
        """Subscribe to the channel; returns once this process is listening (so that a batch
        published right after ``start`` is received)."""
        if self._task is None:
            self._task = asyncio.create_task(self._listen(), name="cordee-redis-bus")
        try:
            await asyncio.wait_for(self._subscribed.wait(), START_TIMEOUT)
        except TimeoutError:
            await self.stop()
            raise RuntimeError(f"could not subscribe to Redis channel {self.channel!r}") from None

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _deliver(self, data: bytes) -> None:
        try:
            events = codec.loads(data)
        except ValueError:
            log.exception("dropping a malformed event batch from Redis")
            return
        for handler in list(self._handlers):
            try:
                await handler(events)
            except Exception:  # one broken consumer must not stop the others
                log.exception("event handler %r failed", handler)

    async def _listen(self) -> None:
        lost = False
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self._subscribed.set()
                if lost:
                    lost = False
                    log.warning("the Redis event channel is back; telling listeners they missed events")
                    for callback in list(self._gap_callbacks):
                        callback()
                while True:
                    message = await pubsub.get_message(timeout=None)
                    if message is not None and message.get("type") == "message":
                        await self._deliver(message["data"])
            except (RedisError, OSError):
                lost = True
                log.warning("lost the Redis event channel; retrying in %.0f s", RETRY_SECONDS, exc_info=True)
                await asyncio.sleep(RETRY_SECONDS)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
