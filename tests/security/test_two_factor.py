"""Two-factor sign-in (TOTP, RFC 6238) through the web pages, as a person uses them.

Enrolment shows a QR code and the secret; enabling needs a current code and shows ten single-use
recovery codes once. Signing in (on its own or inside ``/oauth/authorize``) then asks for a code
after the password; until it is given nobody is signed in. A code is accepted once: only for a
time step after the last accepted one. Wrong codes are audited and bounded. The password grant
refuses accounts with two-factor authentication (as Mastodon does), with a readable reason.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pyotp
import pytest
from sqlalchemy import select

from cordee.db.engine import Database
from cordee.db.tables_security import AuditEvent, RecoveryCode, TwoFactor
from cordee.web import two_factor as web_two_factor
from tests.conftest import BASE_URL, ApiUser
from tests.web.test_auth_pages import CALLBACK, form_to, read, register

SETTINGS = "/settings/two_factor"
STEP = 30
CODES_RE = re.compile(r'<li class="recovery-code"><code>([a-z0-9-]+)</code></li>')


def browser(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)  # type: ignore[arg-type]


def code_at(secret: str, steps_ahead: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + steps_ahead * STEP)


async def clear_of_a_step_change(margin: float = 10.0) -> None:
    """Wait for the next 30-second step if the current one ends within ``margin`` seconds: a test
    that says "the code of now" must not see now move to the next step half-way (it failed so in
    CI once: the enabling code's step ended before the replay was tried)."""
    left = STEP - time.time() % STEP
    if left < margin:
        await asyncio.sleep(left + 0.2)


async def signed_in(web: httpx.AsyncClient) -> bool:
    return "/auth/sign_out" in (await web.get("/", follow_redirects=True)).text


async def password_step(web: httpx.AsyncClient, user: ApiUser, next_url: str = "/") -> httpx.Response:
    page = await web.get("/auth/sign_in", params={"next": next_url})
    form = form_to(page.text, "/auth/sign_in")
    return await web.post(
        "/auth/sign_in", data={**form.fields, "login": user.email, "password": user.password}
    )


async def code_step(web: httpx.AsyncClient, code: str) -> httpx.Response:
    page = await web.get("/auth/two_factor")
    assert page.status_code == 200, page.text
    form = form_to(page.text, "/auth/two_factor")
    return await web.post("/auth/two_factor", data={**form.fields, "code": code})


async def sign_out(web: httpx.AsyncClient) -> None:
    page = await web.get("/", follow_redirects=True)
    r = await web.post("/auth/sign_out", data=form_to(page.text, "/auth/sign_out").fields)
    assert r.status_code == 303


async def enrol(web: httpx.AsyncClient, user: ApiUser) -> tuple[str, list[str]]:
    """Sign in, set up two-factor authentication; return the secret and the recovery codes."""
    r = await password_step(web, user)
    assert r.status_code == 303 and r.headers["location"] == "/"
    page = await web.get(SETTINGS)
    assert page.status_code == 200
    r = await web.post(f"{SETTINGS}/setup", data=form_to(page.text, f"{SETTINGS}/setup").fields)
    assert r.status_code == 303
    page = await web.get(SETTINGS)
    assert "<svg" in page.text and "<script" not in page.text  # the QR code, drawn inline
    secret = read(page.text).by_id["two-factor-secret"].replace(" ", "")
    enable = form_to(page.text, f"{SETTINGS}/enable")
    wrong = await web.post(f"{SETTINGS}/enable", data={**enable.fields, "code": "000000"})
    assert wrong.status_code == 422 and 'role="alert"' in wrong.text
    done = await web.post(f"{SETTINGS}/enable", data={**enable.fields, "code": code_at(secret)})
    assert done.status_code == 200, done.text
    codes = CODES_RE.findall(done.text)
    assert len(codes) == 10 and len(set(codes)) == 10
    return secret, codes


async def audit_kinds(db: Database, user_id: int) -> list[str]:
    async with db.read() as session:
        rows = await session.scalars(select(AuditEvent.kind).where(AuditEvent.user_id == user_id))
        return list(rows)


async def test_enrol_then_sign_in_asks_for_the_code(app: object, db: Database, alice: ApiUser) -> None:
    async with browser(app) as web:
        secret, _ = await enrol(web, alice)
        page = await web.get(SETTINGS)
        assert f"{SETTINGS}/disable" in page.text and "two-factor-secret" not in page.text
        await sign_out(web)

        r = await password_step(web, alice, "/settings/two_factor")
        assert r.status_code == 303 and r.headers["location"] == "/auth/two_factor"
        # The password alone signs nobody in: no session, no settings, no consent page.
        assert not await signed_in(web)
        assert (await web.get(SETTINGS)).status_code == 303
        wrong = await code_step(web, "123456" if code_at(secret, 1) != "123456" else "654321")
        assert wrong.status_code == 422 and 'role="alert"' in wrong.text
        assert not await signed_in(web)
        r = await code_step(web, code_at(secret, 1))
        assert r.status_code == 303 and r.headers["location"] == "/settings/two_factor"
        assert await signed_in(web)
    kinds = await audit_kinds(db, alice.user_id)
    assert "two_factor_enabled" in kinds and "two_factor_failed" in kinds


async def test_a_code_is_accepted_once(app: object, db: Database, alice: ApiUser) -> None:
    await clear_of_a_step_change()
    async with browser(app) as web:
        secret, _ = await enrol(web, alice)
        # The code that enabled it cannot sign in, nor can any earlier one.
        await sign_out(web)
        await password_step(web, alice)
        assert (await code_step(web, code_at(secret))).status_code == 422
        assert (await code_step(web, code_at(secret, -1))).status_code == 422
        assert (await code_step(web, code_at(secret, 1))).status_code == 303
        await sign_out(web)
        await password_step(web, alice)
        assert (await code_step(web, code_at(secret, 1))).status_code == 422  # replayed
        assert not await signed_in(web)
    async with db.read() as session:
        last = await session.scalar(select(TwoFactor.last_step).where(TwoFactor.user_id == alice.user_id))
    assert last is not None and last >= int(time.time()) // STEP


async def test_one_code_sent_at_once_by_several_browsers_signs_in_once(app: object, alice: ApiUser) -> None:
    browsers = [browser(app) for _ in range(6)]
    secret, _ = await enrol(browsers[0], alice)
    await sign_out(browsers[0])
    forms = []
    for each in browsers:
        await password_step(each, alice)
        forms.append(form_to((await each.get("/auth/two_factor")).text, "/auth/two_factor"))
    code = code_at(secret, 1)
    answers = await asyncio.gather(
        *(
            each.post("/auth/two_factor", data={**f.fields, "code": code})
            for each, f in zip(browsers, forms, strict=True)
        )
    )
    for each in browsers:
        await each.aclose()
    assert sorted(r.status_code for r in answers) == [303] + [422] * 5


async def test_recovery_codes_are_single_use_and_can_be_regenerated(
    app: object, db: Database, alice: ApiUser
) -> None:
    async with browser(app) as web:
        secret, codes = await enrol(web, alice)
        async with db.read() as session:
            stored = list(await session.scalars(select(RecoveryCode.code_hash)))
        assert len(stored) == 10 and not set(codes) & set(stored)  # kept hashed
        await sign_out(web)
        await password_step(web, alice)
        assert (await code_step(web, codes[0].upper())).status_code == 303
        await sign_out(web)
        await password_step(web, alice)
        assert (await code_step(web, codes[0])).status_code == 422
        assert (await code_step(web, codes[1])).status_code == 303

        page = await web.get(SETTINGS)
        regen = form_to(page.text, f"{SETTINGS}/recovery_codes")
        refused = await web.post(f"{SETTINGS}/recovery_codes", data={**regen.fields, "confirmation": "nope"})
        assert refused.status_code == 422
        r = await web.post(
            f"{SETTINGS}/recovery_codes", data={**regen.fields, "confirmation": alice.password}
        )
        assert r.status_code == 200
        fresh = CODES_RE.findall(r.text)
        assert len(fresh) == 10 and not set(fresh) & set(codes)
        await sign_out(web)
        await password_step(web, alice)
        assert (await code_step(web, codes[2])).status_code == 422  # the old set is gone
        assert (await code_step(web, fresh[0])).status_code == 303
    kinds = await audit_kinds(db, alice.user_id)
    assert kinds.count("recovery_code_used") == 3 and "recovery_codes_regenerated" in kinds


async def test_wrong_codes_are_bounded(app: object, db: Database, alice: ApiUser) -> None:
    async with browser(app) as web:
        secret, _ = await enrol(web, alice)
        await sign_out(web)
        await password_step(web, alice)
        for _ in range(web_two_factor.MAX_ATTEMPTS):
            assert (
                await code_step(web, "999999" if code_at(secret, 1) != "999999" else "999998")
            ).status_code == 422
        # Past the bound the pending sign-in is over: even the right code must wait and start again.
        page = await web.get("/auth/two_factor")
        assert page.status_code == 303 and page.headers["location"].startswith("/auth/sign_in")
        await password_step(web, alice)
        assert (await code_step(web, code_at(secret, 1))).status_code == 429
        assert not await signed_in(web)
    assert (await audit_kinds(db, alice.user_id)).count("two_factor_failed") == web_two_factor.MAX_ATTEMPTS


async def test_the_pending_sign_in_expires(
    app: object, alice: ApiUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with browser(app) as web:
        secret, _ = await enrol(web, alice)
        await sign_out(web)
        monkeypatch.setattr(web_two_factor, "PENDING_SECONDS", -1)
        await password_step(web, alice)
        page = await web.get("/auth/two_factor")
        assert page.status_code == 303 and page.headers["location"].startswith("/auth/sign_in")
        form = form_to((await web.get("/auth/sign_in")).text, "/auth/sign_in")
        r = await web.post("/auth/two_factor", data={**form.fields, "code": code_at(secret, 1)})
        assert r.status_code == 303 and r.headers["location"].startswith("/auth/sign_in")
        assert not await signed_in(web)


async def test_the_pending_sign_in_is_bound_to_the_browser(app: object, alice: ApiUser) -> None:
    async with browser(app) as web, browser(app) as other:
        secret, _ = await enrol(web, alice)
        await sign_out(web)
        await password_step(web, alice)
        page = await other.get("/auth/sign_in")
        fields = form_to(page.text, "/auth/sign_in").fields
        r = await other.post("/auth/two_factor", data={**fields, "code": code_at(secret, 1)})
        assert r.status_code == 303 and r.headers["location"].startswith("/auth/sign_in")
        assert not await signed_in(other)


async def test_oauth_authorize_asks_for_the_code(app: object, alice: ApiUser) -> None:
    async with browser(app) as web:
        secret, _ = await enrol(web, alice)
        await sign_out(web)
        oauth_app = await register(web)
        params = {"response_type": "code", "client_id": oauth_app["client_id"], "redirect_uri": CALLBACK}
        page = await web.get("/oauth/authorize", params=params)
        form = form_to(page.text, "/auth/sign_in")
        r = await web.post(
            "/auth/sign_in", data={**form.fields, "login": alice.email, "password": alice.password}
        )
        assert r.headers["location"] == "/auth/two_factor"
        # Without the code, the consent page still asks to sign in.
        assert 'name="login"' in (await web.get(form.fields["next"])).text
        r = await code_step(web, code_at(secret, 1))
        assert r.status_code == 303 and r.headers["location"] == form.fields["next"]
        consent = await web.get(r.headers["location"])
        r = await web.post(
            "/oauth/authorize",
            data={**form_to(consent.text, "/oauth/authorize").fields, "decision": "authorize"},
        )
        assert r.status_code == 302 and "code" in parse_qs(urlsplit(r.headers["location"]).query)


async def test_password_grant_is_refused_with_two_factor(
    app: object, client: httpx.AsyncClient, alice: ApiUser
) -> None:
    oauth_app = await register(client)
    grant: dict[str, Any] = {
        "grant_type": "password",
        "username": alice.email,
        "password": alice.password,
        "client_id": oauth_app["client_id"],
        "client_secret": oauth_app["client_secret"],
        "scope": "read",
    }
    assert (await client.post("/oauth/token", data=grant)).status_code == 200
    async with browser(app) as web:
        await enrol(web, alice)
    r = await client.post("/oauth/token", data=grant)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_grant"
    assert "two-factor" in r.json()["error_description"].lower()
    # A wrong password still gets the usual answer: the refusal does not tell 2FA apart to a guesser.
    wrong = await client.post("/oauth/token", data={**grant, "password": "not the password"})
    assert "two-factor" not in wrong.text.lower()


async def test_disable_needs_the_password_or_a_code(app: object, db: Database, alice: ApiUser) -> None:
    async with browser(app) as web:
        secret, codes = await enrol(web, alice)
        page = await web.get(SETTINGS)
        form = form_to(page.text, f"{SETTINGS}/disable")
        refused = await web.post(
            f"{SETTINGS}/disable", data={**form.fields, "confirmation": "wrong password"}
        )
        assert refused.status_code == 422
        r = await web.post(f"{SETTINGS}/disable", data={**form.fields, "confirmation": code_at(secret, 1)})
        assert r.status_code == 303
        async with db.read() as session:
            assert await session.scalar(select(TwoFactor).where(TwoFactor.user_id == alice.user_id)) is None
            assert list(await session.scalars(select(RecoveryCode))) == []
        await sign_out(web)
        r = await password_step(web, alice)
        assert r.headers["location"] == "/" and await signed_in(web)
    assert "two_factor_disabled" in await audit_kinds(db, alice.user_id)


async def test_settings_need_a_signed_in_user_and_the_csrf_token(app: object, alice: ApiUser) -> None:
    async with browser(app) as web:
        r = await web.get(SETTINGS)
        assert r.status_code == 303 and r.headers["location"].startswith("/auth/sign_in")
        await password_step(web, alice)
        r = await web.post(f"{SETTINGS}/setup", data={})
        assert r.status_code == 400
        r = await web.post("/auth/two_factor", data={"code": "123456"})
        assert r.status_code == 400
