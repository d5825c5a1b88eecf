"""What the Redis feed store's writes cost: a follow merging an author's recent notes into one feed,
and a new note fanned out to its author's followers' feeds.

```
python -m bench.redis_feeds            # Redis on 127.0.0.1:6379 (CORDEE_BENCH_REDIS_URL), a prefix of its own
```

Each write runs ``--rounds`` times through ``feeds.redis.RedisFeedStore.write`` on feeds that exist
(their sentinel), with this process's CPU, Redis's own time in the feed script (``INFO
commandstats``: the ``evalsha`` microseconds, Redis's one thread) and the wall time per write,
beside a ``PING`` round trip in the same run (the floor of any call). Its keys are removed after.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis

from bench.stores import REDIS_URL, clean_redis
from cordee.config import load_settings
from cordee.feeds.redis import SENTINEL, RedisFeedStore
from cordee.redis_client import connect as connect_redis


async def _script_usec(redis: Redis) -> int:
    stats: dict[str, Any] = await redis.info("commandstats")
    return int(stats.get("cmdstat_evalsha", {}).get("usec", 0))


async def _measure(
    redis: Redis, rounds: int, one: Callable[[int], Awaitable[Any]]
) -> tuple[float, float, float]:
    """Client CPU, Redis's script time and wall time, in µs per call of ``one(round)``."""
    script, cpu, wall = await _script_usec(redis), time.process_time(), time.perf_counter()
    for n in range(rounds):
        await one(n)
    done_cpu, done_wall = time.process_time(), time.perf_counter()
    spent = await _script_usec(redis) - script
    return (done_cpu - cpu) / rounds * 1e6, spent / rounds, (done_wall - wall) / rounds * 1e6


def _row(name: str, figures: tuple[float, float, float], floor: float) -> None:
    cpu, script, wall = figures
    print(f"| {name} | {cpu:.0f} | {script:.0f} | {wall:.0f} | {wall / floor:.1f}× |")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    prefix = f"cordee-bench-{uuid.uuid4().hex[:10]}:"
    settings = load_settings({"CORDEE_REDIS_URL": REDIS_URL, "CORDEE_REDIS_PREFIX": prefix})
    redis = connect_redis(REDIS_URL)
    store = RedisFeedStore(None, settings, redis)  # type: ignore[arg-type]  # writes need no database
    owners = list(range(1, max(args.rounds, 1000) + 1))
    try:
        for owner in owners:
            await redis.zadd(store.key(owner), {SENTINEL: 0})
        floor = (await _measure(redis, args.rounds, lambda _: redis.ping()))[2]
        print(f"Redis `PING`: {floor:.0f} µs; {args.rounds} writes each, feeds of {settings.feed_size}")
        print()
        print("| write | client CPU µs | Redis (feed script) µs | wall µs | wall ÷ `PING` |")
        print("| --- | --- | --- | --- | --- |")
        note = 10**17
        for count in (10, 100, 400):

            def merge(n: int, count: int = count) -> Awaitable[Any]:  # a follow: notes into one feed
                return store.write({note + n * 1000 + i: [owners[n]] for i in range(count)})

            _row(
                f"a follow merges {count} notes into one feed",
                await _measure(redis, args.rounds, merge),
                floor,
            )
        for followers in (128, 1000):

            def fan_out(n: int, followers: int = followers) -> Awaitable[Any]:  # a note to its followers
                return store.write({note * 2 + n: owners[:followers]})

            _row(
                f"a note fanned out to {followers} feeds", await _measure(redis, args.rounds, fan_out), floor
            )
    finally:
        await clean_redis(prefix)
        await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main())
