"""The real-time machinery of one server process, built from the settings: the event bus, the home
feeds (store, fan-out, reader) and the streaming hub. ``build_app`` owns one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from redis.asyncio import Redis
from starlette.applications import Starlette

from cordee.actions.tracked_matching import Tracker
from cordee.config import Settings
from cordee.db.change_log import ChangeLog
from cordee.db.engine import Database
from cordee.events.redis import RedisBus
from cordee.events.types import Event
from cordee.feeds import build_feeds
from cordee.feeds.fanout import FanOut
from cordee.redis_client import connect as connect_redis
from cordee.rendering.profile_pages import ProfilePages
from cordee.streaming.hub import Hub
from cordee.streaming.revocation import Sweeper


class Realtime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.redis: Redis | None = connect_redis(settings.redis_url) if settings.redis_url else None
        #: The bus to open the database with: Redis pub/sub when Redis is configured, else None
        #: (the database's in-process bus).
        self.bus: RedisBus | None = (
            RedisBus(self.redis, f"{settings.redis_prefix}events") if self.redis is not None else None
        )
        #: With the bus, what keeps each process's caches exact (``db/change_log.py``).
        self.change_log: ChangeLog | None = (
            ChangeLog(self.redis, settings.redis_prefix, self.bus.channel)
            if self.redis is not None and self.bus is not None
            else None
        )
        self.hub: Hub | None = None
        self._sweeper: Sweeper | None = None
        self._fanout: FanOut | None = None
        self._tracker: Tracker | None = None
        self._restore_signals: Callable[[], None] | None = None
        self._unsubscribe_cache: Callable[[], None] | None = None

    def attach(self, app: Starlette, db: Database) -> None:
        """Home feeds for ``db``: fan-out hooked into its writes, ``app.state.home`` to read them.
        Needs no running loop (tests that never run the lifespan still get feeds)."""
        if self._fanout is None:
            _store, self._fanout, app.state.home = build_feeds(self.settings, db, self.redis)
            memo = app.state.home.memo
            # Kept where the home memo is, under its generations (rendering/profile_pages.py).
            app.state.profile_pages = ProfilePages(memo) if memo is not None else None
        if self._tracker is None:  # tracked searches record their matches in the posting transaction
            self._tracker = Tracker(db, self.settings)
            self._tracker.attach()

    async def start(self, app: Starlette, db: Database) -> None:
        self.attach(app, db)
        if isinstance(db.bus, RedisBus):
            await db.bus.start()
            # Other processes' changes, for the notes streams render as their events arrive (requests
            # apply them from the change log first: db/change_log.py; the writer did, locally).
            self._unsubscribe_cache = db.bus.subscribe(self._forget(db))
        self.hub = Hub(db, self.settings)
        self.hub.start(db.bus)
        if isinstance(db.bus, RedisBus):
            db.bus.on_gap(self.hub.reset_streams)
        app.state.hub = self.hub
        self._sweeper = Sweeper(self.hub, db)
        self._sweeper.start()
        self._restore_signals = self.hub.drain_on_signals()

    @staticmethod
    def _forget(db: Database) -> Callable[[Sequence[Event]], Awaitable[None]]:
        async def forget(events: Sequence[Event]) -> None:
            db.entities.forget(events)

        return forget

    async def stop(self, db: Database) -> None:
        """Close every stream, then stop listening; the database stays open (its owner closes it)."""
        if self._unsubscribe_cache is not None:
            self._unsubscribe_cache()
            self._unsubscribe_cache = None
        if self._restore_signals is not None:
            self._restore_signals()
            self._restore_signals = None
        if self._sweeper is not None:
            await self._sweeper.stop()
            self._sweeper = None
        if self.hub is not None:
            await self.hub.stop()
        if isinstance(db.bus, RedisBus):
            await db.bus.stop()
        if self._fanout is not None:
            self._fanout.detach()
            self._fanout = None
        if self._tracker is not None:
            self._tracker.detach()
            self._tracker = None
        if self.redis is not None:
            await self.redis.aclose()
