"""Finding 4: web sessions are server-side and revocable; a password change revokes the rest.

A copied cookie stops working at sign-out; ``cordee user set-password`` (``set_user_flags``) and the
self-service password page revoke every token and every other web session of the user; the
settings page lists sessions and signs them out one by one or all but the current one.
"""

from __future__ import annotations

import httpx
from sqlalchemy import select

from cordee.actions.accounts import set_user_flags
from cordee.db.engine import Database
from cordee.db.tables_security import AuditEvent, WebSession
from tests.conftest import BASE_URL, ApiUser
from tests.web.test_auth_pages import form_to, sign_in

NEW_PASSWORD = "another long passphrase"


def browser(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)  # type: ignore[arg-type]


async def signed_in_as(client: httpx.AsyncClient) -> str | None:
    page = await client.get("/", follow_redirects=True)  # "/" is the home timeline once signed in
    if "/auth/sign_out" not in page.text:
        return None
    return page.text


async def test_a_cookie_copied_before_sign_out_no_longer_signs_in(app: object, alice: ApiUser) -> None:
    async with browser(app) as victim, browser(app) as thief:
        await sign_in(victim, alice)
        thief.cookies.update(victim.cookies)
        assert await signed_in_as(thief)
        page = await victim.get("/", follow_redirects=True)
        r = await victim.post("/auth/sign_out", data=form_to(page.text, "/auth/sign_out").fields)
        assert r.status_code == 303
        assert await signed_in_as(victim) is None
        assert await signed_in_as(thief) is None


async def test_the_session_cookie_is_an_opaque_http_only_lax_key(app: object, alice: ApiUser) -> None:
    async with browser(app) as web:
        page = await web.get("/auth/sign_in")
        form = form_to(page.text, "/auth/sign_in")
        r = await web.post(
            "/auth/sign_in", data={**form.fields, "login": alice.email, "password": alice.password}
        )
        cookies = [v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith("cordee_sid=")]
        assert len(cookies) == 1
        assert "httponly" in cookies[0].lower() and "samesite=lax" in cookies[0].lower()


async def test_set_password_revokes_tokens_and_web_sessions(
    app: object, db: Database, alice: ApiUser, client: httpx.AsyncClient
) -> None:
    async with browser(app) as web:
        await sign_in(web, alice)
        assert (
            await client.get("/api/v1/accounts/verify_credentials", headers=alice.headers)
        ).status_code == 200
        await set_user_flags(
            db, alice.username, password=NEW_PASSWORD
        )  # what `cordee user set-password` calls
        assert (
            await client.get("/api/v1/accounts/verify_credentials", headers=alice.headers)
        ).status_code == 401
        assert await signed_in_as(web) is None
    async with db.read() as session:
        kinds = list(
            await session.scalars(select(AuditEvent.kind).where(AuditEvent.user_id == alice.user_id))
        )
    assert "password_reset" in kinds or "password_changed" in kinds


async def test_password_change_page_asks_for_the_current_password_and_keeps_this_session(
    app: object, db: Database, alice: ApiUser, client: httpx.AsyncClient
) -> None:
    async with browser(app) as here, browser(app) as elsewhere:
        await sign_in(here, alice)
        await sign_in(elsewhere, alice)
        page = await here.get("/settings/password")
        assert page.status_code == 200
        fields = form_to(page.text, "/settings/password").fields
        wrong = await here.post(
            "/settings/password",
            data={**fields, "current_password": "not it", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        )
        assert wrong.status_code == 422
        assert (
            await client.get("/api/v1/accounts/verify_credentials", headers=alice.headers)
        ).status_code == 200
        r = await here.post(
            "/settings/password",
            data={
                **fields,
                "current_password": alice.password,
                "password": NEW_PASSWORD,
                "confirm": NEW_PASSWORD,
            },
        )
        assert r.status_code == 303, r.text
        assert await signed_in_as(here)
        assert await signed_in_as(elsewhere) is None
        assert (
            await client.get("/api/v1/accounts/verify_credentials", headers=alice.headers)
        ).status_code == 401
    async with db.read() as session:
        kinds = list(
            await session.scalars(select(AuditEvent.kind).where(AuditEvent.user_id == alice.user_id))
        )
    assert "password_changed" in kinds and "sign_in" in kinds


async def test_sessions_page_lists_and_signs_out_other_sessions(
    app: object, db: Database, alice: ApiUser
) -> None:
    async with browser(app) as here, browser(app) as phone, browser(app) as laptop:
        await sign_in(here, alice)
        phone.headers["user-agent"] = "PhoneBrowser/1.0"
        await sign_in(phone, alice)
        laptop.headers["user-agent"] = "LaptopBrowser/2.0"
        await sign_in(laptop, alice)
        page = await here.get("/settings/sessions")
        assert page.status_code == 200
        assert "PhoneBrowser/1.0" in page.text and "LaptopBrowser/2.0" in page.text
        async with db.read() as session:
            phone_id = await session.scalar(
                select(WebSession.id).where(WebSession.user_agent == "PhoneBrowser/1.0")
            )
        r = await here.post(
            f"/settings/sessions/{phone_id}/revoke",
            data=form_to(page.text, f"/settings/sessions/{phone_id}/revoke").fields,
        )
        assert r.status_code == 303
        assert await signed_in_as(phone) is None
        assert await signed_in_as(laptop)
        page = await here.get("/settings/sessions")
        r = await here.post(
            "/settings/sessions/revoke_others",
            data=form_to(page.text, "/settings/sessions/revoke_others").fields,
        )
        assert r.status_code == 303
        assert await signed_in_as(laptop) is None
        assert await signed_in_as(here)


async def test_another_users_session_cannot_be_revoked(
    app: object, db: Database, alice: ApiUser, bob: ApiUser
) -> None:
    async with browser(app) as a, browser(app) as b:
        await sign_in(a, alice)
        await sign_in(b, bob)
        async with db.read() as session:
            bob_session = await session.scalar(select(WebSession.id).where(WebSession.user_id == bob.user_id))
        page = await a.get("/settings/sessions")
        fields = form_to(page.text, "/settings/sessions/revoke_others").fields
        r = await a.post(f"/settings/sessions/{bob_session}/revoke", data=fields)
        assert r.status_code == 404
        assert await signed_in_as(b)


async def test_last_seen_is_not_written_on_every_request(app: object, db: Database, alice: ApiUser) -> None:
    async with browser(app) as web:
        await sign_in(web, alice)
        async with db.read() as session:
            before = await session.scalar(select(WebSession.last_seen_at))
        for _ in range(3):
            await web.get("/")
        async with db.read() as session:
            assert await session.scalar(select(WebSession.last_seen_at)) == before
