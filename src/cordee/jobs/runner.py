"""Registry and runner of periodic tasks; ``run_due`` lets tests step the runner inline."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from cordee.config import Settings
from cordee.db.engine import Database

log = logging.getLogger(__name__)

#: A periodic task: does whatever is due now and returns how many items it handled.
Task = Callable[[Database, Settings], Awaitable[int]]


@dataclass(frozen=True)
class Registered:
    name: str
    run: Task


_tasks: list[Registered] = []


def periodic(name: str) -> Callable[[Task], Task]:
    """Decorator: register ``task`` to run on every tick of the runner."""

    def register(task: Task) -> Task:
        if all(t.name != name for t in _tasks):
            _tasks.append(Registered(name, task))
        return task

    return register


def registered() -> list[Registered]:
    _load_task_modules()
    return list(_tasks)


def _load_task_modules() -> None:
    """Import the modules that define periodic tasks, so their decorators have run."""
    import importlib

    for module in TASK_MODULES:
        importlib.import_module(module)


#: Modules that define ``@periodic`` tasks (add yours here).
TASK_MODULES: list[str] = [
    "cordee.jobs.media_and_polls",
    "cordee.jobs.media_video",
    "cordee.jobs.scheduled_statuses",
    "cordee.feeds.sql",
    "cordee.feeds.outbox",
    "cordee.jobs.push",
    "cordee.jobs.tracking",
    "cordee.jobs.campaign_messages",
]


async def run_due(db: Database, settings: Settings) -> dict[str, int]:
    """Run every task once; returns how much each did. Tests call this to step the runner."""
    done: dict[str, int] = {}
    for task in registered():
        try:
            done[task.name] = await task.run(db, settings)
        except Exception:  # one failing task must not stop the others; it is retried next tick
            log.exception("periodic task %s failed", task.name)
            done[task.name] = 0
    return done


class Runner:
    """Runs ``run_due`` every ``interval`` seconds in the server process until stopped."""

    def __init__(self, db: Database, settings: Settings, interval: float = 1.0) -> None:
        self._db = db
        self._settings = settings
        self._interval = interval
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def start(self) -> None:
        # Before the server answers anything: importing the tasks' modules on the first tick held
        # the event loop ~150–200 ms (aiohttp loads the system's CA certificates for Web Push).
        _load_task_modules()
        self._task = asyncio.create_task(self._loop(), name="cordee-jobs")

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            await run_due(self._db, self._settings)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self._interval)

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            await self._task
