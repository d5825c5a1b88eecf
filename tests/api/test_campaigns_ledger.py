"""The donation ledger: totals always equal the sum of the entries, under concurrent recording
from many chapters (asyncio tasks, on SQLite and PostgreSQL), and no float where money flows."""

from __future__ import annotations

import ast
import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cordee.actions import campaigns as campaign_actions
from cordee.actions import ledger
from cordee.actions.errors import ActionError, ValidationFailed
from cordee.db.engine import Database
from cordee.db.tables_campaigns import LedgerEntry
from cordee.queries import campaigns as queries
from tests.conftest import ApiUser

SRC = Path(__file__).resolve().parents[2] / "src" / "cordee"
#: Every module money flows through.
MONEY_MODULES = [
    "actions/campaigns.py",
    "actions/ledger.py",
    "queries/campaigns.py",
    "api/mastodon/campaigns.py",
    "actions/tickets.py",
    "api/mastodon/campaign_tickets.py",
    "actions/raffle.py",
    "api/mastodon/campaign_raffles.py",
    "actions/wall.py",
    "rendering/money.py",
    "streaming/campaigns.py",
    "web/campaign_pages.py",
    "web/campaign_wall.py",
    "web/campaign_door.py",
    "domain/raffle.py",
    "db/tables_campaigns.py",
]

CHAPTERS = 5
RECORD = st.tuples(
    st.integers(0, CHAPTERS - 1),
    st.sampled_from(ledger.INCOME_KINDS),
    st.integers(1, 10**9),
)
#: A correction: which recorded entry (index, modulo), and what share of its amount to take off
#: (or add, when positive); several may hit the same entry at once.
CORRECT = st.tuples(st.integers(0, 10**6), st.integers(-150, 50))


async def _campaign(db: Database, alice: ApiUser, bob: ApiUser) -> list[int]:
    campaign = await campaign_actions.create_campaign(
        db, alice.account_id, campaign_actions.NewCampaign("Night", "night", "", 100_000_00, "EUR")
    )
    chapters = []
    for i in range(CHAPTERS):
        who = bob if i % 2 else alice  # bob's chapters are proposed, then approved by alice
        chapter = await campaign_actions.propose_chapter(
            db,
            who.account_id,
            campaign,
            campaign_actions.NewChapter(
                city=f"City {i}",
                venue="Hall",
                starts_at=datetime(2027, 2, 12, 19, tzinfo=UTC),
                time_zone="Europe/Paris",
                hashtag=f"night{i}",
                currency="EUR" if i < 3 else "GBP",
                locale="fr_FR",
            ),
        )
        if who is bob:
            await campaign_actions.approve_chapter(db, alice.account_id, chapter)
        chapters.append(chapter)
    return chapters


_SETUP: dict[int, list[int]] = {}


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(records=st.lists(RECORD, min_size=1, max_size=20), corrections=st.lists(CORRECT, max_size=8))
async def test_totals_equal_the_sum_of_entries_under_concurrent_recording(
    db: Database,
    alice: ApiUser,
    bob: ApiUser,
    records: list[tuple[int, str, int]],
    corrections: list[tuple[int, int]],
) -> None:
    # The fixtures live for the whole test, across examples: the campaign is made once.
    if id(db) not in _SETUP:
        _SETUP.clear()
        _SETUP[id(db)] = await _campaign(db, alice, bob)
    chapters = _SETUP[id(db)]
    async with db.read() as session:
        chapter_rows = {c: await queries.chapter_by_id(session, c) for c in chapters}
        before = {c: await queries.chapter_totals(session, c) for c in chapters}
    campaign_id = next(iter(chapter_rows.values())).campaign_id  # type: ignore[union-attr]
    currency_of = {c: chapter_rows[c].currency for c in chapters}  # type: ignore[union-attr]
    expected = {c: before[c].in_currency(currency_of[c]) for c in chapters}

    async def record(i: int, kind: str, amount: int) -> tuple[int, int, int]:
        # Each chapter's own lead records there: alice (a campaign organiser) or bob.
        actor = bob if i % 2 else alice
        chapter = chapters[i]
        entry = await ledger.record_entry(
            db, actor.account_id, chapter, ledger.NewEntry(kind, amount, currency_of[chapter])
        )
        return entry, chapter, amount

    made = await asyncio.gather(*(record(*r) for r in records))
    for _, chapter, amount in made:
        expected[chapter] += amount

    async def correct(pick: int, share: int) -> tuple[int, int] | None:
        entry, chapter, amount = made[pick % len(made)]
        delta = amount * share // 100 or -1
        try:
            await ledger.correct_entry(db, alice.account_id, entry, delta, "miscounted")
        except ValidationFailed:
            return None  # would go below zero (maybe because of a concurrent correction)
        return chapter, delta

    for done in await asyncio.gather(*(correct(*c) for c in corrections)):
        if done is not None:
            expected[done[0]] += done[1]

    async with db.read() as session:
        rows = list(await session.scalars(queries.entries_query(campaign_id=campaign_id)))
        by_chapter = {c: await queries.chapter_totals(session, c) for c in chapters}
        whole = await queries.campaign_totals(session, campaign_id)
        per = await queries.totals_per_chapter(session, campaign_id)
    for c in chapters:
        mine = [r for r in rows if r.chapter_id == c]
        assert all(type(r.amount_cents) is int for r in mine)
        if mine:
            assert by_chapter[c].by_currency == {currency_of[c]: sum(r.amount_cents for r in mine)}
            assert per[c] == by_chapter[c]
        assert by_chapter[c].in_currency(currency_of[c]) == expected[c]
    assert whole.entries == len(rows)
    for currency in ("EUR", "GBP"):
        assert whole.in_currency(currency) == sum(r.amount_cents for r in rows if r.currency == currency)
    # An entry with its corrections never goes below zero.
    net: dict[int, int] = {}
    for r in rows:
        key = r.corrects_id if r.corrects_id is not None else r.id
        net[key] = net.get(key, 0) + r.amount_cents
    assert min(net.values()) >= 0


async def test_ledger_rules(db: Database, alice: ApiUser, bob: ApiUser, carol: ApiUser) -> None:
    chapters = await _campaign(db, alice, bob)
    entry = await ledger.record_entry(
        db, bob.account_id, chapters[1], ledger.NewEntry("donation", 500, "EUR")
    )
    refusals = [
        # carol organises nothing; bob is not the lead of alice's chapter
        ledger.record_entry(db, carol.account_id, chapters[1], ledger.NewEntry("donation", 5, "EUR")),
        ledger.record_entry(db, bob.account_id, chapters[0], ledger.NewEntry("donation", 5, "EUR")),
        ledger.record_entry(db, bob.account_id, chapters[1], ledger.NewEntry("donation", 5, "USD")),
        ledger.record_entry(db, bob.account_id, chapters[1], ledger.NewEntry("donation", 0, "EUR")),
        ledger.record_entry(db, bob.account_id, chapters[1], ledger.NewEntry("refund", 5, "EUR")),
        ledger.record_entry(db, bob.account_id, chapters[1], ledger.NewEntry("donation", 2.5, "EUR")),  # type: ignore[arg-type]
        ledger.correct_entry(db, bob.account_id, entry, -501, "too much"),
        ledger.correct_entry(db, bob.account_id, entry, -1, " "),
        ledger.correct_entry(db, carol.account_id, entry, -1, "not mine"),
    ]
    statuses = []
    for call in refusals:
        try:
            await call
        except ActionError as e:
            statuses.append(e.status)
    assert statuses == [403, 403, 422, 422, 422, 422, 422, 422, 403]
    fix = await ledger.correct_entry(db, bob.account_id, entry, -100, "counted twice")
    try:
        await ledger.correct_entry(db, bob.account_id, fix, 1, "a correction of a correction")
        raise AssertionError("a correction was corrected")
    except ValidationFailed:
        pass
    async with db.read() as session:
        assert (await queries.chapter_totals(session, chapters[1])).by_currency == {"EUR": 400}
        original = await session.get(LedgerEntry, entry)
        assert original is not None and original.amount_cents == 500  # never edited


def test_no_float_where_money_flows() -> None:
    """No float literal, no ``float`` name and no true division in the money modules: amounts are
    integers of minor units (Decimal only when a library hands one back)."""
    for name in MONEY_MODULES:
        path = SRC / name
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            where = f"{name}:{getattr(node, 'lineno', '?')}"
            assert not (isinstance(node, ast.Constant) and isinstance(node.value, float)), where
            assert not (isinstance(node, ast.Name) and node.id == "float"), where
            assert not isinstance(node, ast.Div), where


def test_sums_read_back_from_postgresql_are_exact_integers() -> None:
    """Found by the property test above: PostgreSQL's SUM(bigint) came back as Decimal('1.0E+9'),
    on which int(str(...)) failed; the conversion is exact and never goes through a float."""
    assert queries.whole(Decimal("1.0E+9")) == 10**9
    assert queries.whole(Decimal("999999999999999999")) == 999_999_999_999_999_999
    assert queries.whole(7) == 7
    with pytest.raises(TypeError):
        queries.whole(Decimal("0.5"))
