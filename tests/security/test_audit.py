"""The audit log as an administrator reads it: ``cordee audit [--user NAME] [--kind KIND] [--limit N]``.

The CLI's user commands record who did what (actor ``cli``); two-factor changes made on the web
pages show up with the browser's address; nothing secret is ever printed.
"""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from cordee.app import build_app
from cordee.cli import main
from cordee.config import Settings
from cordee.db.engine import Database
from tests.conftest import BASE_URL, ApiUser
from tests.security.test_two_factor import enrol

PASSWORD = "a good long password"
NEW_PASSWORD = "another good password"


@pytest.fixture
def cordee(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name in ("CORDEE_DATABASE_URL", "CORDEE_REGISTRATION_MODE", "CORDEE_BASE_URL", "CORDEE_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CORDEE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": NEW_PASSWORD)
    return CliRunner()


def run(cordee: CliRunner, *args: str) -> str:
    result = cordee.invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_cli_user_commands_are_audited(cordee: CliRunner) -> None:
    run(cordee, "user", "create", "ada", "--email", "ada@example.org", "--password", PASSWORD)
    run(cordee, "user", "create", "bea", "--email", "bea@example.org", "--password", PASSWORD)
    for command in ("approve", "disable", "enable", "promote", "demote", "set-password"):
        run(cordee, "user", command, "ada")
    run(cordee, "user", "promote", "bea")

    out = run(cordee, "audit", "--user", "ada", "--kind", "admin_action")
    lines = [line for line in out.splitlines() if "admin_action" in line]
    assert len(lines) == 6, out
    assert all("@ada" in line and " cli " in line for line in lines)
    assert '"admin":false' in lines[1] and '"admin":true' in lines[2]  # newest first
    assert "@bea" not in out
    assert NEW_PASSWORD not in run(cordee, "audit")

    two = run(cordee, "audit", "--limit", "2")
    events = [line for line in two.splitlines() if "@" in line]
    assert len(events) == 2 and "@bea" in events[0] and "@ada" in events[1]


def test_audit_refuses_unknown_names_and_kinds(cordee: CliRunner) -> None:
    run(cordee, "db", "upgrade")
    assert "No events" in run(cordee, "audit")
    unknown = cordee.invoke(main, ["audit", "--user", "nobody"])
    assert unknown.exit_code != 0 and "No local user named 'nobody'" in unknown.output
    bad_kind = cordee.invoke(main, ["audit", "--kind", "made_up"])
    assert bad_kind.exit_code != 0 and "two_factor_enabled" in bad_kind.output  # the choices are listed
    assert cordee.invoke(main, ["audit", "--limit", "0"]).exit_code != 0


@pytest.fixture
async def web_on_cli_data(tmp_path: Path, cordee: CliRunner) -> AsyncIterator[httpx.AsyncClient]:
    data = tmp_path / "data"
    # The CLI runs its own event loop: from inside this test's, it runs in a thread.
    await asyncio.to_thread(
        run, cordee, "user", "create", "ada", "--email", "ada@example.org", "--password", PASSWORD
    )
    db = Database(f"sqlite+aiosqlite:///{data / 'cordee.sqlite3'}")
    app = build_app(Settings(base_url=BASE_URL, data_dir=data, secret_key="test-secret"), database=db)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 4321))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as web:
        yield web
    await db.dispose()


async def test_two_factor_changes_show_in_the_audit(
    web_on_cli_data: httpx.AsyncClient, cordee: CliRunner
) -> None:
    ada = ApiUser(0, 0, "ada", "ada@example.org", PASSWORD, "")
    secret, codes = await enrol(web_on_cli_data, ada)
    out = await asyncio.to_thread(run, cordee, "audit", "--user", "ada")
    line = next(line for line in out.splitlines() if "two_factor_enabled" in line)
    assert "203.0.113.9" in line and "@ada" in line
    assert secret not in out and not any(code in out for code in codes)
