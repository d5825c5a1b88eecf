"""SQLite's WAL checkpoints, in a thread of their own.

In WAL mode a commit appends the pages it changed to the write-ahead log; a *checkpoint* copies
them back into the database file. By default SQLite checkpoints in the committing connection as
soon as the log holds 1,000 pages: under a stream of posts (each batch appends a few hundred
pages, a feed page per follower reached) one commit in a few also copied the log into the file
and synced it, in the writers' thread — the thread that bounds the write rate (profiled, posts
alone: writing files, the log and those copies, was ~40 % of its CPU).

Here a thread with a connection of its own checkpoints instead (``PASSIVE``: it never waits for
the writer or the readers, nor makes them wait), once commits were made, ``CHECKPOINT_EVERY``
seconds apart at least: a page that several batches changed meanwhile is copied once, and the
writers' thread only appends to the log. Measured in-process, posts alone: the writers' thread's
time in ``COMMIT`` 1.63–1.70 → 0.95–1.02 s for 2,000 posts. The writers' own automatic checkpoint
stays, at a larger size (``BACKSTOP_PAGES``), should this thread fall behind.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

from cordee.db.hot import SqliteFile

log = logging.getLogger(__name__)

#: Seconds between two checkpoints at least (a page changed meanwhile by many commits is copied once).
CHECKPOINT_EVERY = 0.25
#: The writers' connection checkpoints by itself past this many pages in the log (~40 MB).
BACKSTOP_PAGES = 10_000


class Checkpointer:
    def __init__(self, file: SqliteFile, every: float = CHECKPOINT_EVERY) -> None:
        self._file = file
        self._every = every
        self._due = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def committed(self) -> None:
        """A commit appended pages to the log: a checkpoint is due (cheap; any thread)."""
        self._due.set()

    def close(self) -> None:
        self._stopping.set()
        self._due.set()
        self._thread.join()

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while True:
                self._due.wait()
                if self._stopping.is_set():
                    return
                self._due.clear()
                try:
                    if conn is None:  # once a commit was made: the file exists, in WAL mode
                        conn = self._file.connect(isolation_level=None, check_same_thread=False)
                        # As durable as the writers: a checkpoint syncs the log, then the file.
                        conn.execute("PRAGMA synchronous=FULL")
                        conn.execute("PRAGMA journal_mode").fetchall()  # reads the header: WAL
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:  # the writers' own checkpoint takes over (``BACKSTOP_PAGES``)
                    log.exception("checkpointing the SQLite log failed")
                if self._stopping.wait(self._every):
                    return
        finally:
            if conn is not None:
                conn.close()
