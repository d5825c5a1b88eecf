"""Campaign ledger: many chapters recording at once, totals checked against the ledger.

Makes a campaign with ``--chapters`` chapters (one lead each), then records ``--entries`` ledger
entries per chapter through ``actions.ledger.record_entry`` — every chapter's writer running at
the same time (asyncio tasks, ``--concurrency`` in flight) — with a correction every 20th entry;
reports the write rate and its latency percentiles, the time of the campaign's totals and of the
per-chapter totals (SQL SUMs over the covering indexes), and checks that every total equals the
sum of the entries counted row by row in Python (it must be exact).

    .venv/bin/python -m bench.campaign_ledger                 # SQLite
    .venv/bin/python -m bench.campaign_ledger --postgres      # a PostgreSQL database of its own
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, select

from bench.stores import close_scratch, open_scratch
from cordee.actions import campaigns as campaign_actions
from cordee.actions import ledger
from cordee.db.engine import Database
from cordee.db.migrate import upgrade_async
from cordee.db.tables import Account
from cordee.db.tables_campaigns import LedgerEntry
from cordee.ids import new_id
from cordee.queries import campaigns as queries


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


async def make_campaign(
    db: Database,
    owner: int,
    campaign: campaign_actions.NewCampaign,
    chapters: Sequence[campaign_actions.NewChapter],
    organisers: Sequence[Sequence[tuple[int, str]]] = (),
) -> tuple[int, list[int]]:
    """A campaign by ``owner`` and its chapters, through the actions (no bulk path: a few hundred
    rows); ``organisers[n]``: the (account, role) pairs of chapter ``n`` besides ``owner``, who
    proposes every chapter (approved at once: a campaign organiser's own proposal) and is its lead.
    Returns the campaign's id and the chapters' ids, in order."""
    campaign_id = await campaign_actions.create_campaign(db, owner, campaign)
    chapter_ids = []
    for n, chapter in enumerate(chapters):
        chapter_ids.append(await campaign_actions.propose_chapter(db, owner, campaign_id, chapter))
        for account_id, role in organisers[n] if n < len(organisers) else ():
            await campaign_actions.set_chapter_organiser(db, owner, chapter_ids[-1], account_id, role)
    return campaign_id, chapter_ids


async def run(db: Database, chapters: int, entries: int, concurrency: int) -> None:
    # Organisers: plain account rows (the bench measures the ledger, not sign-ups).
    leads = [new_id() for _ in range(chapters + 1)]
    async with db.write() as tx:
        await tx.session.execute(
            insert(Account),
            [{"id": i, "username": f"org{n}", "username_key": f"org{n}"} for n, i in enumerate(leads)],
        )
    owner = leads[0]
    campaign, chapter_ids = await make_campaign(
        db,
        owner,
        campaign_actions.NewCampaign("Bench night", "benchnight", "", 10**9, "EUR"),
        [
            campaign_actions.NewChapter(
                city=f"City {n:03d}",
                venue="Hall",
                starts_at=datetime(2027, 2, 12, 18, tzinfo=UTC),
                time_zone="Europe/Paris",
                hashtag=f"bench{n}",
                currency="EUR",
                locale="fr_FR",
            )
            for n in range(chapters)
        ],
        [[(leads[n + 1], "treasurer")] for n in range(chapters)],
    )
    rng = random.Random(7)
    work = [(n, k) for k in range(entries) for n in range(chapters)]  # every chapter at once
    latencies: list[float] = []
    corrections: list[int] = []
    gate = asyncio.Semaphore(concurrency)

    async def one(n: int, k: int) -> None:
        async with gate:
            started = time.perf_counter()
            entry = await ledger.record_entry(
                db,
                leads[n + 1],
                chapter_ids[n],
                ledger.NewEntry(rng.choice(ledger.INCOME_KINDS), rng.randint(100, 50_000), "EUR"),
            )
            if k % 20 == 19:
                await ledger.correct_entry(db, leads[n + 1], entry, -50, "miscounted")
                corrections.append(entry)
            latencies.append(time.perf_counter() - started)

    began = time.perf_counter()
    await asyncio.gather(*(one(n, k) for n, k in work))
    elapsed = time.perf_counter() - began
    latencies.sort()
    made = f"entries {len(work)} (+{len(corrections)} corrections)"
    print(f"chapters {chapters}, {made}, concurrency {concurrency}")
    print(
        f"recording: {len(work) / elapsed:.0f} entries/s; latency p50 {_ms(statistics.median(latencies))}, "
        f"p99 {_ms(latencies[int(len(latencies) * 0.99) - 1])}"
    )

    async with db.read() as session:
        t = time.perf_counter()
        whole = await queries.campaign_totals(session, campaign)
        campaign_time = time.perf_counter() - t
        t = time.perf_counter()
        per = await queries.totals_per_chapter(session, campaign)
        per_time = time.perf_counter() - t
        t = time.perf_counter()
        one_chapter = await queries.chapter_totals(session, chapter_ids[0])
        chapter_time = time.perf_counter() - t
        rows = list((await session.execute(select(LedgerEntry.chapter_id, LedgerEntry.amount_cents))).all())
    by_chapter: dict[int, int] = {}
    for chapter_id, amount in rows:
        by_chapter[chapter_id] = by_chapter.get(chapter_id, 0) + amount
    exact = (
        whole.in_currency("EUR") == sum(by_chapter.values())
        and all(per[c].in_currency("EUR") == by_chapter[c] for c in chapter_ids)
        and one_chapter.in_currency("EUR") == by_chapter[chapter_ids[0]]
        and whole.entries == len(rows)
    )
    print(f"totals: campaign {_ms(campaign_time)}, every chapter {_ms(per_time)}, ", end="")
    print(f"one chapter {_ms(chapter_time)}")
    print(f"totals equal to the ledger row by row: {'yes' if exact else 'NO'} ({len(rows)} rows)")
    if not exact:
        raise SystemExit(1)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chapters", type=int, default=200)
    parser.add_argument("--entries", type=int, default=25, help="entries per chapter")
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        scratch = await open_scratch(Path(data_dir), postgres=args.postgres, redis=False)
        try:
            await upgrade_async(scratch.url)
            db = Database(scratch.url)
            try:
                await run(db, args.chapters, args.entries, args.concurrency)
            finally:
                await db.dispose()
        finally:
            await close_scratch(scratch)


if __name__ == "__main__":
    asyncio.run(main())
