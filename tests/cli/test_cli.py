"""The ``cordee`` command, as an administrator uses it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from cordee.cli import main


@pytest.fixture
def cordee(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name in ("CORDEE_DATABASE_URL", "CORDEE_REGISTRATION_MODE", "CORDEE_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CORDEE_DATA_DIR", str(tmp_path / "data"))
    return CliRunner()


def test_help_reads_well(cordee: CliRunner) -> None:
    result = cordee.invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "db", "user", "invite"):
        assert command in result.output
    assert "CORDEE_BASE_URL" in result.output


def test_user_lifecycle(cordee: CliRunner, tmp_path: Path) -> None:
    assert cordee.invoke(main, ["db", "upgrade"]).exit_code == 0
    assert (tmp_path / "data" / "cordee.sqlite3").exists()
    created = cordee.invoke(
        main,
        ["user", "create", "Ada", "--email", "ada@example.org", "--password", "a good password", "--admin"],
    )
    assert created.exit_code == 0, created.output
    assert "Created @Ada (admin)" in created.output
    listed = cordee.invoke(main, ["user", "list"])
    assert "Ada" in listed.output and "ada@example.org" in listed.output and "admin" in listed.output
    assert cordee.invoke(main, ["user", "disable", "ada"]).exit_code == 0
    assert "disabled" in cordee.invoke(main, ["user", "list"]).output


def test_bad_input_gets_a_readable_error(cordee: CliRunner) -> None:
    cordee.invoke(
        main, ["user", "create", "ada", "--email", "ada@example.org", "--password", "a good password"]
    )
    again = cordee.invoke(
        main, ["user", "create", "ADA", "--email", "other@example.org", "--password", "a good password"]
    )
    assert again.exit_code != 0 and "username has already been taken" in again.output
    short = cordee.invoke(
        main, ["user", "create", "bob", "--email", "bob@example.org", "--password", "short"]
    )
    assert short.exit_code != 0 and "password is too short" in short.output
    missing = cordee.invoke(main, ["user", "approve", "nobody"])
    assert missing.exit_code != 0 and "No local user named 'nobody'" in missing.output
    assert "Traceback" not in again.output + short.output + missing.output


def test_bad_configuration_is_explained(cordee: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORDEE_REGISTRATION_MODE", "sometimes")
    result = cordee.invoke(main, ["user", "list"])
    assert result.exit_code != 0 and "CORDEE_REGISTRATION_MODE must be one of" in result.output


def test_invites(cordee: CliRunner) -> None:
    result = cordee.invoke(main, ["invite", "create", "--max-uses", "3"])
    assert result.exit_code == 0 and len(result.output.strip()) >= 12
    assert cordee.invoke(main, ["invite", "create", "--max-uses", "0"]).exit_code != 0


def test_optimize_search_merges_the_index(cordee: CliRunner, tmp_path: Path) -> None:
    for name in ("ada", "bob"):  # two writes: two segments of the accounts' text index
        created = cordee.invoke(
            main, ["user", "create", name, "--email", f"{name}@example.org", "--password", "a good password"]
        )
        assert created.exit_code == 0, created.output
    segments = "SELECT count(DISTINCT segid) FROM account_fts_idx"
    with sqlite3.connect(tmp_path / "data" / "cordee.sqlite3") as conn:
        assert conn.execute(segments).fetchone() == (2,)
    result = cordee.invoke(main, ["db", "optimize-search"])
    assert result.exit_code == 0, result.output
    assert "merged" in result.output
    with sqlite3.connect(tmp_path / "data" / "cordee.sqlite3") as conn:
        assert conn.execute(segments).fetchone() == (1,)
        found = conn.execute("SELECT rowid FROM account_fts WHERE account_fts MATCH 'ada OR bob'").fetchall()
        assert len(found) == 2
