"""Browser tests: Debian's Chromium driven by Playwright against a running ``cordee serve``."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.clients.conftest import server, unique  # noqa: F401  (shared running-server fixtures)

CHROMIUM = "/usr/bin/chromium"
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def docs_screenshots(fallback: Path) -> Path:
    """Where the screenshots kept in docs/ are written: docs/screenshots when the run asks for it
    (``CORDEE_SCREENSHOTS=docs``, to refresh them), else ``fallback`` (a test's tmp dir), so that
    an ordinary test run never rewrites tracked files."""
    folder = DOCS_SCREENSHOTS if os.environ.get("CORDEE_SCREENSHOTS") == "docs" else fallback
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def browser() -> Iterator[Browser]:
    # Function-scoped on purpose: Playwright's sync API keeps an event loop running on this thread
    # while it is open, which would break later tests of the same worker that call asyncio.run().
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.fail("Debian's chromium is required for browser tests: apt-get install chromium")
    with sync_playwright() as p:
        instance = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="en-GB")
    tab = context.new_page()
    yield tab
    context.close()
