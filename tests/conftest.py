"""Fixtures: a fresh migrated database per test, the app, an HTTP client, and users with tokens.

The schema is migrated once per test session into a template SQLite file (through Alembic, so the
migrations themselves are tested) and copied for each test: fast and fully isolated.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(base_url=BASE_URL, data_dir=tmp_path / "data", secret_key="test-secret")


@pytest.fixture
async def db(template_db: Path, tmp_path: Path) -> AsyncIterator[Database]:
    path = tmp_path / "cordee.sqlite3"
    shutil.copy(template_db, path)
    database = Database(f"sqlite+aiosqlite:///{path}")
    yield database
    await database.dispose()


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
