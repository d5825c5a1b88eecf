"""Ticket codes: a ticket's id signed with its chapter's Ed25519 key, checkable offline.

Why Ed25519 and not an HMAC (itsdangerous): checking an HMAC needs the secret that makes codes,
so every door phone would hold the power to mint tickets. With a signature the door holds only
the chapter's *public* key (``GET /api/v1/chapters/:id/door_key``); a lost phone mints nothing.
Signatures are deterministic, so the code is not stored: it is made again from the ticket's id.

A code is ``CT1.`` and the URL-safe base64 (no padding) of 80 bytes: the chapter id and the
ticket id (big-endian 64-bit each), then the signature of ``cordee-ticket-v1`` + those 16 bytes.
Each chapter's key is derived from the server's secret key (HKDF-SHA256, one ``info`` per
chapter): nothing to store or back up, and a code from one chapter never opens another's door.
"""

from __future__ import annotations

import base64
import binascii
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "CT1."
_CONTEXT = b"cordee-ticket-v1"
_IDS = struct.Struct(">QQ")


@dataclass(frozen=True)
class TicketRef:
    chapter_id: int
    ticket_id: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def chapter_key(secret_key: str, chapter_id: int) -> Ed25519PrivateKey:
    seed = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"cordee-ticket-keys", info=b"chapter:%d" % chapter_id
    ).derive(secret_key.encode("utf-8"))
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key(secret_key: str, chapter_id: int) -> str:
    """The chapter's public key, raw 32 bytes in URL-safe base64 (what the door page imports)."""
    return _b64(chapter_key(secret_key, chapter_id).public_key().public_bytes_raw())


def make_code(secret_key: str, chapter_id: int, ticket_id: int) -> str:
    ids = _IDS.pack(chapter_id, ticket_id)
    signature = chapter_key(secret_key, chapter_id).sign(_CONTEXT + ids)
    return PREFIX + _b64(ids + signature)


def read_code(public_key_b64: str, code: str) -> TicketRef | None:
    """The ticket a code names if its signature holds under ``public_key_b64``; else None. Needs
    no database and no secret: the same check the offline door page makes."""
    text = code.strip()
    if not text.startswith(PREFIX) or len(text) > 200:
        return None
    body = text[len(PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        key = Ed25519PublicKey.from_public_bytes(
            base64.urlsafe_b64decode(public_key_b64 + "=" * (-len(public_key_b64) % 4))
        )
    except (binascii.Error, ValueError):
        return None
    if len(raw) != _IDS.size + 64:
        return None
    ids, signature = raw[: _IDS.size], raw[_IDS.size :]
    try:
        key.verify(signature, _CONTEXT + ids)
    except InvalidSignature:
        return None
    chapter_id, ticket_id = _IDS.unpack(ids)
    return TicketRef(chapter_id, ticket_id)
