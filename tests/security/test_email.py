"""E-mail: address confirmation at sign-up and password reset by a mailed link (file sender).

Reset links are single use and short-lived, answer the same for known and unknown addresses, and
revoke every token and session; while confirmation is required, an unconfirmed user's token is
refused with Mastodon's 403 until the link is followed, except to ask for the link again.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from email import message_from_bytes
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select, update

from cordee.app import build_app
from cordee.config import Settings, load_settings
from cordee.db.engine import Database
from cordee.db.tables_security import AuditEvent, EmailToken
from cordee.db.types import utcnow
from cordee.mail import wait_sent
from tests.conftest import BASE_URL, ApiUser
from tests.web.test_auth_pages import form_to, sign_in

NEW_PASSWORD = "a fresh passphrase"


def mails(settings: Settings) -> list[tuple[str, str]]:
    folder = settings.data_dir / "mail"
    found = []
    for path in sorted(folder.glob("*.eml")) if folder.exists() else []:
        msg = message_from_bytes(path.read_bytes())
        body = msg.get_payload(decode=True)
        assert isinstance(body, bytes)
        found.append((str(msg["To"]), body.decode()))
    return found


def link_in(body: str) -> str:
    found = re.search(r"https?://\S+", body)
    assert found
    return found.group(0).replace(BASE_URL, "")


async def ask_reset(client: httpx.AsyncClient, email: str) -> httpx.Response:
    page = await client.get("/auth/password/new")
    r = await client.post(
        "/auth/password", data={**form_to(page.text, "/auth/password").fields, "email": email}
    )
    await wait_sent()
    return r


async def test_password_reset_by_mail(
    app: Any, client: httpx.AsyncClient, settings: Settings, db: Database, alice: ApiUser
) -> None:
    known = await ask_reset(client, alice.email)
    unknown = await ask_reset(client, "nobody@example.org")
    assert known.status_code == unknown.status_code == 200
    assert known.text == unknown.text  # no account enumeration
    sent = mails(settings)
    assert [to for to, _ in sent] == [alice.email]
    link = link_in(sent[0][1])
    async with db.read() as session:
        stored = list(await session.scalars(select(EmailToken.token_hash)))
    assert link.split("=")[-1] not in stored  # only a hash is kept

    page = await client.get(link)
    assert page.status_code == 200
    fields = form_to(page.text, "/auth/password/edit").fields
    r = await client.post(
        "/auth/password/edit", data={**fields, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert r.status_code == 200, r.text
    # Every token is revoked; the new password signs in; the link is spent.
    assert (await client.get("/api/v1/accounts/verify_credentials", headers=alice.headers)).status_code == 401
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as web:
        await sign_in(web, replace(alice, password=NEW_PASSWORD))
    again = await client.post(
        "/auth/password/edit", data={**fields, "password": "yet another one!", "confirm": "yet another one!"}
    )
    assert again.status_code == 404
    async with db.read() as session:
        kinds = list(await session.scalars(select(AuditEvent.kind)))
    assert kinds.count("password_reset_requested") == 2 and "password_reset" in kinds


async def test_an_expired_reset_link_is_refused(
    client: httpx.AsyncClient, settings: Settings, db: Database, alice: ApiUser
) -> None:
    await ask_reset(client, alice.email)
    link = link_in(mails(settings)[0][1])
    async with db.write() as tx:
        await tx.session.execute(update(EmailToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert (await client.get(link)).status_code == 404


async def api_sign_up(client: httpx.AsyncClient, name: str) -> dict[str, str]:
    app = (
        await client.post(
            "/api/v1/apps",
            data={"client_name": "t", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read write"},
        )
    ).json()
    app_token = (
        await client.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
                "scope": "read write",
            },
        )
    ).json()["access_token"]
    r = await client.post(
        "/api/v1/accounts",
        data={
            "username": name,
            "email": f"{name}@example.org",
            "password": "long enough pass",
            "agreement": "true",
        },
        headers={"Authorization": f"Bearer {app_token}"},
    )
    assert r.status_code == 200, r.text
    await wait_sent()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def test_by_default_a_new_account_works_at_once_and_gets_a_confirmation_mail(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    assert not settings.email_confirmation_required  # no SMTP server: mail goes to files
    headers = await api_sign_up(client, "dora")
    assert (await client.get("/api/v1/accounts/verify_credentials", headers=headers)).status_code == 200
    assert [to for to, _ in mails(settings)] == ["dora@example.org"]


async def test_required_confirmation_refuses_the_token_until_the_link_is_followed(
    settings: Settings, db: Database
) -> None:
    strict = replace(settings, require_email_confirmation=True)
    app = build_app(strict, database=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client:
        headers = await api_sign_up(client, "eve")
        r = await client.get("/api/v1/accounts/verify_credentials", headers=headers)
        assert r.status_code == 403 and r.json() == {
            "error": "Your login is missing a confirmed e-mail address"
        }
        assert (
            await client.get("/api/v1/timelines/public", headers=headers)
        ).status_code == 200  # optional auth
        r = await client.post("/api/v1/emails/confirmations", headers=headers)
        assert r.status_code == 200, r.text
        await wait_sent()
        sent = mails(strict)
        assert len(sent) == 2
        # The first link was replaced by the second.
        assert (await client.get(link_in(sent[0][1]))).status_code == 404
        assert (await client.get(link_in(sent[1][1]))).status_code == 200
        assert (await client.get("/api/v1/accounts/verify_credentials", headers=headers)).status_code == 200
        r = await client.post("/api/v1/emails/confirmations", headers=headers)
        assert r.status_code == 403


def test_confirmation_is_required_by_default_only_with_smtp(tmp_path: Path) -> None:
    assert not load_settings({}).email_confirmation_required
    assert load_settings({"CORDEE_SMTP_HOST": "mail.example.org"}).email_confirmation_required
    assert not load_settings(
        {"CORDEE_SMTP_HOST": "mail.example.org", "CORDEE_REQUIRE_EMAIL_CONFIRMATION": "off"}
    ).email_confirmation_required
