"""Redis clients whose commands are packed by hiredis, in C.

redis-py's asyncio connections pack every command in Python, one ``encode`` per argument; a note's
fan-out is one script call whose arguments name its followers' feeds (~130 arguments for 128
followers): 75 µs to pack in Python, 10 µs with hiredis (already parsing the replies), which packs
them the same, byte for byte (``tests/test_redis_client.py``). Small beside a post's ~3.1 ms of
server CPU on PostgreSQL + Redis (cProfile, which inflates many small calls, had put it at ~450).
Arguments hiredis does not take (a ``bool``, which redis-py refuses too) and commands written with
a space (``SCRIPT LOAD``: redis-py splits them) go through redis-py's own packing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import hiredis
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

#: A script to run, with its keys and arguments.
ScriptCall = tuple[AsyncScript, Sequence[str], Sequence[Any]]


def _has_space(first: Any) -> bool:
    return (isinstance(first, str) and " " in first) or (isinstance(first, bytes) and b" " in first)


_PACKED: dict[type[AbstractConnection], type[AbstractConnection]] = {}


def packed_by_hiredis(base: type[AbstractConnection]) -> type[AbstractConnection]:
    """``base`` (a TCP, TLS or Unix socket connection) packing its commands with hiredis."""
    if base in _PACKED:
        return _PACKED[base]

    class Packed(base):  # type: ignore[valid-type,misc]
        def pack_command(self, *args: Any) -> list[bytes]:
            if not _has_space(args[0]):
                try:
                    return [hiredis.pack_command(args)]
                except TypeError:
                    pass
            return list(super().pack_command(*args))

    Packed.__name__ = Packed.__qualname__ = f"HiredisPacked{base.__name__}"
    _PACKED[base] = Packed
    return Packed


def connect(url: str) -> Redis:
    """A client for ``url`` (``redis://``, ``rediss://``, ``unix://``) as ``Redis.from_url`` makes
    it, its connections packing commands with hiredis."""
    client = Redis.from_url(url)
    pool = client.connection_pool
    pool.connection_class = packed_by_hiredis(pool.connection_class)
    return client


async def run_scripts(redis: Redis, calls: Sequence[ScriptCall]) -> list[Any]:
    """Run ``calls`` in one round trip, in order (a pipeline of ``EVALSHA``s, not a transaction);
    their results in order, an error as its call's result. redis-py's own pipeline asks ``SCRIPT
    EXISTS`` for its scripts first, a round trip more; here a script Redis lacks (restarted,
    flushed) is loaded and the whole batch sent again — in order still, so each call must bear
    running twice. Measured: two script calls 237 µs of client CPU one after the other, 131 µs so."""
    results: list[Any] = []
    for attempt in range(2):
        async with redis.pipeline(transaction=False) as pipe:
            for script, keys, args in calls:
                pipe.execute_command("EVALSHA", script.sha, len(keys), *keys, *args)
            results = await pipe.execute(raise_on_error=False)
        if attempt or not any(isinstance(result, NoScriptError) for result in results):
            break
        for script in {call[0].sha: call[0] for call in calls}.values():
            await redis.script_load(script.script)
    return results
