"""Home feeds: for each account, the ids of the newest notes of the accounts it follows.

- ``base.FeedStore``: the interface, with two implementations: ``sql.SqlFeedStore`` (the default, a
  table in the main database) and ``redis.RedisFeedStore`` (sorted sets, when Redis is configured).
- ``fanout.FanOut``: turns committed changes (a note, a delete, a follow, a block, a mute) into
  feed updates. Accounts with many followers are not fanned out (see ``fanout``).
- ``memo.HomeMemo``: what the home rules decided about recent pages, per reader, until a commit
  may have changed it (one process only).
- ``home.HomeTimeline``: reads a home timeline page from a feed (rebuilt from the follow graph when
  missing), merged with the notes of followed high-follower accounts, through the same visibility
  rules and paginator as every other list.
"""

from __future__ import annotations

from redis.asyncio import Redis

from cordee.config import Settings
from cordee.db.engine import Database
from cordee.feeds.base import FeedStore
from cordee.feeds.fanout import FanOut
from cordee.feeds.home import HomeTimeline
from cordee.feeds.memo import HomeMemo


def build_feeds(
    settings: Settings, db: Database, redis: Redis | None
) -> tuple[FeedStore, FanOut, HomeTimeline]:
    """The feed store chosen by the settings, its fan-out attached to ``db``, and the home reader."""
    store: FeedStore
    if redis is not None:
        from cordee.feeds.redis import RedisFeedStore

        store = RedisFeedStore(db, settings, redis)
    else:
        from cordee.feeds.sql import SqlFeedStore

        store = SqlFeedStore(db, settings)
    fanout = FanOut(db, settings, store)
    fanout.attach()
    if not store.transactional:
        db.outbox_replay = fanout.replay
    memo = None
    # The memo hears of every commit before a read that follows it (one process, or several through
    # the change log: see memo.py), and pages are read from the primary: a replica's lag would let
    # a page from before a commit be remembered after it.
    if db.coherent and db.hot_replica is db.hot:
        memo = HomeMemo(trust=db.trust_seconds)
        db.committed.append(memo.committed)
    return store, fanout, HomeTimeline(db, settings, store, memo)


__all__ = ["FanOut", "FeedStore", "HomeTimeline", "build_feeds"]
