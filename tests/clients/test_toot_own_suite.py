"""toot's own integration suite, unchanged, against a real ``cordee serve``.

The suite ships in toot's source distribution (``tests/integration``, for a Mastodon development
server). It is taken from PyPI at the very version installed here, so the client and its tests
always agree, and run in a process of its own with ``TOOT_TEST_BASE_URL`` pointing at Cordée. Two
of its tests log in at ``http://localhost:3000`` whatever that variable says (the address of a
Mastodon development server), so the server listens there. Per-address rate limits are off, as on
a development server: the suite signs up a new account for nearly every test.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.support.running import launch

pytestmark = pytest.mark.clients

TOOT_PORT = 3000


def _toot_sources(tmp: Path) -> Path:
    """toot's source distribution for the installed version, unpacked."""
    wanted = version("toot")
    fetched = subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:"]
        + ["--dest", str(tmp), f"toot=={wanted}"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    if fetched.returncode != 0:
        pytest.fail(f"could not fetch toot {wanted}'s sources from PyPI:\n{fetched.stderr}", pytrace=False)
    with tarfile.open(tmp / f"toot-{wanted}.tar.gz") as archive:
        archive.extractall(tmp, filter="data")
    return tmp / f"toot-{wanted}"


def test_toots_integration_suite_passes_in_full(tmp_path: Path) -> None:
    sources = _toot_sources(tmp_path / "toot")
    assert (sources / "tests" / "integration" / "conftest.py").exists()
    try:
        running = launch(tmp_path, port=TOOT_PORT, host_name="localhost", CORDEE_RATE_LIMITS="off")
    except RuntimeError as e:
        pytest.fail(f"port {TOOT_PORT} is needed by toot's suite: {e}", pytrace=False)
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CORDEE_", "PYTEST_"))}
        env["TOOT_TEST_BASE_URL"] = running.base_url
        suite = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"]
            + ["-o", "addopts=", "-W", "ignore::DeprecationWarning", "tests/integration"],
            cwd=sources,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    finally:
        running.stop()
    summary = suite.stdout.strip().splitlines()[-1] if suite.stdout.strip() else ""
    assert suite.returncode == 0, f"{summary}\n{suite.stdout[-6000:]}\n{suite.stderr[-2000:]}"
    passed = re.search(r"(\d+) passed", summary)
    # toot 0.52.1 has 114 integration tests: none skipped, none deselected.
    assert passed and int(passed.group(1)) >= 100 and "skipped" not in summary, summary
