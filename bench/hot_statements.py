"""What the hot path's statements cost on SQLite, one by one: binding their arguments and running
them, on a folder kept by ``bench.mix`` (its database, its sampled readers).

```
python -m bench.mix --phases home1 --duration 2 --keep      # seeds a graph, keeps its folder
python -m bench.hot_statements /tmp/cordee-mix-XXXX
```

Each statement runs ``--count`` times with arguments drawn anew each time (a sampled reader, the
newest notes), through a read-only ``sqlite3`` connection as ``db/hot.py``'s reader does, beside
``SELECT 1`` on the same connection (the floor of a statement's round trip, measured in the same
run). Binding is measured both ways in the same run: the compiled gather (``db/hot.py``'s
``_Gather``: each named parameter processed once, every position picked by one ``itemgetter``) and
the step-per-position plan it replaced — so the table shows what the gather saves on each
statement whatever the machine's speed that minute.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from cordee.db.hot import CACHE_KIB, MAX_ID, MMAP_BYTES, HotQuery, _Gather, _processed
from cordee.db.types import utcnow
from cordee.queries.timelines import ACCOUNT_LIVE, ACCOUNT_PAGES, HOME_CHECK, LIVE_VISIBLE
from cordee.rendering.marks import FLAGS

Draw = Callable[[], dict[str, Any]]


def _per_call(run: Callable[[Any], Any], inputs: list[Any]) -> float:
    """Microseconds a call of ``run`` over each of ``inputs``."""
    start = time.perf_counter()
    for one in inputs:
        run(one)
    return (time.perf_counter() - start) / len(inputs) * 1e6


def _run(conn: sqlite3.Connection, compiled: Any, arguments: Any) -> list[tuple[Any, ...]]:
    return _processed(compiled, conn.execute(compiled.sql, arguments).fetchall())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="a folder kept by `python -m bench.mix --keep`")
    parser.add_argument("--count", type=int, default=3000)
    args = parser.parse_args()
    conn = sqlite3.connect(args.folder / "data" / "cordee.sqlite3", isolation_level=None)
    conn.execute("PRAGMA query_only=ON")
    conn.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
    conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    readers = [int(line.split()[1]) for line in (args.folder / "readers.txt").read_text().splitlines()]
    newest = [row[0] for row in conn.execute("SELECT id FROM statuses ORDER BY id DESC LIMIT 2000")]
    authors = [row[0] for row in conn.execute("SELECT id FROM accounts LIMIT 1000")]
    draw = random.Random(7)
    now = utcnow()

    def reader_and(count: int) -> Draw:
        return lambda: {"viewer": draw.choice(readers), "now": now, "ids": draw.sample(newest, count)}

    cases: list[tuple[str, HotQuery, Draw]] = [
        ("home rules over a feed's 4 new notes (HOME_CHECK, 8 slots)", HOME_CHECK.fitting(4), reader_and(4)),
        ("a reader's marks on a page (FLAGS, 24 slots)", FLAGS.fitting(20), reader_and(20)),
        ("notes a reader may see, by id (LIVE_VISIBLE, 80 slots)", LIVE_VISIBLE, reader_and(20)),
        (
            "an account's page for a reader (ACCOUNT_PAGES)",
            ACCOUNT_PAGES[True, False, False],
            lambda: {
                "viewer": draw.choice(readers),
                "now": now,
                "author": draw.choice(authors),
                "limit": 20,
                "below": MAX_ID,
                "above": 0,
            },
        ),
        (
            "accounts' counters (ACCOUNT_LIVE, 80 slots)",
            ACCOUNT_LIVE,
            lambda: {"ids": draw.sample(authors, 20)},
        ),
    ]
    floor = _per_call(lambda _: conn.execute("SELECT 1").fetchall(), [None] * args.count)
    print(f"`SELECT 1` on the same connection: {floor:.1f} µs a statement; {args.count} calls each\n")
    print("| statement | bind, gather µs | bind, step per position µs | used | run µs | run ÷ `SELECT 1` |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, query, params in cases:
        compiled = query.compiled("sqlite")
        drawn = [{k: v for k, v in params().items() if k in compiled.required} for _ in range(args.count)]
        kept = compiled.gather
        compiled.gather = _Gather(compiled.plan, query.lists)
        gather = _per_call(partial(query.arguments, "sqlite"), drawn)
        compiled.gather = None
        steps = _per_call(partial(query.arguments, "sqlite"), drawn)
        compiled.gather = kept
        prepared = [query.arguments("sqlite", p)[1] for p in drawn]
        run = _per_call(partial(_run, conn, compiled), prepared)
        used = "gather" if kept is not None else "steps"
        print(f"| {name} | {gather:.1f} | {steps:.1f} | {used} | {run:.1f} | {run / floor:.1f}× |")


if __name__ == "__main__":
    main()
