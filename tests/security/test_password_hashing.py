"""Password hashes: Argon2id with argon2-cffi's defaults unless the test-only variable is set, and
a sign-in moves a hash made with other parameters to today's.

The suite itself runs with ``CORDEE_INSECURE_FAST_PASSWORD_HASHING=1`` (tests/conftest.py): it
creates thousands of accounts, and the real parameters cost ~60 ms of CPU each on purpose.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import TYPE_CHECKING

import httpx
from argon2 import PasswordHasher
from sqlalchemy import select, update

from cordee.db.engine import Database
from cordee.db.tables import User
from cordee.domain.passwords import INSECURE_FAST_HASHING_VARIABLE
from tests.api.test_oauth import password_token, register

if TYPE_CHECKING:
    from tests.conftest import ApiUser as TestUser


def test_without_the_variable_hashes_use_argon2_cffis_defaults() -> None:
    env = {k: v for k, v in os.environ.items() if k != INSECURE_FAST_HASHING_VARIABLE}
    made = subprocess.run(
        [
            sys.executable,
            "-c",
            "from cordee.domain.passwords import hash_password; print(hash_password('pw'))",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    defaults = PasswordHasher()
    assert made.startswith(
        f"$argon2id$v=19$m={defaults.memory_cost},t={defaults.time_cost},p={defaults.parallelism}$"
    ), made
    assert defaults.memory_cost >= 65536 and defaults.time_cost >= 3


async def _stored_hash(db: Database, user: TestUser) -> str:
    async with db.read() as session:
        return str(await session.scalar(select(User.password_hash).where(User.id == user.user_id)))


async def test_a_sign_in_rewrites_a_hash_made_with_other_parameters(
    client: httpx.AsyncClient, db: Database, alice: TestUser
) -> None:
    other = PasswordHasher(time_cost=2, memory_cost=1024, parallelism=1).hash(alice.password)
    async with db.write() as tx:
        await tx.session.execute(update(User).where(User.id == alice.user_id).values(password_hash=other))
    app = await register(client)

    refused = await password_token(client, app, alice, password="not the password")
    assert refused.status_code == 400
    assert await _stored_hash(db, alice) == other  # a wrong password changes nothing

    signed_in = await password_token(client, app, alice)
    assert signed_in.status_code == 200, signed_in.text
    rewritten = await _stored_hash(db, alice)
    assert rewritten != other and "m=1024,t=2,p=1" not in rewritten
    again = await password_token(client, app, alice)
    assert again.status_code == 200, again.text
    assert await _stored_hash(db, alice) == rewritten  # already today's parameters: kept
