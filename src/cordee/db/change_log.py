"""Every committed write told to every server process before any read that follows its answer.

In one process, the caches of what the data said — the home memo (``feeds/memo.py``), kept pages
and accounts' JSON (``rendering/cache.py``'s versions), who holds a token
(``api/mastodon/callers.py``) — hear of each committed write synchronously, before its writer
answers (``Database.committed``): a read that follows the answer finds them up to date. With
several processes, a write answered by one must be seen as well by the read another serves next;
the Redis bus (pub/sub) cannot promise that: its messages arrive when they arrive.

So each write's description — its events and its ``Changes`` — is appended to a Redis stream under
the next number of a counter, *before its writer answers* (``publish``); and before a request
reads a cache, its process catches up with the stream (``catch_up``): one round trip returning
the entries it has not applied yet, which it applies as it does its own commits. A write answered
before a request arrived is thus applied before that request reads: the guarantee of one process.

- Cost: a write that changes nothing a cache keeps (a marker, a notification read) appends
  nothing; the others, one round trip. Reads: one round trip per request that consults a cache,
  shared — requests that arrive while one is under way wait for the next, which serves them all
  (``catch_up``), and a request asks once, whichever caches it reads (``arrival``).
- A process skips its own entries: it applied them when it committed.
- Gaps: a process that cannot read the stream (Redis unreachable), finds an entry missing (trimmed
  while it was more than ``MAX_BEHIND`` entries behind) or the counter gone back (Redis emptied)
  forgets everything it kept: exact, at the price of its caches' use. A writer that cannot append
  (Redis unreachable at that moment) appends a "forget everything" entry as soon as it can (it
  retries every ``RETRY_SECONDS``); until then other processes may serve what its write changed
  from before it — a revoked token included — for no longer than their caches' backstop
  (``Database.trust_seconds``: a minute, since every Cordée program's writes come through here).
  Only a process cut off from Redis while the others reach it leaves such a window open for long;
  its own reads meanwhile forget everything (``catch_up`` fails).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from cordee.db.changes import Changes
from cordee.events import codec
from cordee.events.types import Event
from cordee.redis_client import ScriptCall, run_scripts

log = logging.getLogger(__name__)

#: Entries the stream keeps (about: Redis trims by whole nodes); a process further behind than
#: this forgets everything instead of reading them all.
MAX_BEHIND = 2_000
#: Seconds between a failed writer's attempts to append its "forget everything" entry.
RETRY_SECONDS = 0.5
#: Longest a request waits to catch up (Redis slow or unreachable) before it forgets everything
#: instead and goes on, and a writer to append its entry before it owes one (``publish``): what
#: does not need Redis keeps being served.
WAIT_SECONDS = 0.5

#: When the unit of work under way began (a request's arrival, set by ``app._Arrival``): every
#: write answered before then must be applied before it reads a cache. Unset: the moment of asking.
arrival: ContextVar[float | None] = ContextVar("cordee_arrival", default=None)

Apply = Callable[[Sequence[Event], Changes], None]

# Both scripts run atomically in Redis: the number and the entry go together.
_APPEND = """
local n = redis.call('INCR', KEYS[1])
local added = redis.pcall('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], n .. '-0', 'd', ARGV[1])
if type(added) == 'table' and added.err then
  -- the counter went back (its key was deleted): start the stream again from it
  redis.call('DEL', KEYS[2])
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], n .. '-0', 'd', ARGV[1])
end
if ARGV[3] then
  -- the write's events, on the Redis bus's channel: the same round trip
  redis.call('PUBLISH', KEYS[3], ARGV[3])
end
return n
"""
_SINCE = """
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
local last = tonumber(ARGV[1])
if n <= last or n - last > tonumber(ARGV[2]) then
  return {n}
end
return {n, redis.call('XRANGE', KEYS[2], (last + 1) .. '-0', '+')}
"""


class ChangeLog:
    def __init__(self, redis: Redis, prefix: str, events_channel: str | None = None) -> None:
        self._keys = [f"{prefix}changes:n", f"{prefix}changes"]
        #: The Redis bus's channel (``events/redis.py``): a write's events are published there by
        #: the script that appends the write, one round trip for both (``carries``) — a post's
        #: answer waited for two, each ~50 µs of the kernel's ``send`` on loopback (py-spy).
        self.events_channel = events_channel
        self._redis = redis
        self._append = redis.register_script(_APPEND)
        self._since = redis.register_script(_SINCE)
        #: Who this process is in the stream (its own entries are skipped).
        self._origin = uuid.uuid4().hex
        #: The number of the last entry applied; None before the first catch-up.
        self._last: int | None = None
        #: Every write answered before this moment (monotonic) has been applied.
        self._covered = float("-inf")
        self._under_way: asyncio.Task[None] | None = None
        self._owed: asyncio.Task[None] | None = None

    def carries(self, bus: object) -> bool:
        """Whether ``publish`` publishes a write's events on ``bus`` as well (a Redis bus on
        ``events_channel``): the writer then does not publish them again."""
        return self.events_channel is not None and getattr(bus, "channel", None) == self.events_channel

    async def publish(
        self, events: Sequence[Event], changes: Changes, ahead: Sequence[ScriptCall] = ()
    ) -> bool:
        """Append one committed write (already applied in this process), and publish its events
        on ``events_channel`` if set; never raises (should Redis fail, the events are not
        published either: the streams' gap handling resets them, ``events/redis.py``).

        ``ahead``: the write's own work in Redis (its feed entries), sent before the entry in the
        same round trip — a post's and a follow's answer waited for two; whether it all ran is
        returned."""
        if not events and changes.empty and not ahead:
            return True
        encoded = codec.encode(events)
        entry = {"o": self._origin, "e": encoded, "c": changes.to_wire()}
        keys: list[str] = self._keys
        args: list[bytes | int] = [orjson.dumps(entry), MAX_BEHIND]
        if events and self.events_channel is not None:
            keys, args = [*keys, self.events_channel], [*args, orjson.dumps(encoded)]
        ran = True
        try:
            # ``asyncio.timeout``, not ``wait_for``: no task of its own, no turns of the event loop
            # more before the writer answers (docs/benchmarks.md, "A post's latency and the open
            # streams").
            async with asyncio.timeout(WAIT_SECONDS):
                if ahead:
                    results = await run_scripts(self._redis, [*ahead, (self._append, keys, args)])
                    ran = not any(isinstance(result, Exception) for result in results[:-1])
                    if isinstance(results[-1], Exception):
                        raise results[-1]
                else:
                    await self._append(keys=keys, args=args)
        except (RedisError, OSError, TimeoutError):
            log.warning(
                "could not tell other processes of a write; they forget everything once Redis is back"
            )
            if self._owed is None:
                self._owed = asyncio.create_task(self._repay(), name="cordee-change-log-owed")
            return False
        return ran

    async def _repay(self) -> None:
        entry = orjson.dumps({"o": "", "e": [], "c": Changes.everything().to_wire()})
        while True:
            try:
                async with asyncio.timeout(WAIT_SECONDS):
                    await self._append(keys=self._keys, args=[entry, MAX_BEHIND])
            except (RedisError, OSError, TimeoutError):
                await asyncio.sleep(RETRY_SECONDS)
            else:
                self._owed = None
                return

    async def catch_up(self, apply: Apply) -> None:
        """Apply (through ``apply``) every other process's write answered before the unit of work
        under way began (``arrival``), unless that is done already."""
        now = time.monotonic()
        since = arrival.get()
        if since is None:
            since = now
        deadline = now + WAIT_SECONDS
        while self._covered < since:
            if self._under_way is None:
                self._under_way = asyncio.create_task(self._read(apply, time.monotonic()))
            try:
                # Shielded: a request cancelled while waiting must not cancel the others' round trip.
                async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                    await asyncio.shield(self._under_way)
            except TimeoutError:
                log.warning("reading other processes' writes is slow; forgetting every cache")
                forgotten = time.monotonic()
                apply((), Changes.everything())
                # As good as applying every write answered until now (later reads find nothing
                # kept from before): no other request waiting for the same read waits any longer.
                self._covered = max(self._covered, forgotten)
                self._under_way = None  # the next request asks afresh, not behind a hung round trip

    async def _read(self, apply: Apply, sent: float) -> None:
        try:
            last = -1 if self._last is None else self._last
            try:
                found = await self._since(keys=self._keys, args=[last, MAX_BEHIND])
            except (RedisError, OSError):
                log.warning("cannot read other processes' writes; forgetting every cache", exc_info=True)
                apply((), Changes.everything())
                return
            try:
                self._take(apply, int(found[0]), found[1] if len(found) > 1 else None)
            except Exception:  # an entry this process cannot read: it must not serve from before it
                log.exception("unreadable entry in the change log; forgetting every cache")
                apply((), Changes.everything())
        finally:
            self._covered = max(self._covered, sent)
            if self._under_way is asyncio.current_task():
                self._under_way = None

    def _take(self, apply: Apply, newest: int, entries: list[Any] | None) -> None:
        last = self._last
        self._last = newest
        if newest == last:
            return
        if last is None:  # a first read: whatever was kept before it was never checked
            apply((), Changes.everything())
            return
        if entries is None or newest < last:
            apply((), Changes.everything())  # too far behind, or the counter went back
            return
        expected = last + 1
        for entry_id, fields in entries:
            number = int(entry_id.split(b"-")[0])
            if number != expected:  # trimmed meanwhile
                apply((), Changes.everything())
                return
            expected += 1
            if not self._apply_entry(apply, dict(zip(fields[::2], fields[1::2], strict=True))[b"d"]):
                return
        if expected != newest + 1:
            apply((), Changes.everything())

    def _apply_entry(self, apply: Apply, data: bytes) -> bool:
        """Apply one entry (False when it made this process forget everything)."""
        entry = orjson.loads(data)
        if entry["o"] == self._origin:
            return True
        events = codec.decode(entry["e"])
        if len(events) != len(entry["e"]):  # a kind this process does not know (a newer process)
            apply((), Changes.everything())
            return False
        apply(events, Changes.from_wire(entry["c"]))
        return True

    async def close(self) -> None:
        for task in (self._owed, self._under_way):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
