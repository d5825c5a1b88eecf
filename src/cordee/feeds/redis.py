"""The Redis feed store: each home feed is a sorted set ``<prefix>feed:<account id>``.

Every member has the score 0 and is the note id zero-padded to 20 digits, so that the set is
ordered by id *exactly* (lexicographic order of equal-score members) — a float score cannot hold a
64-bit id. A sentinel member (twenty zeros, the lowest) marks a feed that exists even when empty.
Fan-out runs after commit, in the writing process, pipelined in batches; a script adds to a feed
only if it exists, and trims it once it holds an eighth more than its size (``slack``). A feed expires
when nobody reads it for ``feed_inactive_days``; reading refreshes it; a missing feed is rebuilt
from the database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.config import Settings
from cordee.db.engine import Database
from cordee.db.tables import Status
from cordee.feeds.base import Entries, Owners, owners_by_status
from cordee.redis_client import ScriptCall, run_scripts

SENTINEL = "0" * 20
BATCH = 500  # feeds per script call

# KEYS: feeds; ARGV[1]: feed size; ARGV[2]: slack; ARGV[3…]: members. Only existing feeds get the
# members (an existing feed has at least its sentinel: ``ZCARD`` tells both whether it exists and
# how long it is). A feed is trimmed back to its size once it holds ``slack`` entries more, not on
# every push: measured on 128 feeds of 800 entries, the script took 421–453 µs of Redis's one
# thread a note trimming every time, 316–339 µs this way. A feed longer than its size for a while
# is harmless, as the SQL store's, trimmed by its sweep: reads ask for ``feed_size`` entries at
# most. Several members at once: a follow merges the author's recent notes into one feed in one
# call (it was one call per note, pipelined: ~30 % of a follow's time on PostgreSQL + Redis).
_PUSH = """
local size = tonumber(ARGV[1])
local longest = size + tonumber(ARGV[2])
local scored = {}
for i = 3, #ARGV do
  scored[#scored + 1] = 0
  scored[#scored + 1] = ARGV[i]
end
for _, key in ipairs(KEYS) do
  local n = redis.call('ZCARD', key)
  if n > 0 then
    n = n + redis.call('ZADD', key, unpack(scored)) - 1  -- its entries, the sentinel aside
    if n > longest then
      redis.call('ZREMRANGEBYRANK', key, 1, -(size + 1))
    end
  end
end
return 0
"""
#: Members per script call at most (Lua's ``unpack`` takes a few thousand values).
MEMBERS = 1000


def slack(feed_size: int) -> int:
    """Entries a feed may hold beyond ``feed_size`` before it is trimmed back (``_PUSH``): an
    eighth, so that a feed of 800 is trimmed once every hundred notes."""
    return max(1, feed_size // 8)


# KEYS[1]: a feed; ARGV: its time to live, the range's bounds, how many. A missing feed: nil. One
# script rather than a pipeline of two commands: redis-py's pipeline machinery was ~7 % of the
# server's samples reading homes on PostgreSQL + Redis (py-spy); over HTTP on 2 cores shared with
# PostgreSQL, Redis and wrk, the throughput did not move (docs/benchmarks.md).
_READ = """
if redis.call('EXPIRE', KEYS[1], ARGV[1]) == 0 then
  return false
end
return redis.call('ZREVRANGEBYLEX', KEYS[1], ARGV[2], ARGV[3], 'LIMIT', 0, ARGV[4])
"""


def member(status_id: int) -> str:
    return f"{status_id:020d}"


class RedisFeedStore:
    transactional = False

    def __init__(self, db: Database, settings: Settings, redis: Redis) -> None:
        self._db = db
        self._settings = settings
        self._redis = redis
        self._push = redis.register_script(_PUSH)
        self._window = redis.register_script(_READ)
        self._ttl = settings.feed_inactive_days * 86400

    def key(self, account_id: int) -> str:
        return f"{self._settings.redis_prefix}feed:{account_id}"

    async def push(
        self, session: AsyncSession, entries: Entries, params: Mapping[str, Any] | None = None
    ) -> Owners:
        return await self.write(await self.read_entries(session, entries, params))

    async def read_entries(
        self, session: AsyncSession, entries: Entries, params: Mapping[str, Any] | None = None
    ) -> dict[int, list[int]]:
        """What ``push`` would write: the owners of the feeds each note goes to (the SQL half)."""
        return owners_by_status(await session.execute(entries, dict(params or {})))

    async def write(self, by_status: Mapping[int, Sequence[int]]) -> Owners:
        """Push each note to the feeds of the owners given (the Redis half of ``push``); returns
        those owners. The script adds a note only to the feeds that exist: the others are
        announced all the same (a missing feed is rebuilt when read, whatever was announced)."""
        calls, owners = self.calls(by_status)
        if len(calls) == 1:  # a note to fewer than BATCH feeds: alone, without a pipeline's machinery
            script, keys, args = calls[0]
            await script(keys=keys, args=args)
        elif calls:
            for result in await run_scripts(self._redis, calls):
                if isinstance(result, Exception):
                    raise result
        return owners

    def calls(self, by_status: Mapping[int, Sequence[int]]) -> tuple[list[ScriptCall], Owners]:
        """What ``write`` sends, and the owners it announces: for a caller that sends them with
        other calls in one round trip (a transaction's change-log entry: ``Database.write``)."""
        # Notes bound for the same feeds go together: a new note to its author's followers, an
        # author's recent notes to a new follower's feed.
        by_owners: dict[tuple[int, ...], list[str]] = {}
        for status_id, owners in by_status.items():
            by_owners.setdefault(tuple(owners), []).append(member(status_id))
        size = self._settings.feed_size
        calls: list[ScriptCall] = [
            (
                self._push,
                [self.key(owner) for owner in owners[start : start + BATCH]],
                [size, slack(size), *members[first : first + MEMBERS]],
            )
            for owners, members in by_owners.items()
            for start in range(0, len(owners), BATCH)
            for first in range(0, len(members), MEMBERS)
        ]
        return calls, {owner for owners in by_status.values() for owner in owners}

    async def remove_statuses(
        self, session: AsyncSession, owners: Sequence[int], status_ids: Sequence[int]
    ) -> Owners:
        if not status_ids:
            return set()
        members = [member(s) for s in status_ids]
        async with self._redis.pipeline(transaction=False) as pipe:
            for owner in owners:
                pipe.zrem(self.key(owner), *members)
            await pipe.execute()
        return set(owners)

    async def remove_authors(
        self, session: AsyncSession, account_id: int, author_ids: Sequence[int]
    ) -> Owners:
        key = self.key(account_id)
        ids = [int(m) for m in await self._redis.zrange(key, 0, -1) if int(m)]  # type: ignore[arg-type]
        if not ids or not author_ids:
            return set()
        theirs = list(
            await session.scalars(
                select(Status.id).where(Status.id.in_(ids), Status.account_id.in_(author_ids))
            )
        )
        if not theirs:
            return set()
        await self._redis.zrem(key, *(member(i) for i in theirs))
        return {account_id}

    async def read(
        self, account_id: int, *, below: int | None, above: int | None, limit: int | None = None
    ) -> list[int] | None:
        key = self.key(account_id)
        high = "(" + member(below) if below is not None else "+"
        low = "(" + member(max(above, 0)) if above is not None else "(" + SENTINEL
        count = min(limit or self._settings.feed_size, self._settings.feed_size)
        found = await self._window(keys=[key], args=[self._ttl, high, low, count])
        if found is None:  # no such feed
            return None
        return [int(m) for m in found]

    async def rebuild(self, account_id: int, entries: Entries, params: Mapping[str, Any]) -> Owners:
        key = self.key(account_id)
        # Make the feed exist first: notes fanned out while the rebuild reads the database land
        # in it instead of being skipped.
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            pipe.zadd(key, {SENTINEL: 0})
            pipe.expire(key, self._ttl)
            await pipe.execute()
        async with self._db.read() as session:
            ids = [row[1] for row in await session.execute(entries, params)]
        if ids:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.zadd(key, {member(i): 0 for i in ids})
                pipe.zremrangebyrank(key, 1, -(self._settings.feed_size + 1))
                await pipe.execute()
        return {account_id}
