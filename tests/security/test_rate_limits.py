"""Finding 5: rate limits at Mastodon's figures, answered 429 with Mastodon's headers.

Each limit is tried through the interfaces a client uses (the API, the web forms, real server
processes sharing Redis). The figures are made small and the windows long (a day, aligned on the
epoch like Mastodon's, so a test never straddles one) through ``CORDEE_RATE_LIMITS_CUSTOM``, the
setting an operator uses; only the reset test uses a window of two seconds.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis import Redis
from sqlalchemy import select

from cordee.config import Settings, load_settings
from cordee.db.engine import Database
from cordee.db.tables_security import AuditEvent
from tests.conftest import BASE_URL, ApiUser, MakeUser, _pg_admin, _pg_url
from tests.support.running import launch

DAY = 86_400
TOO_MANY = {"error": "Too many requests"}


def limited_settings(tmp_path: Path, custom: str, **env: str) -> Settings:
    return load_settings(
        {"CORDEE_RATE_LIMITS_CUSTOM": custom, **env},
        base_url=BASE_URL,
        data_dir=tmp_path / "data",
        secret_key="test-secret",
    )


def assert_refused(r: httpx.Response, limit: int, window: int = DAY) -> None:
    """A 429 as Mastodon sends it: JSON error, X-RateLimit-* (reset in ISO 8601), Retry-After."""
    assert r.status_code == 429, r.text
    assert r.json() == TOO_MANY
    assert r.headers["X-RateLimit-Limit"] == str(limit)
    assert r.headers["X-RateLimit-Remaining"] == "0"
    reset = datetime.fromisoformat(r.headers["X-RateLimit-Reset"]).timestamp()
    assert time.time() - 1 < reset <= time.time() + window + 1
    assert 0 < int(r.headers["Retry-After"]) <= window + 1


async def rate_limited_events(db: Database) -> list[AuditEvent]:
    async with db.read() as session:
        return list(
            (await session.scalars(select(AuditEvent).where(AuditEvent.kind == "rate_limited"))).all()
        )


def test_the_figures_are_mastodons() -> None:
    """config/initializers/rack_attack.rb and app/lib/rate_limiter.rb (Mastodon 4.x)."""
    from cordee.ratelimit import RULES

    figures = {name: (rule.amount, rule.seconds) for name, rule in RULES.items()}
    assert figures["api_token"] == (300, 300)
    assert figures["api_user"] == (1500, 300)
    assert figures["api_ip"] == (300, 300)
    assert figures["sign_in_ip"] == (25, 300)
    assert figures["sign_in_login"] == (25, 3600)
    assert figures["sign_up_ip"] == (5, 1800)
    assert figures["sign_up_attempts"] == (25, 300)
    assert figures["media"] == (30, 1800)
    assert figures["follows"] == (400, DAY)


# --- sign-in: password grant and web form, per IP and per account -----------------------------


@pytest.fixture
def settings(tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    custom, env = getattr(request, "param", ("", {}))
    return limited_settings(tmp_path, custom, **env)


def limits(custom: str, **env: str) -> pytest.MarkDecorator:
    """Run the test with these figures (``CORDEE_RATE_LIMITS_CUSTOM``) and other settings."""
    return pytest.mark.parametrize("settings", [(custom, env)], indirect=True, ids=["limits"])


async def oauth_app(client: httpx.AsyncClient) -> dict[str, Any]:
    r = await client.post(
        "/api/v1/apps",
        data={"client_name": "t", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read write"},
    )
    return r.json()  # type: ignore[no-any-return]


def grant(app: dict[str, Any], login: str, password: str) -> dict[str, str]:
    return {
        "grant_type": "password",
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "username": login,
        "password": password,
        "scope": "read",
    }


@limits(f"sign_in_ip=3/{DAY}")
async def test_password_grant_is_limited_per_ip(
    client: httpx.AsyncClient, alice: ApiUser, db: Database
) -> None:
    app = await oauth_app(client)
    for _ in range(3):
        r = await client.post("/oauth/token", data=grant(app, alice.email, "wrong password"))
        assert r.status_code in (400, 401), r.text
    refused = await client.post("/oauth/token", data=grant(app, alice.email, alice.password))
    assert_refused(refused, 3)
    # Another account from the same address: still refused (the limit is the address's).
    assert_refused(await client.post("/oauth/token", data=grant(app, "bob", "x")), 3)
    events = await rate_limited_events(db)
    assert len(events) == 1 and events[0].ip == "127.0.0.1" and "sign_in_ip" in events[0].detail


@limits(f"sign_in_login=2/{DAY}", CORDEE_TRUSTED_PROXIES="127.0.0.1")
async def test_sign_in_is_limited_per_account_whatever_the_address(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser
) -> None:
    app = await oauth_app(client)
    for i in range(2):
        r = await client.post(
            "/oauth/token", data=grant(app, alice.email, "wrong"), headers={"X-Forwarded-For": f"192.0.2.{i}"}
        )
        assert r.status_code in (400, 401)
    third = await client.post(
        "/oauth/token",
        data=grant(app, alice.email.upper(), alice.password),
        headers={"X-Forwarded-For": "192.0.2.99"},
    )
    assert_refused(third, 2)
    # Another account is not affected.
    ok = await client.post("/oauth/token", data=grant(app, bob.email, bob.password))
    assert ok.status_code == 200


def csrf_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


@limits(f"sign_in_ip=2/{DAY}")
async def test_web_sign_in_is_limited_per_ip(client: httpx.AsyncClient, alice: ApiUser, db: Database) -> None:
    fields = csrf_fields((await client.get("/auth/sign_in")).text)
    for _ in range(2):
        r = await client.post("/auth/sign_in", data={**fields, "login": "alice", "password": "wrong pass"})
        assert r.status_code == 422
    r = await client.post("/auth/sign_in", data={**fields, "login": "alice", "password": alice.password})
    assert r.status_code == 429
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["X-RateLimit-Limit"] == "2" and int(r.headers["Retry-After"]) > 0
    assert "Too many" in r.text
    french = await client.post(
        "/auth/sign_in",
        data={**fields, "login": "alice", "password": alice.password},
        headers={"Accept-Language": "fr"},
    )
    assert french.status_code == 429 and "Trop de" in french.text
    assert len(await rate_limited_events(db)) == 1


# --- sign-up, per IP --------------------------------------------------------------------------


async def app_token(client: httpx.AsyncClient) -> dict[str, str]:
    app = await oauth_app(client)
    r = await client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "scope": "read write",
        },
    )
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def sign_up(name: str) -> dict[str, str]:
    return {"username": name, "email": f"{name}@example.org", "password": "a long password", "agreement": "1"}


@limits(f"sign_up_ip=2/{DAY}")
async def test_api_sign_up_is_limited_per_ip(client: httpx.AsyncClient, db: Database) -> None:
    headers = await app_token(client)
    assert (await client.post("/api/v1/accounts", data=sign_up("one"), headers=headers)).status_code == 200
    # A sign-up refused for its content does not use up the allowance (a taken name is retried).
    taken = await client.post("/api/v1/accounts", data=sign_up("one"), headers=headers)
    assert taken.status_code == 422
    assert (await client.post("/api/v1/accounts", data=sign_up("two"), headers=headers)).status_code == 200
    assert_refused(await client.post("/api/v1/accounts", data=sign_up("three"), headers=headers), 2)
    # A forged X-Forwarded-For from an untrusted peer changes nothing.
    forged = await client.post(
        "/api/v1/accounts", data=sign_up("four"), headers={**headers, "X-Forwarded-For": "203.0.113.7"}
    )
    assert_refused(forged, 2)
    assert len(await rate_limited_events(db)) == 1


@limits(f"sign_up_attempts=2/{DAY}")
async def test_web_sign_up_attempts_are_limited_per_ip(client: httpx.AsyncClient) -> None:
    fields = csrf_fields((await client.get("/auth/sign_up")).text)
    for _ in range(2):
        r = await client.post("/auth/sign_up", data={**fields, **sign_up("x"), "password": "short"})
        assert r.status_code == 422
    r = await client.post("/auth/sign_up", data={**fields, **sign_up("webby")})
    assert r.status_code == 429 and r.headers["X-RateLimit-Limit"] == "2"


@limits(f"sign_up_ip=1/{DAY}")
async def test_web_and_api_sign_ups_share_the_per_ip_limit(client: httpx.AsyncClient) -> None:
    headers = await app_token(client)
    assert (await client.post("/api/v1/accounts", data=sign_up("first"), headers=headers)).status_code == 200
    fields = csrf_fields((await client.get("/auth/sign_up")).text)
    r = await client.post("/auth/sign_up", data={**fields, **sign_up("second")})
    assert r.status_code == 429


# --- the API, per token, per user, per IP -----------------------------------------------------


@limits(f"api_token=3/{DAY}")
async def test_api_is_limited_per_token_with_headers_on_every_answer(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    alice, bob = await make_user("alice"), await make_user("bob")
    seen = []
    for _ in range(3):
        r = await client.get("/api/v1/accounts/verify_credentials", headers=alice.headers)
        assert r.status_code == 200
        assert r.headers["X-RateLimit-Limit"] == "3"
        datetime.fromisoformat(r.headers["X-RateLimit-Reset"])
        seen.append(int(r.headers["X-RateLimit-Remaining"]))
    assert seen == [2, 1, 0]
    assert_refused(await client.get("/api/v1/timelines/home", headers=alice.headers), 3)
    # Another token is counted apart.
    assert (await client.get("/api/v1/timelines/home", headers=bob.headers)).status_code == 200


@limits(f"api_user=3/{DAY}")
async def test_api_is_limited_per_user_across_tokens(client: httpx.AsyncClient, alice: ApiUser) -> None:
    app = await oauth_app(client)
    tokens = [alice.token]
    for _ in range(2):
        r = await client.post("/oauth/token", data=grant(app, alice.email, alice.password))
        tokens.append(r.json()["access_token"])
    for token in tokens:
        r = await client.get("/api/v1/timelines/home", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200
    r = await client.get("/api/v1/timelines/home", headers={"Authorization": f"Bearer {tokens[0]}"})
    assert_refused(r, 3)


@limits(f"api_ip=3/{DAY}")
async def test_anonymous_api_is_limited_per_ip_and_a_forged_header_does_not_dodge_it(
    client: httpx.AsyncClient,
) -> None:
    for i in range(3):
        r = await client.get("/api/v1/timelines/public", headers={"X-Forwarded-For": f"198.51.100.{i}"})
        assert r.status_code == 200 and r.headers["X-RateLimit-Remaining"] == str(2 - i)
    assert_refused(await client.get("/api/v1/timelines/public"), 3)
    forged = await client.get("/api/v1/timelines/public", headers={"X-Forwarded-For": "198.51.100.77"})
    assert_refused(forged, 3)
    # A bad token is counted as anonymous (token guessing is limited too).
    bad = await client.get("/api/v1/timelines/home", headers={"Authorization": "Bearer nope"})
    assert_refused(bad, 3)


@limits(f"api_ip=2/{DAY}", CORDEE_TRUSTED_PROXIES="127.0.0.1")
async def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(client: httpx.AsyncClient) -> None:
    one = {"X-Forwarded-For": "198.51.100.1"}
    two = {"X-Forwarded-For": "203.0.113.9, 198.51.100.2"}  # the left entry is the client's to forge
    for _ in range(2):
        assert (await client.get("/api/v1/timelines/public", headers=one)).status_code == 200
    assert_refused(await client.get("/api/v1/timelines/public", headers=one), 2)
    assert (await client.get("/api/v1/timelines/public", headers=two)).status_code == 200
    # Forging another left entry does not give a fresh allowance to 198.51.100.2.
    forged = {"X-Forwarded-For": "192.0.2.200, 198.51.100.2"}
    assert (await client.get("/api/v1/timelines/public", headers=forged)).status_code == 200
    assert_refused(await client.get("/api/v1/timelines/public", headers=two), 2)


@limits("api_token=2/2")
async def test_the_allowance_comes_back_after_the_window(client: httpx.AsyncClient, alice: ApiUser) -> None:
    await asyncio.sleep(2 - time.time() % 2 + 0.05)  # start right after a window begins
    for _ in range(2):
        assert (await client.get("/api/v1/timelines/home", headers=alice.headers)).status_code == 200
    refused = await client.get("/api/v1/timelines/home", headers=alice.headers)
    assert_refused(refused, 2, window=2)
    reset = datetime.fromisoformat(refused.headers["X-RateLimit-Reset"]).timestamp()
    await asyncio.sleep(max(0.0, reset - time.time()) + 0.05)
    again = await client.get("/api/v1/timelines/home", headers=alice.headers)
    assert again.status_code == 200 and again.headers["X-RateLimit-Remaining"] == "1"


# --- costly endpoints: media uploads, follows, search ----------------------------------------


@limits(f"media=2/{DAY}")
async def test_media_uploads_are_limited_per_user(client: httpx.AsyncClient, alice: ApiUser) -> None:
    from tests.api.test_media import image_bytes

    def upload() -> dict[str, Any]:
        return {"file": ("p.png", image_bytes(), "image/png")}

    for _ in range(2):
        assert (await client.post("/api/v2/media", files=upload(), headers=alice.headers)).status_code in (
            200,
            202,
        )
    assert_refused(await client.post("/api/v2/media", files=upload(), headers=alice.headers), 2)
    assert_refused(await client.post("/api/v1/media", files=upload(), headers=alice.headers), 2)


@limits(f"follows=2/{DAY}")
async def test_follows_are_limited_per_user(client: httpx.AsyncClient, make_user: MakeUser) -> None:
    alice = await make_user("alice")
    others = [await make_user(f"user{i}") for i in range(3)]
    for other in others[:2]:
        assert (
            await client.post(f"/api/v1/accounts/{other.id}/follow", headers=alice.headers)
        ).status_code == 200
    assert_refused(await client.post(f"/api/v1/accounts/{others[2].id}/follow", headers=alice.headers), 2)


@limits(f"search=2/{DAY}")
async def test_search_is_limited_per_user(client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser) -> None:
    for _ in range(2):
        assert (
            await client.get("/api/v2/search", params={"q": "x"}, headers=alice.headers)
        ).status_code == 200
    assert_refused(await client.get("/api/v2/search", params={"q": "x"}, headers=alice.headers), 2)
    assert (await client.get("/api/v2/search", params={"q": "x"}, headers=bob.headers)).status_code == 200


@limits("api_token=1/86400,sign_in_ip=1/86400", CORDEE_RATE_LIMITS="off")
async def test_limits_can_be_turned_off(client: httpx.AsyncClient, alice: ApiUser) -> None:
    for _ in range(3):
        r = await client.get("/api/v1/timelines/home", headers=alice.headers)
        assert r.status_code == 200 and "X-RateLimit-Limit" not in r.headers


# --- several processes share the counters through Redis ---------------------------------------


def test_two_processes_share_the_limits_through_redis(tmp_path: Path) -> None:
    name = f"cordee_rl_{uuid.uuid4().hex[:10]}"
    prefix = f"cordee-rl-{uuid.uuid4().hex[:8]}:"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    env = {
        "CORDEE_DATABASE_URL": _pg_url(name),
        "CORDEE_REDIS_URL": "redis://127.0.0.1:6379/0",
        "CORDEE_REDIS_PREFIX": prefix,
        "CORDEE_RATE_LIMITS_CUSTOM": f"api_ip=12/{DAY},search=2/{DAY}",
    }
    servers = []
    try:
        servers.append(launch(tmp_path, **env))
        servers.append(launch(tmp_path, **env))
        # An endpoint's own limit (searches, per address when anonymous) is counted with the API's
        # in one script: shared as well, and refused on the third search whichever process.
        searches = [
            httpx.get(f"{servers[i % 2].base_url}/api/v2/search", params={"q": "x"}) for i in range(3)
        ]
        assert [r.status_code for r in searches] == [200, 200, 429]
        remaining: list[int] = []
        statuses: list[int] = []
        for i in range(14):
            r = httpx.get(f"{servers[i % 2].base_url}/api/v1/timelines/public")
            statuses.append(r.status_code)
            if r.status_code == 200:
                remaining.append(int(r.headers["X-RateLimit-Remaining"]))
        # One counter for both: each answer, whichever process gives it, counts one down.
        assert remaining == list(range(remaining[0], remaining[0] - len(remaining), -1))
        assert remaining[-1] == 0 and statuses[-2:] == [429, 429]
    finally:
        for server in servers:
            server.stop()
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        redis = Redis.from_url("redis://127.0.0.1:6379/0")
        keys = list(redis.scan_iter(f"{prefix}*"))
        if keys:
            redis.delete(*keys)


def test_a_server_with_redis_on_a_unix_socket_starts_and_counts_there(tmp_path: Path) -> None:
    """``CORDEE_REDIS_URL=unix:///…`` (Redis beside the server, without TCP: each round trip
    cheaper) started no server: the rate limits' storage was named ``async+unix://``, which
    ``limits`` does not take. A Redis of the test's own, listening on a socket only."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    socket = tmp_path / "redis.sock"
    redis_process = subprocess.Popen(
        [server, "--port", "0", "--unixsocket", str(socket), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    running = None
    try:
        deadline = time.monotonic() + 10
        while not socket.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        running = launch(
            tmp_path,
            CORDEE_REDIS_URL=f"unix://{socket}",
            CORDEE_REDIS_PREFIX="cordee-unix:",
            CORDEE_RATE_LIMITS_CUSTOM=f"api_ip=5/{DAY}",
        )
        remaining = [
            httpx.get(f"{running.base_url}/api/v1/timelines/public").headers.get("X-RateLimit-Remaining")
            for _ in range(2)
        ]
        assert remaining[1] is not None and int(remaining[1]) == int(remaining[0] or 0) - 1
        counted = Redis(unix_socket_path=str(socket)).keys("cordee-unix:ratelimit*")
        assert counted  # the counters live in that Redis
    finally:
        if running is not None:
            running.stop()
        redis_process.terminate()
        redis_process.wait(10)
