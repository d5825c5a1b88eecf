"""Time-sortable 64-bit ids, Mastodon style: milliseconds since the epoch in the high 48 bits and a
per-millisecond sequence in the low 16. Sorting by id sorts by creation time, which lets every list
paginate on the primary key alone. Serialised as strings in the API (JavaScript loses precision
above 2**53)."""

from __future__ import annotations

import secrets
import threading
import time

_lock = threading.Lock()
_last_ms = 0
_sequence = 0


def new_id(at_ms: int | None = None) -> int:
    """A new id, strictly greater than every id this process generated before."""
    global _last_ms, _sequence
    with _lock:
        now = int(time.time() * 1000) if at_ms is None else at_ms
        if now > _last_ms:
            _last_ms = now
            # Start from a random point so that two processes rarely collide in the same millisecond.
            _sequence = secrets.randbelow(1 << 12)
        else:
            _sequence += 1
            if _sequence >= 1 << 16:
                _last_ms += 1
                _sequence = 0
        return (_last_ms << 16) | _sequence


def id_floor_at(ms: int) -> int:
    """The smallest id that can have been generated at ``ms`` (for time-based id bounds)."""
    return ms << 16
