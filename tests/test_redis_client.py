"""Redis clients packing their commands with hiredis (``cordee/redis_client.py``): the same bytes
as redis-py's own packing, and the same behaviour against a real Redis on 127.0.0.1:6379."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.asyncio.connection import Connection, UnixDomainSocketConnection
from redis.exceptions import DataError, ResponseError

from cordee.redis_client import connect, packed_by_hiredis, run_scripts

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.mark.parametrize(
    "args",
    [
        ("EVALSHA", b"0123abcd", 2, "cordee:feed:1", "cordee:feed:2", 800, 100, "00000000000000000042"),
        ("SET", "clé", "naïve ☃", "EX", 60),
        ("ZADD", "k", 1.5, "a", 0.1, "b", 1e20, "c", -0.0, "d", 12345678901234567890, "e"),
        ("XADD", b"stream", b"*", b"o", b"", b"\x00\xff binary"),
        ("SCRIPT LOAD", "return 1"),  # a command written with a space: split, as redis-py does
    ],
)
def test_commands_are_packed_byte_for_byte_as_redis_py_packs_them(args: tuple[Any, ...]) -> None:
    ours, theirs = packed_by_hiredis(Connection)(), Connection()
    assert b"".join(ours.pack_command(*args)) == b"".join(theirs.pack_command(*args))
    assert b"".join(ours.pack_commands([args, args])) == b"".join(theirs.pack_commands([args, args]))


def test_what_hiredis_does_not_take_is_refused_as_redis_py_refuses_it() -> None:
    with pytest.raises(DataError):
        packed_by_hiredis(Connection)().pack_command("SET", "k", True)


def test_every_kind_of_connection_keeps_its_own_class_and_one_packed_class_each() -> None:
    assert issubclass(packed_by_hiredis(UnixDomainSocketConnection), UnixDomainSocketConnection)
    assert packed_by_hiredis(Connection) is packed_by_hiredis(Connection)
    client = connect("unix:///tmp/nowhere.sock")
    assert issubclass(client.connection_pool.connection_class, UnixDomainSocketConnection)


@pytest.fixture
async def redis() -> AsyncIterator[tuple[Redis, str]]:
    client, prefix = connect(REDIS_URL), f"cordee-test-{uuid.uuid4().hex[:10]}:"
    try:
        yield client, prefix
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def test_commands_scripts_and_pipelines_work_against_redis(redis: tuple[Redis, str]) -> None:
    client, prefix = redis
    assert await client.set(f"{prefix}text", "naïve ☃", ex=60)
    assert (await client.get(f"{prefix}text")).decode() == "naïve ☃"
    # A script with many arguments, registered (SCRIPT LOAD, then EVALSHA), as the feeds' are.
    count = client.register_script("return #ARGV + #KEYS")
    keys, args = [f"{prefix}feed:{i}" for i in range(130)], [f"{i:020d}" for i in range(200)]
    assert await count(keys=keys, args=args) == 330
    async with client.pipeline(transaction=False) as pipe:
        pipe.zadd(f"{prefix}z", {"a": 1.5, "b": 2})
        pipe.zrange(f"{prefix}z", 0, -1, withscores=True)
        added, members = await pipe.execute()
    assert added == 2 and members == [(b"a", 1.5), (b"b", 2.0)]


async def test_scripts_run_in_order_in_one_round_trip_loaded_first_when_redis_lacks_them(
    redis: tuple[Redis, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``run_scripts``: a transaction's feed entries and its change-log entry go in one pipeline of
    ``EVALSHA``s; scripts Redis has never seen (as after a restart) are loaded and the batch sent
    again, in order; an error is its call's result, the others run."""
    client, prefix = redis
    fresh = uuid.uuid4().hex  # bodies Redis cannot have cached
    push = client.register_script(f"-- {fresh}\nreturn redis.call('RPUSH', KEYS[1], ARGV[1])")
    length = client.register_script(f"-- {fresh}\nreturn redis.call('LLEN', KEYS[1])")
    failing = client.register_script(f"-- {fresh}\nreturn redis.error_reply('refused')")
    key = f"{prefix}list"
    sent: list[int] = []
    execute = Pipeline.execute

    async def counted(self: Pipeline, raise_on_error: bool = True) -> list[Any]:
        sent.append(len(self.command_stack))
        return await execute(self, raise_on_error)

    monkeypatch.setattr(Pipeline, "execute", counted)
    assert await run_scripts(client, [(push, [key], ["a"]), (push, [key], ["b"]), (length, [key], [])]) == [
        1,
        2,
        2,
    ]
    assert sent == [3, 3]  # NOSCRIPT for all three (none ran), loaded, sent again
    await client.script_load(failing.script)
    results = await run_scripts(client, [(push, [key], ["c"]), (failing, [key], []), (length, [key], [])])
    assert results[0] == 3 and isinstance(results[1], ResponseError) and results[2] == 3
    assert sent == [3, 3, 3]
    assert await client.lrange(key, 0, -1) == [b"a", b"b", b"c"]
