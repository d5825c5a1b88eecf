"""Fixtures: a fresh migrated database per test, the app, an HTTP client, and users with tokens.

Every test that uses the database runs on SQLite *and* on PostgreSQL (the same code, the same
tests); ``CORDEE_TEST_BACKENDS=sqlite`` narrows that when PostgreSQL is not at hand. The schema is
migrated once per test session (through Alembic, so the migrations themselves are tested) into a
template — a SQLite file, a PostgreSQL template database — and copied for each test.
"""

from __future__ import annotations

import os

# Set before cordee is imported: thousands of test accounts at Argon2's real cost were about half
# of the suite's time (see cordee.domain.passwords; tests/security/test_password_hashing.py).
os.environ["CORDEE_INSECURE_FAST_PASSWORD_HASHING"] = "1"

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from cordee.actions import oauth as oauth_actions
from cordee.actions.accounts import Registration, create_local_account
from cordee.app import build_app
from cordee.config import Settings
from cordee.db.engine import Database
from cordee.db.migrate import upgrade
from cordee.events.types import Event

BASE_URL = "http://cordee.test"


BACKENDS = [
    b.strip() for b in os.environ.get("CORDEE_TEST_BACKENDS", "sqlite,postgresql").split(",") if b.strip()
]
PG_ADMIN_DSN = os.environ.get("CORDEE_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


def _pg_url(name: str) -> str:
    return PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1) + "/" + name


async def _pg_admin(*statements: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated PostgreSQL template database for this test process (xdist workers get their own)."""
    name = f"cordee_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"

    def create() -> None:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
        upgrade(_pg_url(name))

    # First requested from inside a running event loop (an async fixture): work in a thread.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(create).result()
    yield name
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')).result()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(base_url=BASE_URL, data_dir=tmp_path / "data", secret_key="test-secret")


@pytest.fixture
async def db(
    backend: str, template_db: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Database]:
    if backend == "sqlite":
        path = tmp_path / "cordee.sqlite3"
        shutil.copy(template_db, path)
        database = Database(f"sqlite+aiosqlite:///{path}")
        yield database
        await database.dispose()
        return
    template = request.getfixturevalue("pg_template")
    name = f"cordee_t_{uuid.uuid4().hex[:12]}"
    await _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    database = Database(_pg_url(name))
    try:
        yield database
    finally:
        await database.dispose()
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def app(settings: Settings, db: Database) -> Any:
    return build_app(settings, database=db)


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as c:
        yield c


@dataclass
class ApiUser:
    account_id: int
    user_id: int
    username: str
    email: str
    password: str
    token: str

    @property
    def id(self) -> str:
        return str(self.account_id)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


MakeUser = Callable[..., Awaitable[ApiUser]]


@pytest.fixture
def make_user(db: Database, settings: Settings) -> MakeUser:
    async def make(username: str, scopes: str = "read write follow push", **kw: Any) -> ApiUser:
        email = f"{username.lower()}@example.org"
        password = "correct horse battery"
        account_id, user_id = await create_local_account(
            db, settings, Registration(username, email, password), enforce_mode=False, **kw
        )
        app = await oauth_actions.create_application(db, "tests", ["urn:ietf:wg:oauth:2.0:oob"], scopes, None)
        token = await oauth_actions.issue_user_token(db, app, user_id, frozenset(scopes.split()))
        return ApiUser(account_id, user_id, username, email, password, token.access_token)

    return make


@pytest.fixture
async def alice(make_user: MakeUser) -> ApiUser:
    return await make_user("alice")


@pytest.fixture
async def bob(make_user: MakeUser) -> ApiUser:
    return await make_user("bob")


@pytest.fixture
async def carol(make_user: MakeUser) -> ApiUser:
    return await make_user("carol")


@pytest.fixture
def events(db: Database) -> Sequence[Event]:
    """Every event published on the bus during the test, in order."""
    seen: list[Event] = []

    async def record(batch: Sequence[Event]) -> None:
        seen.extend(batch)

    db.bus.subscribe(record)
    return seen


@pytest.fixture
def post(client: httpx.AsyncClient) -> Callable[..., Awaitable[dict[str, Any]]]:
    """Post a status as a user through the API and return the entity (asserting success)."""

    async def do(user: ApiUser, status: str, **fields: Any) -> dict[str, Any]:
        r = await client.post("/api/v1/statuses", json={"status": status, **fields}, headers=user.headers)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    return do
