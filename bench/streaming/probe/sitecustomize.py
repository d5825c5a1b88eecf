"""Loaded into the server under test by the benchmark (its directory is put first on PYTHONPATH,
with ``BENCH_PROBE_FILE`` set, for the server process only): records the garbage collector's
pauses, which stop every stream of the process while they last.

Every collection's wall time is measured through ``gc.callbacks`` (a call at its start and end:
negligible next to a collection); pauses of 10 ms or more are kept with their start time
(``time.monotonic``, the clock the benchmark uses), and the totals per generation. A thread writes
them to ``BENCH_PROBE_FILE``.<pid> (JSON) every half second. ``BENCH_GC_THRESHOLD`` (``"a,b,c"``) calls
``gc.set_threshold`` first: the benchmark's ``--gc-threshold`` option, to measure a tuning.

Outside the benchmark (no ``BENCH_PROBE_FILE``) it does nothing.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import threading
import time
from typing import Any

KEEP_MS = 10.0
MAX_PAUSES = 20_000


def _install(path: str) -> None:
    threshold = os.environ.get("BENCH_GC_THRESHOLD", "").strip()
    if threshold:
        gc.set_threshold(*(int(x) for x in threshold.split(",")))
    started = [0.0, 0.0]
    stats: dict[str, Any] = {
        "threshold": list(gc.get_threshold()),
        "collections": [0, 0, 0],
        "total_ms": [0.0, 0.0, 0.0],
        "max_ms": [0.0, 0.0, 0.0],
        "pauses": [],  # [start (monotonic), ms, generation]
    }

    def callback(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0], started[1] = time.perf_counter(), time.monotonic()
            return
        ms = (time.perf_counter() - started[0]) * 1000
        generation = info["generation"]
        stats["collections"][generation] += 1
        stats["total_ms"][generation] += ms
        stats["max_ms"][generation] = max(stats["max_ms"][generation], ms)
        if ms >= KEEP_MS and len(stats["pauses"]) < MAX_PAUSES:
            stats["pauses"].append([started[1], ms, generation])

    def write() -> None:
        while True:
            time.sleep(0.5)
            # Only the process that runs the application writes: a server's supervisor (granian's
            # main process, uvicorn's with ``--workers``) would overwrite the record with its own.
            if "starlette" not in sys.modules:
                continue
            snapshot = {key: list(value) for key, value in stats.items()}
            # One file a process: a server with several workers has each write its own.
            mine = f"{path}.{os.getpid()}"
            with open(mine + ".tmp", "w") as f:
                json.dump(snapshot, f)
            os.replace(mine + ".tmp", mine)

    gc.callbacks.append(callback)
    threading.Thread(target=write, name="bench-gc-probe", daemon=True).start()


if os.environ.get("BENCH_PROBE_FILE"):
    _install(os.environ["BENCH_PROBE_FILE"])
