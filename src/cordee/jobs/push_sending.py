"""The half of Web Push that talks to push services: a message encrypted to the subscriber's keys
(pywebpush: aes128gcm, RFC 8291, for ``standard`` subscriptions; the aesgcm draft otherwise),
signed (py-vapid), and posted over HTTP (aiohttp) to public addresses only.

``jobs/push.py`` imports it the first time a message is due (``load_sending``): these libraries cost a
server process ~20 MiB it would keep for its whole life, with or without push subscriptions.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import time
from collections.abc import Sequence
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from py_vapid import Vapid01, Vapid02, VapidException
from pywebpush import WebPusher, WebPushException

from cordee.actions.push import ServerKeys
from cordee.config import Settings
from cordee.queries.push import PushFacts

log = logging.getLogger(__name__)

CONCURRENCY = 10
TIMEOUT = aiohttp.ClientTimeout(total=15, connect=5)
#: What makes a message impossible to build (keys or endpoint no longer usable).
UNUSABLE = (WebPushException, VapidException, ValueError)


def encrypted(
    data: bytes, facts: PushFacts, keys: ServerKeys, subject: str, headers: dict[str, str]
) -> tuple[bytes, dict[str, str]]:
    """The body of one message and its headers: ``headers`` and those of its encoding and signature."""
    subscriber = {"endpoint": facts.endpoint, "keys": {"p256dh": facts.key_p256dh, "auth": facts.key_auth}}
    pusher = WebPusher(subscriber)
    parts = urlsplit(facts.endpoint)
    claims = {"aud": f"{parts.scheme}://{parts.netloc}", "sub": subject, "exp": int(time.time()) + 12 * 3600}
    headers = dict(headers)
    if facts.standard:
        encoded = pusher.encode(data, "aes128gcm")
        vapid: Vapid01 = Vapid02.from_raw(keys.private_key.encode())
        vapid.conf = {"no-strict": True}
        headers.update(vapid.sign(claims))
        headers["Content-Encoding"] = "aes128gcm"
    else:
        encoded = pusher.encode(data, "aesgcm")
        vapid = Vapid01.from_raw(keys.private_key.encode())
        vapid.conf = {"no-strict": True}
        headers.update(vapid.sign(claims, crypto_key="dh=" + encoded["crypto_key"].decode()))
        headers["Content-Encoding"] = "aesgcm"
        headers["Encryption"] = "salt=" + encoded["salt"].decode()
    return bytes(encoded["body"]), headers


def _address_allowed(address: str, allowed: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global or any(ip in network for network in allowed)


class PublicOnlyResolver(AbstractResolver):
    """Resolves as usual, then keeps only the addresses the server may post to."""

    def __init__(self, allowed: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> None:
        self._inner = DefaultResolver()
        self._allowed = allowed

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = [
            r
            for r in await self._inner.resolve(host, port, family)
            if _address_allowed(r["host"], self._allowed)
        ]
        if not found:
            raise OSError(f"{host} has no public address")
        return found

    async def close(self) -> None:
        await self._inner.close()


class Sender:
    """One HTTP session for a batch of deliveries."""

    def __init__(self, settings: Settings) -> None:
        self._allowed = [ipaddress.ip_network(n) for n in settings.push_allowed_private_networks]
        connector = aiohttp.TCPConnector(resolver=PublicOnlyResolver(self._allowed), limit=CONCURRENCY)
        self.session = aiohttp.ClientSession(connector=connector, timeout=TIMEOUT)

    def literal_allowed(self, endpoint: str) -> bool:
        host = urlsplit(endpoint).hostname or ""
        try:
            return _address_allowed(host, self._allowed)
        except ValueError:
            return True  # a name: checked as it is resolved

    async def post(self, endpoint: str, body: bytes, headers: dict[str, str]) -> int | None:
        """The push service's status, or None when it could not be reached."""
        if not self.literal_allowed(endpoint):
            return None
        try:
            async with self.session.post(endpoint, data=body, headers=headers, allow_redirects=False) as r:
                await r.read()
                return r.status
        except (aiohttp.ClientError, OSError, TimeoutError) as e:
            log.info("push to %s failed: %s", urlsplit(endpoint).netloc, e)
            return None

    async def close(self) -> None:
        await self.session.close()
