"""Who is on the other end: the one place that decides a request's client address.

The socket's peer is the client, unless that peer is one of ``CORDEE_TRUSTED_PROXIES``: then the
``X-Forwarded-For`` chain is read from the right, skipping trusted proxies, and the first address
that is not one is the client. A client that forges the header only adds entries on the left,
which are never reached while an untrusted hop stands to their right; so rate limits and the
audit log cannot be fooled by it.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from starlette.types import Scope

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=16)
def _parse(proxies: tuple[str, ...]) -> tuple[_Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _trusted(address: str, networks: tuple[_Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_ip(scope: Scope, trusted_proxies: tuple[str, ...] = ()) -> str:
    """The client's address for an HTTP or WebSocket scope ("" when the server does not know it)."""
    peer = scope.get("client")
    address = peer[0] if peer else ""
    if not trusted_proxies:
        return address
    networks = _parse(trusted_proxies)
    if not _trusted(address, networks):
        return address
    hops: list[str] = []
    for name, value in scope.get("headers", ()):
        if name == b"x-forwarded-for":
            hops.extend(h.strip() for h in value.decode("latin-1").split(","))
    for hop in reversed(hops):
        if not hop:
            continue
        if not _trusted(hop, networks):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return address  # garbage in the header: fall back to the proxy itself
        address = hop
    return address
