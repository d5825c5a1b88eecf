"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from cordee.db.engine import create_engine
from cordee.db.migrate import alembic_config
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


def test_one_head() -> None:
    assert len(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()) == 1


def test_sqlite_schema_matches_models(template_db: Path) -> None:
    assert _differences(f"sqlite+aiosqlite:///{template_db}") == []


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="PostgreSQL tests are turned off")
def test_postgresql_schema_matches_models(pg_template: str) -> None:
    assert _differences(_pg_url(pg_template)) == []
