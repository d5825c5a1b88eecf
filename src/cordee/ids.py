"""Time-sortable 64-bit ids, Mastodon style: milliseconds since the epoch in the high 48 bits, then
a worker number (6 bits) and a per-millisecond sequence (10 bits). Sorting by id sorts by creation
time, which lets every list paginate on the primary key alone. Serialised as strings in the API
(JavaScript loses precision above 2**53).

The worker number tells processes apart: each server or CLI process leases one from the database
at start (``cordee.db.id_workers``), so two processes minting in the same millisecond cannot mint
the same id (Twitter's and Instagram's schemes do the same). Worker 0 is for a process without a
lease (tests, one-off scripts). Ids minted before worker numbers existed (ms << 16 | sequence) stay
valid: the millisecond is still the high 48 bits, so ``id_floor_at`` and sorting are unchanged.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable

WORKER_BITS = 6
SEQUENCE_BITS = 10
#: Leased worker numbers are 1..MAX_WORKER; 0 means "no lease".
MAX_WORKER = (1 << WORKER_BITS) - 1
_SEQUENCE_MAX = (1 << SEQUENCE_BITS) - 1
#: A clock behind the last minted millisecond by at most this much is waited for when a
#: millisecond's sequence runs out; further behind (a clock stepped back), ids run ahead of it.
_MAX_WAIT_MS = 5


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


class IdGenerator:
    """Mints ids for one process: unique, and each greater than every one minted before."""

    def __init__(self, worker: int = 0, clock: Callable[[], int] = _wall_ms) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._worker = worker
        self._last_ms = 0
        self._sequence = 0

    @property
    def worker(self) -> int:
        return self._worker

    def set_worker(self, worker: int) -> None:
        if not 0 <= worker <= MAX_WORKER:
            raise ValueError(f"worker must be within 0..{MAX_WORKER}, got {worker}")
        with self._lock:
            if worker != self._worker:
                self._worker = worker
                # A lower number in the same millisecond would mint smaller ids: go to the next one.
                self._sequence = _SEQUENCE_MAX

    def _first_sequence(self) -> int:
        # Without a lease, start at a random point (as before workers existed), so that two
        # unleased processes rarely collide; with one, nobody else shares this worker number.
        return 0 if self._worker else secrets.randbelow((_SEQUENCE_MAX + 1) // 2)

    def new_id(self, at_ms: int | None = None) -> int:
        """A new id. ``at_ms`` mints it for that millisecond (seeding history); if this generator
        has already minted later ones, it continues after them instead, so ids never repeat."""
        with self._lock:
            now = self._clock() if at_ms is None else at_ms
            if now > self._last_ms:
                self._last_ms = now
                self._sequence = self._first_sequence()
            elif self._sequence < _SEQUENCE_MAX:
                self._sequence += 1
            else:
                # This millisecond's sequence is used up (or the clock went back and we are still
                # in the millisecond we had reached): wait for the clock, or step ahead of it.
                if at_ms is None and self._last_ms - now <= _MAX_WAIT_MS:
                    while now <= self._last_ms:
                        time.sleep(0)
                        now = self._clock()
                    self._last_ms = now
                else:
                    self._last_ms += 1
                self._sequence = self._first_sequence()
            return (
                (self._last_ms << (WORKER_BITS + SEQUENCE_BITS))
                | (self._worker << SEQUENCE_BITS)
                | (self._sequence)
            )


_process = IdGenerator()


def new_id(at_ms: int | None = None) -> int:
    """A new id, strictly greater than every id this process generated before."""
    return _process.new_id(at_ms)


def set_worker(worker: int) -> None:
    """Use ``worker`` (a leased number, or 0 for none) for this process's ids from now on."""
    _process.set_worker(worker)


def current_worker() -> int:
    return _process.worker


def worker_of(snowflake: int) -> int:
    """The worker number inside an id (meaningless for ids minted before workers existed)."""
    return (snowflake >> SEQUENCE_BITS) & MAX_WORKER


def id_floor_at(ms: int) -> int:
    """The smallest id that can have been generated at ``ms`` (for time-based id bounds)."""
    return ms << (WORKER_BITS + SEQUENCE_BITS)
