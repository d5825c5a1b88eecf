"""Web Push: the subscription endpoints, and delivery to a real local push service that checks
the VAPID signature and decrypts what it receives with the subscriber's private key."""

from __future__ import annotations

import asyncio
import base64
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import http_ece
import httpx
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from mastodon import Mastodon
from py_vapid import Vapid01, Vapid02
from sqlalchemy import func, select, update

from cordee.actions import oauth as oauth_actions
from cordee.config import ConfigError, Settings, load_settings
from cordee.db.engine import Database
from cordee.db.tables_push import PushDelivery, PushSubscription
from cordee.db.types import utcnow
from cordee.jobs import push as push_job
from cordee.jobs.push import deliver_due
from tests.conftest import BASE_URL, ApiUser, MakeUser


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # The test's push service listens on loopback, which a real server would refuse to post to.
    return Settings(
        base_url=BASE_URL,
        data_dir=tmp_path / "data",
        secret_key="test-secret",
        push_allowed_private_networks=("127.0.0.0/8",),
    )


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class PushService:
    url: str
    received: list[Received] = field(default_factory=list)
    status: int = 201
    delay: float = 0.0


@pytest.fixture
async def push_service() -> AsyncIterator[PushService]:
    service = PushService("")

    async def receive(request: web.Request) -> web.Response:
        service.received.append(Received(request.path, dict(request.headers), await request.read()))
        await asyncio.sleep(service.delay)
        return web.Response(status=service.status)

    app = web.Application()
    app.router.add_post("/{tail:.*}", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    service.url = f"http://127.0.0.1:{port}"
    try:
        yield service
    finally:
        await runner.cleanup()


@dataclass
class DeviceKeys:
    private: ec.EllipticCurvePrivateKey
    auth: bytes

    @property
    def p256dh(self) -> str:
        point = self.private.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return base64.urlsafe_b64encode(point).decode().rstrip("=")

    @property
    def auth_b64(self) -> str:
        return base64.urlsafe_b64encode(self.auth).decode().rstrip("=")


def device() -> DeviceKeys:
    return DeviceKeys(ec.generate_private_key(ec.SECP256R1()), os.urandom(16))


def _sub(endpoint: str, keys: DeviceKeys, **extra: Any) -> dict[str, Any]:
    return {
        "subscription": {
            "endpoint": endpoint,
            "keys": {"p256dh": keys.p256dh, "auth": keys.auth_b64},
            **extra,
        }
    }


async def test_subscription_lifecycle_bad_input_and_the_advertised_key(
    client: httpx.AsyncClient, alice: ApiUser, make_user: MakeUser
) -> None:
    h = alice.headers
    r = await client.get("/api/v1/push/subscription", headers=h)
    assert r.status_code == 404 and r.json() == {"error": "Record not found"}
    keys = device()
    body = {**_sub("https://push.example.net/send/abc", keys), "data": {"alerts": {"mention": True}}}
    r = await client.post("/api/v1/push/subscription", json=body, headers=h)
    assert r.status_code == 200, r.text
    entity = r.json()
    server_key = entity["server_key"]
    assert entity == {
        "id": entity["id"],
        "endpoint": "https://push.example.net/send/abc",
        "standard": False,
        "alerts": {"mention": True},
        "server_key": server_key,
        "policy": "all",
    }
    # The same key wherever Mastodon advertises it: an uncompressed P-256 point, base64url.
    assert len(base64.urlsafe_b64decode(server_key)) == 65
    instance = (await client.get("/api/v2/instance")).json()
    assert instance["configuration"]["vapid"]["public_key"] == server_key
    app = (
        await client.post(
            "/api/v1/apps", data={"client_name": "x", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"}
        )
    ).json()
    assert app["vapid_key"] == server_key
    assert (await client.get("/api/v1/push/subscription", headers=h)).json() == entity
    # PUT replaces the data (form fields, as most clients send them).
    r = await client.put(
        "/api/v1/push/subscription",
        data={"data[alerts][follow]": "true", "data[alerts][mention]": "0", "data[policy]": "followed"},
        headers=h,
    )
    assert r.status_code == 200, r.text
    assert r.json()["alerts"] == {"follow": True, "mention": False} and r.json()["policy"] == "followed"
    # A new POST replaces the subscription: one per token.
    r = await client.post(
        "/api/v1/push/subscription", json=_sub("https://push.example.net/2", keys, standard=True), headers=h
    )
    assert r.json()["id"] != entity["id"] and r.json()["standard"] is True and r.json()["alerts"] == {}
    assert (await client.delete("/api/v1/push/subscription", headers=h)).json() == {}
    assert (await client.get("/api/v1/push/subscription", headers=h)).status_code == 404
    assert (
        await client.put("/api/v1/push/subscription", data={"data[policy]": "all"}, headers=h)
    ).status_code == 404


async def _refusals(client: httpx.AsyncClient, alice: ApiUser, make_user: MakeUser) -> None:
    h = alice.headers
    keys = device()
    r = await client.post("/api/v1/push/subscription", json={"data": {}}, headers=h)
    assert r.status_code == 400
    for endpoint in (
        "",
        "ftp://push.example.net/x",
        "not a url",
        "https:///nohost",
        "https://a b/",
        "https://[::g]/",
        "http://[::1",
        "https://push.example.net/a\x00b",
        "https://x:port/",
    ):
        r = await client.post("/api/v1/push/subscription", json=_sub(endpoint, keys), headers=h)
        assert r.status_code == 422, (endpoint, r.text)
        assert "Endpoint" in r.json()["error"]
    bad_keys = [
        ("", keys.auth_b64),
        ("AAAA", keys.auth_b64),
        (keys.p256dh[:-4] + "AAAA", keys.auth_b64),
        (keys.p256dh, ""),
    ]
    for p256dh, auth in bad_keys:
        body = {
            "subscription": {
                "endpoint": "https://push.example.net/x",
                "keys": {"p256dh": p256dh, "auth": auth},
            }
        }
        r = await client.post("/api/v1/push/subscription", json=body, headers=h)
        assert r.status_code == 422, (p256dh, auth, r.text)
    r = await client.post(
        "/api/v1/push/subscription",
        json={**_sub("https://push.example.net/x", keys), "data": {"policy": "some"}},
        headers=h,
    )
    assert r.status_code == 422 and "policy" in r.json()["error"]
    assert (await client.get("/api/v1/push/subscription", headers=h)).status_code == 404
    reader = await make_user("reader", scopes="read write")
    r = await client.get("/api/v1/push/subscription", headers=reader.headers)
    assert r.status_code == 403


async def _second_token(db: Database, user: ApiUser) -> dict[str, str]:
    app = await oauth_actions.create_application(
        db, "phone", ["urn:ietf:wg:oauth:2.0:oob"], "read write push", None
    )
    token = await oauth_actions.issue_user_token(db, app, user.user_id, frozenset({"read", "write", "push"}))
    return {"Authorization": f"Bearer {token.access_token}"}


async def _pending(db: Database) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(PushDelivery)) or 0)


async def test_notifications_are_pushed_encrypted_and_signed(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    alice: ApiUser,
    bob: ApiUser,
    push_service: PushService,
) -> None:
    standard, legacy = device(), device()
    alerts = {"mention": True, "favourite": False}
    r = await client.post(
        "/api/v1/push/subscription",
        json={**_sub(f"{push_service.url}/std", standard, standard=True), "data": {"alerts": alerts}},
        headers=bob.headers,
    )
    server_key = r.json()["server_key"]
    phone = await _second_token(db, bob)
    # Mastodon.py sends keys in standard base64 with padding; that is taken too.
    legacy_b64 = {
        "subscription[endpoint]": f"{push_service.url}/legacy",
        "subscription[keys][p256dh]": base64.b64encode(
            base64.urlsafe_b64decode(legacy.p256dh + "=")
        ).decode(),
        "subscription[keys][auth]": base64.b64encode(legacy.auth).decode(),
        "data[alerts][mention]": "true",
    }
    assert (await client.post("/api/v1/push/subscription", data=legacy_b64, headers=phone)).status_code == 200

    note = (
        await client.post(
            "/api/v1/statuses", json={"status": "@bob <b>hi</b> &amp; bye"}, headers=alice.headers
        )
    ).json()
    await client.post(f"/api/v1/statuses/{note['id']}/favourite", headers=bob.headers)
    mine = (await client.post("/api/v1/statuses", json={"status": "mine"}, headers=bob.headers)).json()
    await client.post(f"/api/v1/statuses/{mine['id']}/favourite", headers=alice.headers)  # alert off
    assert push_service.received == []  # nothing on the request path
    assert await deliver_due(db, settings) == 4  # two notifications, two subscriptions
    assert await _pending(db) == 0
    by_path = {m.path: m for m in push_service.received}
    assert sorted(by_path) == ["/legacy", "/std"]
    notification = (await client.get("/api/v1/notifications", headers=bob.headers)).json()
    mention_id = next(n["id"] for n in notification if n["type"] == "mention")

    std = by_path["/std"]
    assert std.headers["Content-Encoding"] == "aes128gcm" and std.headers["TTL"] == "172800"
    assert std.headers["Urgency"] == "normal"
    scheme, _, params = std.headers["Authorization"].partition(" ")
    assert scheme == "vapid"
    k = dict(p.split("=", 1) for p in params.split(","))["k"]
    assert base64.urlsafe_b64decode(k + "==") == base64.urlsafe_b64decode(server_key)
    assert Vapid02.verify(std.headers["Authorization"])  # signature checked with that key
    plain = http_ece.decrypt(
        std.body, private_key=standard.private, auth_secret=standard.auth, version="aes128gcm"
    )
    payload = json.loads(plain)
    assert payload == {
        "access_token": bob.token,
        "preferred_locale": "en",
        "notification_id": mention_id,
        "notification_type": "mention",
        "icon": payload["icon"],
        "title": "You were mentioned by alice",
        "body": "@bob hi & bye",
    }
    assert payload["icon"].startswith("http")

    old = by_path["/legacy"]
    assert old.headers["Content-Encoding"] == "aesgcm"
    assert old.headers["Authorization"].startswith("WebPush ")
    assert Vapid01.verify(server_key.rstrip("="), old.headers["Authorization"])
    decrypted = Mastodon(api_base_url=BASE_URL, version_check_mode="none").push_subscription_decrypt_push(
        old.body,
        {"privkey": legacy.private.private_numbers().private_value, "auth": legacy.auth},
        old.headers["Encryption"],
        old.headers["Crypto-Key"],
    )
    assert decrypted["notification_id"] == mention_id and decrypted["title"] == "You were mentioned by alice"
    assert decrypted["access_token"] == phone["Authorization"].removeprefix("Bearer ")


async def test_failures_are_retried_and_dead_subscriptions_dropped(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    alice: ApiUser,
    bob: ApiUser,
    push_service: PushService,
    tmp_path: Path,
) -> None:
    keys = device()
    body = {
        **_sub(f"{push_service.url}/x", keys, standard=True),
        "data": {"alerts": {"follow": True}, "policy": "followed"},
    }
    await client.post("/api/v1/push/subscription", json=body, headers=bob.headers)
    await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice.headers)  # bob does not follow alice
    assert await deliver_due(db, settings) == 1 and push_service.received == []
    await client.put(
        "/api/v1/push/subscription", json={"data": {"alerts": {"follow": True}}}, headers=bob.headers
    )
    await client.post(f"/api/v1/accounts/{bob.id}/unfollow", headers=alice.headers)
    push_service.status, push_service.delay = 503, 1.1
    await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice.headers)
    # A slow push service does not hold up the runner's other tasks: the job waits a second at
    # most, the batch goes on in the background.
    started = asyncio.get_running_loop().time()
    assert await push_job.deliver_job(db, settings) == 0
    assert asyncio.get_running_loop().time() - started < 1.4
    assert await push_job._inflight[db.url] == 1 and len(push_service.received) == 1
    push_service.delay = 0
    assert await _pending(db) == 1  # kept, due again later
    assert await deliver_due(db, settings) == 0
    push_service.status = 410
    async with db.write() as tx:  # time passes: the retry falls due
        await tx.session.execute(update(PushDelivery).values(due_at=utcnow()))
    assert await deliver_due(db, settings) == 1 and len(push_service.received) == 2
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(PushSubscription)) == 0
    assert await _pending(db) == 0

    # A server posts to public addresses only (unless told otherwise): loopback is refused.
    await client.post(
        "/api/v1/push/subscription",
        json={**_sub(f"{push_service.url}/y", device()), "data": {"alerts": {"follow": True}}},
        headers=bob.headers,
    )
    await client.post(f"/api/v1/accounts/{bob.id}/unfollow", headers=alice.headers)
    await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice.headers)
    strict = Settings(base_url=BASE_URL, data_dir=tmp_path / "strict", secret_key="test-secret")
    assert await deliver_due(db, strict) == 1
    assert len(push_service.received) == 2 and await _pending(db) == 1  # not sent; tried again later


def test_vapid_settings_are_checked_when_read() -> None:
    private = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    assert load_settings({"CORDEE_VAPID_PRIVATE_KEY": private}).vapid_private_key == private
    for env in ({"CORDEE_VAPID_PRIVATE_KEY": "short"}, {"CORDEE_VAPID_PUBLIC_KEY": private}):
        with pytest.raises(ConfigError):
            load_settings(env)
