"""Full-text search: query latency over a seeded corpus, and the delay from posting to searchable.

    .venv/bin/python -m bench.search                      # 100K notes, SQLite then PostgreSQL
    .venv/bin/python -m bench.search --notes 1000000 --backends sqlite

For each backend: a fresh database (SQLite in a temporary directory; PostgreSQL: a database of the
run's own on 127.0.0.1:5432, dropped at the end), migrated, then ``--notes`` notes bulk-inserted
with their index rows (``status_search``, the very normaliser the actions use; on SQLite the FTS5
triggers fill the index as the actions' writes do). The text is synthetic: words drawn from a
Zipf-distributed vocabulary of 20,000 made-up words plus real French and English words (so
stemming and accents are exercised), 8 to 30 words a note, 50 % French, 40 % English, 10 % no
language, 10 % followers-only.

Latency: ``queries.search.search_statuses`` (the function ``/api/v2/search`` calls: parse, index,
``visible_to``) for a signed-in reader following 50 authors, limit 20, ``--runs`` per class of
query, each in its own read session; HTTP and rendering are not included. "cold" is the first
search of each class right after the database is opened (a fresh pool: new PostgreSQL backends,
whose catalog caches are empty; after a seed, the first reads of its pages), apart from the
warm p50/p95. Post → searchable:
``actions.statuses.post_status`` of a note with a unique word, then searches until it is found.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

from bench.stores import (
    Scratch,
    account_row,
    batches,
    close_scratch,
    follow_row,
    open_scratch,
    pg,
    pg_url,
)
from cordee.actions.accounts import Registration, create_local_account
from cordee.actions.statuses import NewStatus, post_status
from cordee.config import Settings
from cordee.db.engine import Database
from cordee.db.migrate import upgrade_async
from cordee.db.tables import Account, Follow, Status, StatusTag, Tag
from cordee.db.tables_search import StatusSearch
from cordee.db.types import utcnow
from cordee.ids import new_id
from cordee.queries.search import search_statuses
from cordee.search.text import index_body

BATCH = 2_000
AUTHORS = 2_000
REAL = [
    "bénévoles",
    "bénévole",
    "association",
    "assemblée",
    "générale",
    "école",
    "écoles",
    "vélo",
    "vélos",
    "météo",
    "climat",
    "fête",
    "quartier",
    "réunion",
    "marché",
    "solidarité",
    "volunteers",
    "volunteer",
    "running",
    "runs",
    "school",
    "schools",
    "garden",
    "meeting",
    "weather",
    "climate",
    "market",
    "festival",
    "neighbourhood",
    "cycling",
    "bikes",
]
SYLLABLES = [
    "ba",
    "be",
    "bi",
    "bo",
    "bu",
    "ca",
    "ce",
    "co",
    "da",
    "de",
    "di",
    "do",
    "fa",
    "fe",
    "fi",
    "ga",
    "go",
    "la",
    "le",
    "li",
    "lo",
    "ma",
    "me",
    "mi",
    "mo",
    "na",
    "ne",
    "no",
    "pa",
    "pe",
]


def vocabulary(rng: random.Random, size: int = 20_000) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    ordered = sorted(words)
    rng.shuffle(ordered)
    # Real words at ranks spread from common to rare.
    for i, word in enumerate(REAL):
        ordered.insert(5 + i * 97, word)
    return ordered


class Zipf:
    """Ranks drawn ~ 1/rank (cumulative table + bisection)."""

    def __init__(self, n: int, rng: random.Random) -> None:
        import bisect
        import itertools

        self.rng, self.bisect = rng, bisect.bisect
        self.cumulative = list(itertools.accumulate(1 / r for r in range(1, n + 1)))

    def __call__(self) -> int:
        return self.bisect(self.cumulative, self.rng.random() * self.cumulative[-1])


def notes(
    n: int, authors: list[int], words: list[str], tag_id: int, seed: int
) -> Iterator[tuple[dict[str, Any], dict[str, Any], Any]]:
    rng = random.Random(seed)
    zipf = Zipf(len(words), rng)
    now = utcnow()
    for i in range(n):
        text = " ".join(words[zipf() - 1] for _ in range(rng.randint(8, 30)))
        language = rng.choices(["fr", "en", None], [5, 4, 1])[0]
        status_id = new_id()
        row = {
            "id": status_id,
            "account_id": rng.choice(authors),
            "text": text,
            "content": f"<p>{text}</p>",
            "spoiler_text": "",
            "visibility": "private" if rng.random() < 0.1 else "public",
            "sensitive": False,
            "language": language,
            "in_reply_to_id": None,
            "in_reply_to_account_id": None,
            "reblog_of_id": None,
            "application_id": None,
            "replies_count": 0,
            "reblogs_count": 0,
            "favourites_count": 0,
            "created_at": now,
            "edited_at": None,
        }
        tag = {"status_id": status_id, "tag_id": tag_id} if i % 100 == 0 else None
        yield row, {"status_id": status_id, "body": index_body(text, "", language)}, tag


async def seed(db: Database, n: int, seed_value: int) -> tuple[int, list[str], float]:
    rng = random.Random(seed_value)
    words = vocabulary(rng)
    now = utcnow()
    authors = [new_id() for _ in range(AUTHORS)]
    viewer = authors[0]
    started = time.perf_counter()
    async with db.engine.begin() as conn:
        await conn.execute(insert(Account), [account_row(a, f"a{i}", now) for i, a in enumerate(authors)])
        follows = [follow_row(new_id(), viewer, a, now) for a in authors[1:51]]
        await conn.execute(insert(Follow), follows)
        tag_id = new_id()
        await conn.execute(
            insert(Tag), [{"id": tag_id, "name": "benchtag", "display_name": "benchtag", "created_at": now}]
        )
    rows = notes(n, authors, words, tag_id, seed_value)
    for batch in batches(({"s": s, "i": i, "t": t} for s, i, t in rows), BATCH):
        async with db.engine.begin() as conn:
            await conn.execute(insert(Status), [b["s"] for b in batch])
            await conn.execute(insert(StatusSearch), [b["i"] for b in batch])
            tags = [b["t"] for b in batch if b["t"]]
            if tags:
                await conn.execute(insert(StatusTag), tags)
    if db.engine.dialect.name == "postgresql":
        async with db.engine.connect() as conn:
            autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.exec_driver_sql("VACUUM ANALYZE")
    return viewer, words, time.perf_counter() - started


def query_classes(words: list[str]) -> dict[str, Callable[[random.Random], str]]:
    common, mid, rare = words[:20], words[100:1000], words[5000:20000]

    return {
        "rare word": lambda r: r.choice(rare),
        "common word": lambda r: r.choice(common),
        "common, by relevance": lambda r: r.choice(common),
        "two mid words": lambda r: f"{r.choice(mid)} {r.choice(mid)}",
        "phrase (2 common)": lambda r: f'"{r.choice(common)} {r.choice(common)}"',
        "mid OR mid": lambda r: f"{r.choice(mid)} OR {r.choice(mid)}",
        "mid -common": lambda r: f"{r.choice(mid)} -{r.choice(common)}",
        "stemmed fr (bénévoles)": lambda r: r.choice(["bénévoles", "benevole", "écoles", "velos"]),
        "#tag + mid word": lambda r: f"#benchtag {r.choice(mid)}",
        "word lang:fr from:a7": lambda r: f"{r.choice(common)} lang:fr from:a7",
    }


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def reuse(db: Database, n: int, seed_value: int) -> tuple[int, list[str]] | None:
    """The reader and the words of a database seeded earlier with the same ``n`` and seed, if any."""
    authors = " WHERE username " + ("GLOB 'a[0-9]*'" if db.engine.dialect.name == "sqlite" else "~ '^a[0-9]'")
    async with db.read() as session:
        try:
            count = await session.scalar(
                text(f"SELECT count(*) FROM statuses WHERE account_id IN (SELECT id FROM accounts{authors})")
            )
            viewer = await session.scalar(text("SELECT id FROM accounts WHERE username = 'a0'"))
        except Exception:  # a fresh file: no tables yet
            return None
    if count != n or viewer is None:
        return None
    return viewer, vocabulary(random.Random(seed_value))


async def kept_postgres(keep: Path) -> Scratch:
    """The PostgreSQL database named in ``keep/postgresql-database``, made (and named there) if none
    is: kept after the run, for the next one to reuse. Drop it by hand (``DROP DATABASE``) when done."""
    keep.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (a benchmark's set-up: nothing waits on it)
    record = keep / "postgresql-database"
    if record.exists():  # noqa: ASYNC240
        name = record.read_text().strip()
    else:
        name = f"cordee_bench_keep_{uuid.uuid4().hex[:10]}"
        await pg(f'CREATE DATABASE "{name}"')
        record.write_text(name + "\n")
    return Scratch(pg_url(name))  # no pg_name: close_scratch leaves it


async def run_backend(
    backend: str, n: int, runs: int, seed_value: int, keep: Path | None = None, only: list[str] | None = None
) -> list[tuple[str, ...]]:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = keep if keep is not None and backend == "sqlite" else Path(tmp)
        data_dir.mkdir(parents=True, exist_ok=True)
        if keep is not None and backend == "postgresql":
            scratch = await kept_postgres(keep)
        else:
            scratch = await open_scratch(data_dir, postgres=backend == "postgresql", redis=False)
        db = Database(scratch.url)
        try:
            await upgrade_async(scratch.url)
            kept = await reuse(db, n, seed_value) if keep is not None else None
            if kept is not None:
                viewer, words = kept
                print(f"[{backend}] reusing {n:,} notes in {keep}", flush=True)
            else:
                viewer, words, seconds = await seed(db, n, seed_value)
                print(f"[{backend}] seeded {n:,} notes in {seconds:.0f} s", flush=True)
            classes = {k: v for k, v in query_classes(words).items() if not only or any(o in k for o in only)}
            # Cold: the first search of each class in a fresh process (new pool, new PostgreSQL
            # backends: their catalog caches are empty; right after a seed, also the first reads of
            # the just-written pages). Drawn apart from the warm searches below.
            cold = {}
            for name, make in classes.items():
                cold[name], _ = await timed_search(
                    db, viewer, make(random.Random(f"{seed_value}:cold:{name}")), name
                )
            table: list[tuple[str, ...]] = []
            every: list[float] = []
            floor = []
            for _ in range(runs):
                started = time.perf_counter()
                async with db.read() as session:
                    await session.execute(text("SELECT 1"))
                floor.append((time.perf_counter() - started) * 1000)
            table.append(
                (
                    backend,
                    "floor: SELECT 1 in a read session",
                    f"{pct(floor, 0.5):.1f}",
                    f"{pct(floor, 0.95):.1f}",
                )
                + ("", "")
            )
            for name, make in classes.items():
                rng = random.Random(f"{seed_value}:{name}")  # each class its own draws: --only keeps them
                times, found = [], []
                for _ in range(runs):
                    elapsed, hits = await timed_search(db, viewer, make(rng), name)
                    times.append(elapsed)
                    found.append(hits)
                every += times
                table.append(
                    (
                        backend,
                        name,
                        f"{pct(times, 0.5):.1f}",
                        f"{pct(times, 0.95):.1f}",
                        f"{cold[name]:.1f}",
                        f"{statistics.mean(found):.1f}",
                    )
                )
            cold_all = list(cold.values())
            table.append(
                (backend, "ALL QUERIES", f"{pct(every, 0.5):.1f}", f"{pct(every, 0.95):.1f}")
                + (f"{max(cold_all):.1f} max" if cold_all else "", "")
            )
            table.append((backend, "post → searchable", *await searchable_delay(db, runs), "", ""))
            return table
        finally:
            await db.dispose()
            await close_scratch(scratch)


async def timed_search(db: Database, viewer: int, q: str, name: str) -> tuple[float, int]:
    """One search of class ``name`` in its own read session: milliseconds, notes found."""
    order = "relevance" if "relevance" in name else "date"
    started = time.perf_counter()
    async with db.read() as session:
        result = await search_statuses(session, viewer, q, limit=20, order=order)  # type: ignore[arg-type]
    return (time.perf_counter() - started) * 1000, len(result)


async def searchable_delay(db: Database, runs: int) -> tuple[str, str]:
    settings = Settings(base_url="https://bench.test", secret_key="bench")
    run = new_id() % 10**9
    author, _ = await create_local_account(
        db,
        settings,
        # unique per run: a kept database has the posters and notes of earlier runs
        Registration(f"poster{run}", f"poster{run}@example.org", "correct horse battery"),
        enforce_mode=False,
    )
    delays = []
    for i in range(runs):
        word = f"zqx{run}n{i}unique"
        started = time.perf_counter()
        await post_status(db, settings, author, NewStatus(text=f"Nouvelle note {word}", language="fr"))
        while True:
            async with db.read() as session:
                if await search_statuses(session, None, word, limit=1):
                    break
        delays.append((time.perf_counter() - started) * 1000)
    return f"{pct(delays, 0.5):.1f}", f"{pct(delays, 0.95):.1f}"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--notes", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--runs", type=int, default=30, help="searches per class of query")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--keep",
        type=Path,
        help="seed once and reuse on later runs (same --notes and --seed): SQLite in this directory;"
        " PostgreSQL in a database named in DIR/postgresql-database, kept until dropped by hand."
        " The notes that post → searchable adds are searched with unique words, so they change nothing",
    )
    parser.add_argument(
        "--only", help="comma-separated parts of class names: measure only the classes whose name has one"
    )
    args = parser.parse_args()
    only = [o.strip() for o in args.only.split(",")] if args.only else None
    rows: list[tuple[str, ...]] = []
    for backend in args.backends.split(","):
        rows += await run_backend(backend.strip(), args.notes, args.runs, args.seed, args.keep, only)
    header = ("backend", f"query ({args.notes:,} notes)", "p50 ms", "p95 ms", "cold ms", "mean hits")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print(" | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))


if __name__ == "__main__":
    asyncio.run(main())
