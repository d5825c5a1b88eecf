"""Reading a home timeline from its feed: the candidate ids, the feed rebuilt first when missing."""

from __future__ import annotations

from cordee.config import Settings
from cordee.db.engine import Database
from cordee.feeds.base import FeedStore
from cordee.feeds.fanout import rebuild_entries


class HomeTimeline:
    def __init__(self, db: Database, settings: Settings, store: FeedStore) -> None:
        self._db = db
        self._settings = settings
        self.store = store

    async def rebuild(self, account_id: int) -> None:
        """Recompute a feed from the follow graph (new account, or back after a long absence)."""
        await self.store.rebuild(account_id, rebuild_entries(account_id, self._settings.feed_size))

    async def candidate_ids(self, account_id: int, *, below: int | None, above: int | None) -> list[int]:
        """The feed's note ids strictly between ``above`` and ``below``, newest first. The home
        query filters them (and adds followed high-follower accounts' notes) — see
        ``queries.timelines.home_feed_query``."""
        ids = await self.store.read(account_id, below=below, above=above)
        if ids is None:
            await self.rebuild(account_id)
            ids = await self.store.read(account_id, below=below, above=above)
        return ids or []
