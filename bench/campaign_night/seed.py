"""The night's cast, written before the server starts: accounts with tokens, one campaign, its
chapters (one per city), their organisers, ticket tiers and raffles.

- **Accounts** (attendees and organisers, each with an access token) go through ``bench.mix``'s
  documented bulk path (``bench/mix/graph.py``: the rows the actions layer would write, checked by
  ``tests/bench/test_graph.py``), with no follows and no notes: 10,000 sign-ups through the
  actions would take minutes of argon2 hashing and say nothing about the night.
- **The campaign, chapters, roles, tiers and raffles** have no bulk path: they go through the
  actions layer (``bench.campaign_ledger.make_campaign``, ``actions.tickets.create_tier``,
  ``actions.raffle.create_raffle``), a few write transactions per chapter.

Cities are IANA time-zone cities (Europe's first), each with its own hashtag; most chapters take
EUR, a few their own currency (``CURRENCIES``), each in a locale that formats it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import create_async_engine

from bench.campaign_ledger import make_campaign
from bench.mix.graph import generate, load
from cordee.actions import raffle as raffle_actions
from cordee.actions import tickets as ticket_actions
from cordee.actions.campaigns import NewCampaign, NewChapter
from cordee.db.engine import Database

CAMPAIGN_TAG = "NuitDesCordees"
#: The chapters that do not take euros: their currency and the locale they are shown in.
CURRENCIES: dict[str, tuple[str, str]] = {
    "Europe/London": ("GBP", "en_GB"),
    "Europe/Zurich": ("CHF", "fr_CH"),
    "Europe/Oslo": ("NOK", "nb_NO"),
    "Europe/Stockholm": ("SEK", "sv_SE"),
    "Europe/Copenhagen": ("DKK", "da_DK"),
    "Europe/Warsaw": ("PLN", "pl_PL"),
    "Europe/Prague": ("CZK", "cs_CZ"),
    "Asia/Tokyo": ("JPY", "ja_JP"),
    "America/New_York": ("USD", "en_US"),
    "America/Toronto": ("CAD", "fr_CA"),
}
#: Prices in each currency's minor unit (JPY has none): a paid ticket, one raffle ticket.
TICKET_PRICE = {"JPY": 2000, "CZK": 35000, "NOK": 15000, "SEK": 15000, "DKK": 11000, "PLN": 6000}
RAFFLE_PRICE = {"JPY": 300, "CZK": 5000, "NOK": 2000, "SEK": 2000, "DKK": 1500, "PLN": 1000}
DEFAULT_TICKET_PRICE = 1500
DEFAULT_RAFFLE_PRICE = 200
#: First, so that a small run has three currencies, one without a minor unit.
_FIRST = ("Europe/Paris", "Europe/London", "Asia/Tokyo")
_REGIONS = ("Europe", "America", "Asia", "Africa", "Australia", "Pacific", "Atlantic", "Indian")


@dataclass
class Chapter:
    n: int
    city: str
    time_zone: str
    hashtag: str
    currency: str
    locale: str
    chapter_id: int = 0
    lead: int = 0  # account index (in ``Night.tokens``) of the chapter's lead
    door: int = 0  # account index of its door organiser
    free_tier: int = 0
    paid_tier: int = 0
    raffle_id: int = 0
    attendees: list[int] = field(default_factory=list)  # account indexes

    @property
    def ticket_price(self) -> int:
        return TICKET_PRICE.get(self.currency, DEFAULT_TICKET_PRICE)

    @property
    def raffle_price(self) -> int:
        return RAFFLE_PRICE.get(self.currency, DEFAULT_RAFFLE_PRICE)


@dataclass
class Night:
    campaign_id: int
    campaign_tag: str
    currency: str
    chapters: list[Chapter]
    account_ids: list[int]
    tokens: list[str]
    owner: int  # account index of the campaign's organiser
    rows: dict[str, int]


def cities(count: int) -> list[Chapter]:
    """``count`` distinct cities with their time zone, hashtag, currency and locale."""
    zones = sorted(
        (z for z in zoneinfo.available_timezones() if z.split("/")[0] in _REGIONS),
        key=lambda z: (
            z not in _FIRST,
            _FIRST.index(z) if z in _FIRST else 0,
            _REGIONS.index(z.split("/")[0]),
            z,
        ),
    )
    out: list[Chapter] = []
    seen: set[str] = set()
    for zone in zones:
        city = zone.rsplit("/", 1)[1].replace("_", " ")
        tag = "Nuit" + re.sub(r"[^A-Za-z0-9]", "", city)
        if tag.lower() in seen or not re.fullmatch(r"Nuit[A-Za-z0-9]+", tag):
            continue
        seen.add(tag.lower())
        currency, locale = CURRENCIES.get(zone, ("EUR", "fr_FR"))
        out.append(Chapter(len(out), city, zone, tag, currency, locale))
        if len(out) == count:
            return out
    raise ValueError(f"only {len(out)} cities available, {count} asked")


def commitment() -> tuple[str, str]:
    """The raffle's seed and its public commitment (sha256 of the seed, hex)."""
    seed = secrets.token_hex(32)
    return seed, hashlib.sha256(seed.encode()).hexdigest()


async def seed(db: Database, url: str, chapters: int, attendees: int) -> Night:
    """Everything the night needs, written into the migrated, empty database at ``url``."""
    places = cities(chapters)
    organisers = 1 + 2 * chapters  # the campaign's organiser, then a lead and a door per chapter
    graph = generate(organisers + attendees, 0, 0)
    engine = create_async_engine(url)
    try:
        rows = await load(engine, graph)
    finally:
        await engine.dispose()
    ids = graph.account_ids
    for c in places:
        c.lead, c.door = 1 + 2 * c.n, 2 + 2 * c.n
    for i in range(attendees):
        places[i % chapters].attendees.append(organisers + i)
    starts = datetime(2027, 2, 12, 19, tzinfo=UTC)
    campaign_id, chapter_ids = await make_campaign(
        db,
        ids[0],
        NewCampaign("La nuit des cordées", CAMPAIGN_TAG, "Ropes for every valley", 10**10, "EUR"),
        [
            NewChapter(
                city=c.city,
                venue=f"Salle des fêtes de {c.city}",
                starts_at=starts,
                time_zone=c.time_zone,
                hashtag=c.hashtag,
                currency=c.currency,
                locale=c.locale,
                capacity=len(c.attendees) + 10,
            )
            for c in places
        ],
        [[(ids[c.lead], "lead"), (ids[c.door], "door")] for c in places],
    )
    for c, chapter_id in zip(places, chapter_ids, strict=True):
        c.chapter_id = chapter_id
        lead = ids[c.lead]
        c.free_tier = await ticket_actions.create_tier(
            db, lead, chapter_id, ticket_actions.NewTier("RSVP", 0)
        )
        c.paid_tier = await ticket_actions.create_tier(
            db, lead, chapter_id, ticket_actions.NewTier("Soirée", c.ticket_price)
        )
        _, commit = commitment()
        c.raffle_id = await raffle_actions.create_raffle(db, lead, chapter_id, c.raffle_price, 3, commit)
    return Night(campaign_id, CAMPAIGN_TAG, "EUR", places, ids, graph.tokens, 0, rows)
