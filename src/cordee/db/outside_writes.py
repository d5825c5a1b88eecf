"""Writes to a SQLite file by another program, seen within a fraction of a second.

A process's caches (the home memo, kept pages, rendered bodies, who holds a token) hear of every
write the process commits (``Database.committed``), and of other server processes' through the
change log. A program that writes the same SQLite file and tells nobody — the CLI run beside a
server without Redis (``cordee user disable``) — was only outlived: each cache trusted what it read
for a few seconds at most (the home memo 10 s, callers 1 s), then read it all again. Under load
that re-reading was a cost of its own: every 10 s each reader's next home page ran the home rules
over its whole window again, and most requests looked their token up again because the answer
was a second old (docs/benchmarks.md, "Caches trust for a minute").

SQLite says when such a write happens: ``PRAGMA data_version`` on a connection changes when another
connection committed to the file since it last asked, never for the connection's own commits. The
writers' connection (``group_commit.py``) commits every write of this process (its other
connections only read: the hot reader, and the checkpointer, whose ``PASSIVE`` checkpoints leave
the value as it is: tests/test_sqlite_checkpoint.py), so a change seen there is someone
else's write. Only a process without the change log watches: with it (Redis), the other server
processes' writes are theirs to tell, and the CLI's go through it too. Asked
every ``INTERVAL`` seconds (one hop to the writers' thread, queued behind the commits under way),
a change makes every cache forget everything, and the caches' own age bounds become a backstop
(``WATCHED_AGE``) for a write nobody could have seen.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

#: Seconds between two looks at the writers' connection: how long another program's write may
#: go unseen (plus a turn of the event loop).
INTERVAL = 0.25
#: How long caches trust what they read while this process watches (``Database.trust_seconds``):
#: a backstop only.
WATCHED_AGE = 60.0


class OutsideWrites:
    """Asks ``others_committed`` every ``interval`` seconds and calls ``forget`` when it says yes
    (or cannot answer)."""

    def __init__(
        self,
        others_committed: Callable[[], Awaitable[bool]],
        forget: Callable[[], None],
        interval: float = INTERVAL,
    ) -> None:
        self._others_committed = others_committed
        self._forget = forget
        self._interval = interval
        self._task: asyncio.Task[None] | None = None
        #: Times another program's write was seen (or could not be ruled out).
        self.seen = 0

    @property
    def watching(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Take the writers' connection's first value (caches filled before it are forgotten),
        then keep looking."""
        if self._task is None:
            await self._look()
            self._task = asyncio.create_task(self._run(), name="sqlite-outside-writes")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self._look()

    async def _look(self) -> None:
        try:
            changed = await self._others_committed()
        except Exception:  # e.g. the writers' connection just failed: nothing can be ruled out
            log.warning(
                "could not ask SQLite for other programs' writes; forgetting every cache", exc_info=True
            )
            changed = True
        if changed:
            self.seen += 1
            self._forget()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
