"""Rate limits: Mastodon's figures in one table, counted in this process or in Redis.

Counters are fixed windows aligned on the epoch, as Mastodon's (rack-attack and its
``RateLimiter``) are: one counter per key and window, so a check is a single increment — in memory,
or one round trip to Redis when ``CORDEE_REDIS_URL`` is set, so that every process shares the
counts — and the ``X-RateLimit-*`` headers come out of that one answer (the window's end is known
without asking). A moving window would keep a timestamp per request (300 per token) and cost a
script per hit; the price of fixed windows is that a client can fit up to twice a limit in a burst
straddling two windows, which these figures tolerate.

Storage comes from the ``limits`` package (its key layout and its Redis storage, whose increment
sets the expiry atomically; a request counted under two keys — per token and per user — is counted
by one script of that increment over both, on the same connection: one round trip). Its
in-process storage sweeps *every* key for expiry after each hit (measured: 80 µs a request with
1,000 keys, 1.3 ms with 10,000), so this module's subclass sweeps at most every ``SWEEP_SECONDS``
instead; a key that has expired is reset when it is next used.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Literal

from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.storage.redis.redispy import RedispyBridge
from redis.commands.core import AsyncScript
from starlette.requests import Request
from starlette.types import Scope

from cordee.actions.audit import record_alone
from cordee.client_ip import client_ip
from cordee.config import ConfigError, Settings

log = logging.getLogger(__name__)

SWEEP_SECONDS = 10.0

# KEYS: counters; ARGV: each counter's expiry and the amount, in turn. ``limits``' own
# ``incr_expire.lua`` for several keys (one Redis server: no cluster slots to agree).
_INCR_MANY = """
local counts = {}
for i, key in ipairs(KEYS) do
  local amount = tonumber(ARGV[2 * i])
  local current = redis.call('INCRBY', key, amount)
  if current == amount then
    redis.call('EXPIRE', key, ARGV[2 * i - 1])
  end
  counts[i] = current
end
return counts
"""


@dataclass(frozen=True)
class Rule:
    amount: int
    seconds: int
    #: What is counted: per access token, per user, per client address (an IPv6 /64), per login.
    per: Literal["token", "user", "ip", "login"]
    #: Where the figure comes from and what it covers (docs/rate-limits.md lists these).
    about: str


#: The limits, at Mastodon's figures (config/initializers/rack_attack.rb, app/lib/rate_limiter.rb);
#: an operator changes any of them with ``CORDEE_RATE_LIMITS_CUSTOM=name=amount/seconds,…``.
RULES: dict[str, Rule] = {
    "api_token": Rule(300, 300, "token", "every API request, per access token (throttle_per_token_api)"),
    "api_user": Rule(1500, 300, "user", "every API request, per user (throttle_authenticated_api)"),
    "api_ip": Rule(300, 300, "ip", "API requests without a valid token (throttle_unauthenticated_api)"),
    "sign_in_ip": Rule(25, 300, "ip", "web sign-ins and password grants (throttle_login_attempts/ip)"),
    "sign_in_login": Rule(
        25, 3600, "login", "sign-ins for one e-mail or username (throttle_login_attempts/email)"
    ),
    "sign_up_ip": Rule(5, 1800, "ip", "accounts created, API and web (throttle_api_sign_up)"),
    "sign_up_attempts": Rule(25, 300, "ip", "web sign-up form posts (throttle_sign_up_attempts/ip)"),
    "media": Rule(30, 1800, "user", "media uploads (throttle_api_media)"),
    "follows": Rule(400, 86_400, "user", "follows (RateLimiter :follows)"),
    "search": Rule(300, 900, "user", "searches; per address when anonymous (Cordée's own figure)"),
}


class _Memory(MemoryStorage):
    """``limits``' in-process storage with an occasional sweep instead of one after every hit."""

    _next_sweep = 0.0

    async def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        return self.incr_now(key, expiry, amount)

    def incr_now(self, key: str, expiry: float, amount: int = 1) -> int:
        # Synchronous, so atomic on the event loop (no lock), and no coroutine per request.
        now = time.time()
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_SECONDS
            for k in [k for k, at in self.expirations.items() if at <= now]:
                self.storage.pop(k, None)
                self.expirations.pop(k, None)
        if self.expirations.get(key, 0.0) <= now:
            self.storage[key] = 0
            self.expirations[key] = now + expiry
        self.storage[key] += amount
        return self.storage[key]


@dataclass(frozen=True)
class Verdict:
    """A limit after one request was counted against it."""

    rule: str
    limit: int
    count: int
    #: End of the window (epoch seconds): the allowance is whole again then.
    reset: int

    @property
    def allowed(self) -> bool:
        return self.count <= self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)

    def enforce(self) -> None:
        """Raise :class:`RateLimited` when over the limit."""
        if not self.allowed:
            raise RateLimited(self)

    def headers(self) -> dict[str, str]:
        """Mastodon's headers (the reset in ISO 8601), plus ``Retry-After`` once refused."""
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": _iso(self.reset),
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(1, self.reset - int(time.time())))
        return headers


class RateLimited(Exception):
    """A request over a limit; the app answers 429 (JSON on the API, a page on the web)."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(f"rate limit {verdict.rule} exceeded")
        self.verdict = verdict


def _limits_uri(redis_url: str) -> str:
    """``limits``' name for the Redis at ``redis_url`` (as redis-py takes it: ``redis://``,
    ``rediss://``, ``unix://``), reached with redis-py's asyncio client: it calls a Unix socket
    ``redis+unix://``, and took ``unix://`` for another storage (the server did not start)."""
    if redis_url.startswith("unix://"):
        redis_url = "redis+" + redis_url
    return "async+" + redis_url


@lru_cache(maxsize=64)
def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@lru_cache(maxsize=4096)
def ip_key(address: str) -> str:
    """The counted address: an IPv6 client is its /64 (one host has the whole of it), as Mastodon."""
    if ":" not in address:
        return address
    try:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    except ValueError:
        return address


def _rules(settings: Settings) -> dict[str, Rule]:
    rules = dict(RULES)
    for name, amount, seconds in settings.rate_limits_custom:
        if name not in rules:
            raise ConfigError(
                f"CORDEE_RATE_LIMITS_CUSTOM names an unknown limit {name!r}; known: {', '.join(RULES)}"
            )
        rules[name] = Rule(amount, seconds, rules[name].per, rules[name].about)
    return rules


#: Seconds a request waits for the shared counters before it is let through uncounted.
STORAGE_TIMEOUT = 0.25


class Limiter:
    """The counters of one server process (shared through Redis when it is configured)."""

    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.rate_limits
        self.trusted_proxies = settings.trusted_proxies
        self.rules = _rules(settings)
        # limits' key layout (``RateLimitItem.key_for(name, key, window)``), its two constant parts
        # built once: ``key_for`` costs ~2.5 µs a call, a third of a check.
        self._keys: dict[str, tuple[str, str]] = {}
        for name, rule in self.rules.items():
            sample = RateLimitItemPerSecond(rule.amount, rule.seconds).key_for(name, "\0", "\0")
            head, _, tail = sample.partition("\0/\0")
            self._keys[name] = (head, tail)
        self._storage: Storage
        if settings.redis_url:
            self._storage = RedisStorage(
                _limits_uri(settings.redis_url),
                implementation="redispy",
                key_prefix=settings.redis_prefix + "ratelimit",
                wrap_exceptions=True,
            )
        else:
            self._storage = _Memory()
        self._incr_many: AsyncScript | None = None

    def ip(self, scope: Scope) -> str:
        return client_ip(scope, self.trusted_proxies)

    async def hit(self, name: str, key: str | int, amount: int = 1) -> Verdict | None:
        """Count ``amount`` against ``name`` for ``key``; None when limits are off (or Redis is
        unreachable: a limit is not worth refusing every request for)."""
        return (await self.hits(((name, key),), amount))[0]

    async def hits(self, counted: Sequence[tuple[str, str | int]], amount: int = 1) -> list[Verdict | None]:
        """``hit`` for each (name, key) at once: with Redis, one round trip for all of them."""
        if not self.enabled:
            return [None] * len(counted)
        now = int(time.time())
        if isinstance(self._storage, _Memory):  # no await: a dict update on the event loop
            return [self._counted_here(self._storage, name, key, amount, now) for name, key in counted]
        rules = [self.rules[name] for name, _ in counted]
        windows = [now // rule.seconds for rule in rules]
        keys = [self._key(name, key, window) for (name, key), window in zip(counted, windows, strict=True)]
        try:
            # A Redis that accepts connections but does not answer (paused, overloaded, a network
            # partition) must not stall every request behind it: give up quickly and let it pass.
            async with asyncio.timeout(STORAGE_TIMEOUT):
                counts = await self._increment(keys, [rule.seconds for rule in rules], amount)
        except Exception:
            log.warning("rate limit storage unavailable; %s not counted", counted, exc_info=True)
            return [None] * len(counted)
        return [
            Verdict(name, rule.amount, count, (window + 1) * rule.seconds)
            for (name, _), rule, count, window in zip(counted, rules, counts, windows, strict=True)
        ]

    def _key(self, name: str, key: str | int, window: int) -> str:
        head, tail = self._keys[name]
        return f"{head}{key}/{window}{tail}"

    def _counted_here(self, storage: _Memory, name: str, key: str | int, amount: int, now: int) -> Verdict:
        rule = self.rules[name]
        window = now // rule.seconds
        count = storage.incr_now(self._key(name, key, window), rule.seconds, amount)
        return Verdict(name, rule.amount, count, (window + 1) * rule.seconds)

    async def _increment(self, keys: list[str], expiries: list[int], amount: int) -> list[int]:
        """Redis: each counter incremented (its expiry set when it starts) by one script, on
        ``limits``' connection and key layout. A token's request counts per token and per user:
        one round trip where ``limits`` (one key a call) took two."""
        assert isinstance(self._storage, RedisStorage)
        bridge = self._storage.bridge
        assert isinstance(bridge, RedispyBridge)  # ``implementation="redispy"`` above
        if self._incr_many is None:
            self._incr_many = bridge.storage.register_script(_INCR_MANY)
        args = [x for expiry in expiries for x in (expiry, amount)]
        counts = await self._incr_many(keys=[bridge.prefixed_key(k) for k in keys], args=args)
        return [int(c) for c in counts]

    async def enforce(self, name: str, key: str | int) -> Verdict | None:
        """Count one request; raise :class:`RateLimited` when it is over the limit."""
        verdict = await self.hit(name, key)
        if verdict is not None:
            verdict.enforce()
        return verdict

    async def refund(self, name: str, key: str | int) -> None:
        """Give back one unit (a sign-up refused for its content is not counted)."""
        await self.hit(name, key, -1)

    async def api(
        self, scope: Scope, token_id: int | None, user_id: int | None, endpoint: str | None = None
    ) -> tuple[Verdict | None, Verdict | None]:
        """Count an API request per token and per user, or per address without a valid token;
        raise when over. Returns the tightest verdict, for the headers of the answer; and with
        ``endpoint`` (a rule of the endpoint's own, per user or else per address) its verdict,
        counted in the same round trip, for the caller to enforce once the request passed its
        other checks (``Verdict.enforce``): a follow made two round trips to Redis for them."""
        if not self.enabled:
            return None, None
        counted: list[tuple[str, str | int]]
        if token_id is None:
            counted = [("api_ip", ip_key(self.ip(scope)))]
        elif user_id is None:
            counted = [("api_token", token_id)]
        else:
            counted = [("api_token", token_id), ("api_user", user_id)]
        if endpoint is not None:
            counted.append((endpoint, user_id if user_id is not None else ip_key(self.ip(scope))))
        verdicts = await self.hits(counted)
        own = verdicts.pop() if endpoint is not None else None
        tightest: Verdict | None = None
        for verdict in verdicts:
            if verdict is not None and (
                tightest is None
                or (verdict.allowed, verdict.remaining) < (tightest.allowed, tightest.remaining)
            ):
                tightest = verdict
        if tightest is not None:
            tightest.enforce()
        return tightest, own

    async def close(self) -> None:
        """Close the Redis connections (the counters stay: other processes use them)."""
        client = getattr(getattr(self._storage, "bridge", None), "storage", None)
        if client is not None:
            try:
                await client.aclose()
            except Exception:
                log.debug("closing the rate limit storage failed", exc_info=True)


def limiter_of(request: Request) -> Limiter:
    limiter: Limiter = request.app.state.limiter
    return limiter


async def guard(request: Request, name: str, key: str | int, *, audit: bool = False) -> Verdict | None:
    """Count one request against ``name``; over the limit, raise :class:`RateLimited` — after
    writing a ``rate_limited`` audit event for the first refusal of the window when ``audit``
    (one row per window and key, not one per refused request: refusals must stay cheap)."""
    limiter = limiter_of(request)
    try:
        return await limiter.enforce(name, key)
    except RateLimited as refused:
        if audit and refused.verdict.count == refused.verdict.limit + 1:
            await record_alone(request.app.state.db, "rate_limited", ip=limiter.ip(request.scope), limit=name)
        raise


async def guard_sign_in(request: Request, login: str) -> None:
    """Before checking a password (an Argon2 run): per address, then per e-mail or username."""
    await guard(request, "sign_in_ip", ip_key(limiter_of(request).ip(request.scope)), audit=True)
    if login.strip():
        await guard(request, "sign_in_login", login.strip().lower(), audit=True)


async def guard_sign_up(request: Request, *, web: bool) -> str:
    """Before creating an account; returns the key to :func:`refund_sign_up` with if the sign-up
    is refused for its content (a taken name is tried again, not held against the person)."""
    key = ip_key(limiter_of(request).ip(request.scope))
    if web:  # each post of the form, whatever comes of it (Mastodon's sign-up attempts)
        await guard(request, "sign_up_attempts", key, audit=True)
    await guard(request, "sign_up_ip", key, audit=True)
    return key


async def refund_sign_up(request: Request, key: str) -> None:
    await limiter_of(request).refund("sign_up_ip", key)
