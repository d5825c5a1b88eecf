"""The night itself, over HTTP as the real clients do it: attendees posting notes with their
chapter's hashtag (some with the campaign's too) through ``POST /api/v1/statuses``; tickets, RSVPs,
payments at the door and raffle sales through the campaign API (``docs/campaigns.md``); an
organiser hiding notes from one wall (``POST /api/v1/chapters/:id/wall/hidden``).

The client is aiohttp's (a third of httpx's CPU per request: the client shares the two cores
with the server). Everything is an open loop: requests leave on schedule whatever the answers (up to
``MAX_IN_FLIGHT`` waiting), so a server that falls behind shows it in the latencies. What each
request got is recorded: the bench's own account of what should be on each wall and in each
chapter's ledger, checked against the server at the end.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

from bench.campaign_night.seed import Chapter, Night

MAX_IN_FLIGHT = 400
RAFFLE_MAX = 5  # raffle tickets per sale: 1 to this
HIDE_EVERY = 3
PHASES = ("steady", "burst", "steady after")


@dataclass
class Answer:
    status_code: int
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass
class Post:
    key: str
    chapter: int  # index in ``Night.chapters``
    campaign: bool  # carries the campaign's hashtag too
    phase: str
    sent: float
    acked: float | None = None
    status_id: int | None = None
    code: int | None = None  # the HTTP status, or None when the request failed outright


@dataclass
class Sale:
    kind: str  # ``ticket`` (take + payment), ``rsvp``, ``raffle``
    chapter: int
    phase: str
    cents: int = 0  # what the ledger gained, by the answers
    codes: list[int | None] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.codes) and all(c is not None and 200 <= c < 300 for c in self.codes)


@dataclass
class Hide:
    status_id: int
    chapter: int
    code: int | None = None


class Load:
    """The requests of one server under test; ``sales`` off for the bare baseline (it has none)."""

    def __init__(self, http: aiohttp.ClientSession, night: Night, args: Any, *, sales: bool) -> None:
        self.http = http
        self.night = night
        self.args = args
        self.sales_on = sales
        # Two generators: who posts where does not depend on how sales and posts interleave.
        self.rng = random.Random(args.seed)
        self.sales_rng = random.Random(args.seed + 1)
        self.posts: dict[str, Post] = {}
        self.sales: list[Sale] = []
        self.hides: list[Hide] = []
        self.errors: dict[str, int] = {}
        self.phase = "warm-up"
        self.phases: dict[str, tuple[float, float]] = {}
        self._gate = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._tasks: set[asyncio.Task[None]] = set()
        self._buyers = [a for c in night.chapters for a in c.attendees]
        self.sales_rng.shuffle(self._buyers)
        self._hide_budget = args.hides if sales else 0
        self._keys = 0
        self._shown_first = 0

    def _auth(self, account: int) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.night.tokens[account]}"}

    def _error(self, what: str, detail: str) -> None:
        message = f"{what}: {detail[:160]}"
        self.errors[message] = self.errors.get(message, 0) + 1

    async def _call(self, what: str, path: str, account: int, body: dict[str, Any]) -> Answer | None:
        headers = {**self._auth(account), "Content-Type": "application/json"}
        try:
            async with self.http.post(path, data=orjson.dumps(body), headers=headers) as response:
                answer = Answer(response.status, await response.read())
        except (aiohttp.ClientError, TimeoutError) as e:
            self._error(what, f"{type(e).__name__} {e}")
            return None
        if not 200 <= answer.status_code < 300:
            self._error(what, f"{answer.status_code} {answer.body[:160]!r}")
        return answer

    # -- what people do ----------------------------------------------------------------------------

    async def post(self, key: str, chapter: Chapter, campaign: bool, phase: str) -> None:
        # The chapter's attendees take turns (no random draw here: tasks start in any order).
        author = (
            chapter.attendees[int(key) % len(chapter.attendees)] if key.isdigit() else chapter.attendees[0]
        )
        tags = f"#{chapter.hashtag}" + (f" #{self.night.campaign_tag}" if campaign else "")
        sent = time.monotonic()
        post = self.posts[key] = Post(key, chapter.n, campaign, phase, sent)
        text = f"{tags} bench k={key} t={sent:.6f}"
        answer = await self._call(
            "post", "/api/v1/statuses", author, {"status": text, "visibility": "public"}
        )
        if answer is None:
            return
        post.code = answer.status_code
        if answer.status_code == 200:
            post.acked = time.monotonic()
            post.status_id = int(answer.json()["id"])
            if (chapter.n == 0 or campaign) and phase in PHASES and self._hide_budget > 0:
                # Every third note the first chapter's wall shows is hidden from it by its lead.
                self._shown_first += 1
                if self._shown_first % HIDE_EVERY == 1:
                    self._hide_budget -= 1
                    self.hides.append(Hide(post.status_id, 0))
                    self.spawn(self.hide(self.hides[-1]))

    async def hide(self, hide: Hide) -> None:
        """The lead of the first chapter takes the note off its wall (the API a wall's button uses)."""
        chapter = self.night.chapters[hide.chapter]
        path = f"/api/v1/chapters/{chapter.chapter_id}/wall/hidden"
        answer = await self._call("hide", path, chapter.lead, {"status_id": str(hide.status_id)})
        hide.code = answer.status_code if answer is not None else None

    def sale(self) -> Awaitable[None]:
        """The next sale, decided now (in schedule order): a paid ticket, an RSVP, raffle tickets."""
        chapter = self.sales_rng.choice(self.night.chapters)
        roll = self.sales_rng.random()
        if roll < 0.6 and self._buyers:
            paid = roll < 0.4
            sale = Sale("ticket" if paid else "rsvp", chapter.n, self.phase)
            self.sales.append(sale)
            return self.ticket(sale, chapter, self._buyers.pop(), paid=paid)
        sale = Sale("raffle", chapter.n, self.phase)
        self.sales.append(sale)
        return self.raffle(sale, chapter, self.sales_rng.randint(1, RAFFLE_MAX))

    async def ticket(self, sale: Sale, chapter: Chapter, buyer: int, *, paid: bool) -> None:
        """An attendee takes a place (``POST /chapters/:id/tickets``); for a paid one, the door
        records the payment (``POST /tickets/:id/payment``), which writes the ledger entry."""
        tier = chapter.paid_tier if paid else chapter.free_tier
        path = f"/api/v1/chapters/{chapter.chapter_id}/tickets"
        # A buyer of another chapter's place: anyone may go to any city's night.
        answer = await self._call(sale.kind, path, buyer, {"tier_id": str(tier)})
        sale.codes.append(answer.status_code if answer is not None else None)
        if answer is None or answer.status_code != 200 or not paid:
            return
        ticket = answer.json()
        if ticket["status"] != "confirmed":
            self._error("ticket", f"not confirmed: {ticket['status']}")
            return
        answer = await self._call(
            "payment", f"/api/v1/tickets/{ticket['id']}/payment", chapter.door, {"provider": "offline"}
        )
        sale.codes.append(answer.status_code if answer is not None else None)
        if answer is not None and answer.status_code == 200 and answer.json().get("paid"):
            sale.cents = chapter.ticket_price

    async def raffle(self, sale: Sale, chapter: Chapter, count: int) -> None:
        """The door sells raffle tickets (``POST /raffles/:id/tickets``): one ledger entry."""
        answer = await self._call(
            "raffle",
            f"/api/v1/raffles/{chapter.raffle_id}/tickets",
            chapter.door,
            {"holder": f"guest {len(self.sales)}", "count": count},
        )
        sale.codes.append(answer.status_code if answer is not None else None)
        if answer is not None and answer.status_code == 200 and len(answer.json()["numbers"]) == count:
            sale.cents = count * chapter.raffle_price

    # -- the schedule ------------------------------------------------------------------------------

    def spawn(self, work: Awaitable[None]) -> None:
        async def gated() -> None:
            try:
                await work
            finally:
                self._gate.release()

        task = asyncio.ensure_future(gated())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _open_loop(self, rate: float, seconds: float, make: Callable[[int], Awaitable[None]]) -> int:
        """``make(i)`` at ``rate`` per second for ``seconds``, on schedule; how many were started."""
        started, i = time.monotonic(), 0
        while True:
            at = started + i / rate
            if at - started >= seconds:
                return i
            delay = at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await self._gate.acquire()
            self.spawn(make(i))
            i += 1

    async def posts_phase(self, name: str, rate: float, seconds: float) -> None:
        self.phase = name
        started = time.monotonic()
        chapters, share = self.night.chapters, self.args.campaign_share

        def one(i: int) -> Awaitable[None]:
            # Key and phase decided at schedule time: a post still waiting to start belongs here.
            self._keys += 1
            return self.post(str(self._keys), self.rng.choice(chapters), self.rng.random() < share, name)

        await self._open_loop(rate, seconds, one)
        self.phases[name] = (started, time.monotonic())

    async def sales_loop(self, stop: asyncio.Event) -> None:
        """Sales at ``--sales-rate`` per second until ``stop`` (through every phase)."""
        if not self.sales_on or self.args.sales_rate <= 0:
            return
        started, i = time.monotonic(), 0
        while not stop.is_set():
            delay = started + i / self.args.sales_rate - time.monotonic()
            if delay > 0:
                try:
                    await asyncio.wait_for(stop.wait(), delay)
                    return
                except TimeoutError:
                    pass
            await self._gate.acquire()
            self.spawn(self.sale())  # decided here, in order
            i += 1

    async def finish(self) -> None:
        """Wait for every request still in flight."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
