"""A person turns on two-factor authentication in a real browser, then signs in with a code.

No camera: the key shown under the QR code is read from the page and the code computed with pyotp,
as an authenticator app would. The page runs under the strict Content-Security-Policy.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.clients.conftest import Server

pytestmark = pytest.mark.clients


def test_enrol_then_sign_in_with_a_code(
    page: Page, server: Server, unique: Callable[[str], str], tmp_path: Path
) -> None:
    name = unique("guarded")
    password = "a long enough password"
    created = server.cordee("user", "create", name, "--email", f"{name}@asso.example", "--password", password)
    assert created.returncode == 0, created.stderr
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)

    page.goto(server.base_url + "/auth/sign_in")
    page.get_by_label("E-mail address or username").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Settings").click()  # signed in, the home timeline has the nav
    page.get_by_role("link", name="Two-factor authentication").click()
    page.get_by_role("button", name="Set up two-factor authentication").click()
    expect(page.get_by_role("img", name="QR code to scan")).to_be_visible()
    page.screenshot(path=str(tmp_path / "enrol.png"))
    secret = page.locator("#two-factor-secret").inner_text().replace(" ", "")
    totp = pyotp.TOTP(secret)
    page.get_by_label("Code", exact=True).fill(totp.now())
    page.get_by_role("button", name="Turn on").click()
    expect(page.locator(".recovery-code")).to_have_count(10)

    page.get_by_role("button", name="Sign out").first.click()
    page.goto(server.base_url + "/auth/sign_in")
    page.get_by_label("E-mail address or username").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Two-factor authentication")).to_be_visible()
    page.get_by_label("Code", exact=True).fill(totp.at(time.time() + 30))  # the enrolment's code is spent
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text(f"@{name}").first).to_be_visible()
    assert violations == []
