"""Live columns in a real Chromium: a tracked search's column receives a matching note posted after
the page opened, without a reload; no CSP violation, no serious accessibility violation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.clients.conftest import Server
from tests.support.axe import serious_violations
from tests.support.running import register

pytestmark = pytest.mark.clients
PASSWORD = "a long password"  # what tests.support.running.register gives


def test_a_column_receives_a_matching_note_live(
    page: Page, server: Server, unique: Callable[[str], str]
) -> None:
    reader, author = unique("watcher"), unique("climber")
    reader_headers = register(server.base_url, reader)
    author_headers = register(server.base_url, author)
    created = httpx.post(
        server.base_url + "/api/v1/cordee/tracked_searches",
        headers=reader_headers,
        json={"name": "Cairns", "query": "cairn OR #balisage"},
    )
    assert created.status_code == 200, created.text
    problems: list[str] = []

    def console(message: Any) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            problems.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.goto(server.base_url + "/auth/sign_in?next=/columns")
    page.locator("input[name=login]").fill(reader)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form[action='/auth/sign_in'] button[type=submit]").click()
    page.wait_for_url("**/columns")
    column = page.get_by_role("region", name="Cairns")
    expect(column).to_be_visible()
    expect(column.get_by_text("No matching notes yet.")).to_be_visible()
    page.wait_for_timeout(300)  # the stream connects

    def post(text: str) -> None:
        r = httpx.post(server.base_url + "/api/v1/statuses", headers=author_headers, data={"status": text})
        assert r.status_code == 200, r.text

    post("Rien à voir ici")
    post("Un beau cairn au col du Galibier")
    expect(column.locator("article.note", has_text="beau cairn")).to_be_visible(timeout=5000)
    expect(column.locator("article.note")).to_have_count(1)
    expect(column.get_by_text("No matching notes yet.")).to_have_count(0)
    assert serious_violations(page) == []
    assert problems == []
