"""Alembic, driven from code: ``cordee db upgrade`` and the server's first start call ``upgrade``.

Alembic (with Mako and Pygments, which it loads) costs a server process ~11.5 MiB that it would
keep for its whole life only to learn, on most starts, that there is nothing to do: a server whose
database already stands at ``HEAD`` starts without loading it (``upgrade``).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

#: The newest migration's revision, the one head of ``migrations/versions``
#: (``tests/test_migrations.py`` holds it to what alembic reads there).
HEAD = "0020"


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "heads") -> None:
    """Apply migrations up to ``revision``; nothing loaded nor run when the database is at
    ``HEAD``. Synchronous: call it outside a running event loop, or through ``upgrade_async``."""
    if not asyncio.run(_at_head(url, revision)):
        _alembic_upgrade(url, revision)


def _alembic_upgrade(url: str, revision: str) -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)


async def current_revision(url: str) -> str | None:
    """The revision the database stands at; None when it has none yet (or cannot say which)."""
    from cordee.db.engine import create_engine

    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(text("SELECT version_num FROM alembic_version"))).all()
    except SQLAlchemyError:  # no such table (a new database): alembic, which creates it, decides
        return None
    finally:
        await engine.dispose()
    return rows[0][0] if len(rows) == 1 else None


async def upgrade_async(url: str, revision: str = "heads") -> None:
    """``upgrade`` off the event loop."""
    if not await _at_head(url, revision):
        await asyncio.to_thread(_alembic_upgrade, url, revision)


async def _at_head(url: str, revision: str) -> bool:
    """Asked for the newest migrations, and the database already has them."""
    return revision == "heads" and await current_revision(url) == HEAD
