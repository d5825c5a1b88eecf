"""``cordee report list``: the reports users filed, newest first, for moderation."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner

from cordee.actions.reports import NewReport, file_report
from cordee.cli import main
from cordee.config import load_settings
from cordee.db.engine import Database
from cordee.queries.accounts import account_by_acct


@pytest.fixture
def cordee(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name in ("CORDEE_DATABASE_URL", "CORDEE_REGISTRATION_MODE", "CORDEE_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CORDEE_DATA_DIR", str(tmp_path / "data"))
    return CliRunner()


def _report(reporter: str, target: str, comment: str) -> None:
    settings = load_settings()

    async def run() -> None:
        db = Database(settings.effective_database_url)
        try:
            async with db.read() as session:
                by = await account_by_acct(session, settings, reporter)
                about = await account_by_acct(session, settings, target)
            assert by is not None and about is not None
            await file_report(db, by.id, NewReport(account_id=about.id, comment=comment, category="spam"))
        finally:
            await db.dispose()

    asyncio.run(run())


def test_report_list(cordee: CliRunner) -> None:
    assert "No reports." in cordee.invoke(main, ["report", "list"]).output
    for name in ("ada", "bo"):
        done = cordee.invoke(
            main, ["user", "create", name, "--email", f"{name}@example.org", "--password", "a good password"]
        )
        assert done.exit_code == 0, done.output
    _report("ada", "bo", "Selling things")
    _report("bo", "ada", "")
    lines = cordee.invoke(main, ["report", "list"]).output.splitlines()
    assert "@bo reported @ada (spam, 0 statuses)" in lines[0]
    assert "@ada reported @bo (spam, 0 statuses): Selling things" in lines[1]
    assert len(cordee.invoke(main, ["report", "list", "--limit", "1"]).output.splitlines()) == 1
