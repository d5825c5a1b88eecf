"""Password hashing with Argon2id (argon2-cffi's tuned defaults).

``CORDEE_INSECURE_FAST_PASSWORD_HASHING=1`` swaps in argon2-cffi's cheapest parameters, for test
suites only: a test run creates thousands of accounts, and the real parameters (~60 ms of CPU
each, on purpose) were about half of its time. A hash records its own parameters, so hashes made
either way verify either way, and a sign-in with the real parameters back rewrites a cheap hash
(``needs_rehash``). ``cordee serve`` says loudly when the variable is set.
"""

from __future__ import annotations

import os

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

INSECURE_FAST_HASHING_VARIABLE = "CORDEE_INSECURE_FAST_PASSWORD_HASHING"
INSECURE_FAST_HASHING = os.environ.get(INSECURE_FAST_HASHING_VARIABLE) == "1"
_hasher = PasswordHasher.from_parameters(profiles.CHEAPEST) if INSECURE_FAST_HASHING else PasswordHasher()
MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether a verified hash was made with other parameters than today's (an older default, or
    the insecure test ones): the sign-in that just verified it replaces it."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return False


_dummy_hash: str | None = None


def spend_verify_time(password: str) -> None:
    """Do the work of one verification when there is no user, so timing does not reveal accounts."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash("no such user")
    verify_password(_dummy_hash, password)
