"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from cordee.db.engine import create_engine
from cordee.db.migrate import HEAD, alembic_config, current_revision, upgrade, upgrade_async
from cordee.db.tables import Base
from cordee.db.tables_search import include_name
from tests.conftest import BACKENDS, _pg_url


def _differences(url: str) -> list[Any]:
    async def run() -> list[Any]:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:

                def compare(sync: Connection) -> list[Any]:
                    return list(
                        compare_metadata(
                            MigrationContext.configure(sync, opts={"include_name": include_name}),
                            Base.metadata,
                        )
                    )

                return await conn.run_sync(compare)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_one_head_and_the_server_knows_it() -> None:
    """``HEAD`` is how a server starting on a current database knows it need not load alembic."""
    assert ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads() == [HEAD]


def test_a_database_at_head_is_started_without_alembic(tmp_path: Path) -> None:
    """What a server process keeps loaded, measured: alembic with Mako and Pygments is ~11.5 MiB,
    only needed when there is something to migrate."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}"
    upgrade(url)
    probe = (
        "import asyncio, sys\n"
        "from cordee.db.migrate import upgrade, upgrade_async\n"
        "upgrade(sys.argv[1])\n"
        "asyncio.run(upgrade_async(sys.argv[1]))\n"
        "print(sorted(m for m in ('alembic', 'mako', 'pygments') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe, url], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stdout + done.stderr
    # A database one migration behind is brought to the head by the same call.
    command.downgrade(alembic_config(url), "0019")
    assert asyncio.run(current_revision(url)) == "0019"
    asyncio.run(upgrade_async(url))
    assert asyncio.run(current_revision(url)) == HEAD


def test_sqlite_schema_matches_models(template_db: Path) -> None:
    assert _differences(f"sqlite+aiosqlite:///{template_db}") == []


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="PostgreSQL tests are turned off")
def test_postgresql_schema_matches_models(pg_template: str) -> None:
    assert _differences(_pg_url(pg_template)) == []
