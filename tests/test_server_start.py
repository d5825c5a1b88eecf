"""What a server does before it answers its first request."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cordee.db.migrate import upgrade

_PROBE = """
import asyncio, sys
from cordee.app import build_app
from cordee.config import load_settings
from cordee.jobs.runner import TASK_MODULES

async def main():
    app = build_app(load_settings({"CORDEE_DATA_DIR": sys.argv[1], "CORDEE_BASE_URL": "http://127.0.0.1:9"}))
    async with app.router.lifespan_context(app):
        # Served from here on: nothing the periodic tasks import may be left for their first tick.
        print(sorted(set(TASK_MODULES) - set(sys.modules)))

asyncio.run(main())
"""


def test_the_periodic_tasks_modules_are_imported_before_serving(tmp_path: Path) -> None:
    """Importing them on the job runner's first tick held the event loop ~150–200 ms (aiohttp, for
    Web Push, loads the system's CA certificates) while the first requests waited: the first
    benchmark phase's p99 was 50–80 ms against 4 ms later."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


_KEPT = """
import asyncio, sys
from cordee.app import build_app
from cordee.config import load_settings
from cordee.jobs.runner import run_due

async def main():
    settings = load_settings({"CORDEE_DATA_DIR": sys.argv[1], "CORDEE_BASE_URL": "http://127.0.0.1:9"})
    app = build_app(settings)
    async with app.router.lifespan_context(app):
        await run_due(app.state.db, settings)  # a tick of every periodic task, nothing due
        print(sorted(m for m in ("alembic", "mako", "aiohttp", "pywebpush", "py_vapid") if m in sys.modules))

asyncio.run(main())
"""


def test_a_server_on_a_current_database_keeps_no_migration_nor_push_library(tmp_path: Path) -> None:
    """Memory a process keeps for its whole life (the speed issue's < 150 MB idle): alembic
    (~11.5 MiB) is loaded only when there is something to migrate, the Web Push libraries (~20
    MiB) when a first message is due (``tests/api/test_push.py`` sends them)."""
    upgrade(f"sqlite+aiosqlite:///{tmp_path / 'cordee.sqlite3'}")
    done = subprocess.run(
        [sys.executable, "-c", _KEPT, str(tmp_path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
