"""The raffle draw: commit-reveal, and a deterministic algorithm anyone can run again.

1. Before the first sale the organiser picks a secret **seed** (text; ``secrets.token_hex(32)``
   makes a good one) and publishes its **commitment**: the hex SHA-256 of the seed's UTF-8 bytes.
2. Tickets are numbered 1, 2, … N in the order they are sold.
3. At the draw the organiser reveals the seed; anyone checks ``sha256(seed) == commitment``.
4. The draw key is ``sha256("cordee-raffle-v1:" + seed + ":" + N)``; each ticket's rank is
   ``sha256(key_hex + ":" + number)`` (hex, compared as text, which orders like the number it
   spells); the ``prizes`` lowest ranks win, lowest first (first prize, second prize…).

Everything is SHA-256 over short texts: the draw can be re-run with any language's standard
library (``cordee raffle verify`` does it here). The seed, hidden until the draw, keeps anyone
from knowing the ranks while tickets sell; mixing in N keeps the organiser from fixing the
result in advance. What it does not stop: an organiser who knows the seed buying tickets at the
end until one of theirs would win (each try costs a ticket, in plain sight in the ledger).
A public randomness beacon mixed in at the draw would close that; it is not done here.
"""

from __future__ import annotations

import hashlib
import hmac
import re

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def commitment_of(seed: str) -> str:
    return hashlib.sha256(seed.encode("utf-8")).hexdigest()


def is_commitment(text: str) -> bool:
    return bool(_HEX64.match(text))


def seed_matches(seed: str, commitment: str) -> bool:
    return hmac.compare_digest(commitment_of(seed), commitment)


def draw_key(seed: str, tickets: int) -> str:
    return hashlib.sha256(f"cordee-raffle-v1:{seed}:{tickets}".encode()).hexdigest()


def rank(key: str, number: int) -> str:
    return hashlib.sha256(f"{key}:{number}".encode()).hexdigest()


def winners(seed: str, tickets: int, prizes: int) -> list[int]:
    """The winning ticket numbers, first prize first."""
    key = draw_key(seed, tickets)
    ranked = sorted(range(1, tickets + 1), key=lambda n: (rank(key, n), n))
    return ranked[: max(0, prizes)]
