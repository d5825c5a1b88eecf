"""Registration modes through the API: open, approval, invite-only, closed, e-mail domain list."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import httpx

from cordee.actions.accounts import create_invite
from cordee.app import build_app
from cordee.config import Settings
from cordee.db.engine import Database

SIGNUP = {
    "username": "newcomer",
    "email": "newcomer@asso.org",
    "password": "long enough pw",
    "agreement": "true",
}


@asynccontextmanager
async def instance(
    settings: Settings, db: Database, **changes: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    """A client on an app built with changed settings, and an app token allowed to register."""
    app = build_app(replace(settings, **changes), database=db)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://cordee.test"
    ) as client:
        creds = (
            await client.post(
                "/api/v1/apps",
                json={
                    "client_name": "join",
                    "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                    "scopes": "read write",
                },
            )
        ).json()
        token = await client.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": creds["client_id"],
                "client_secret": creds["client_secret"],
                "scope": "read write",
            },
        )
        yield client, {"Authorization": f"Bearer {token.json()['access_token']}"}


async def test_approval_mode_creates_a_pending_account(settings: Settings, db: Database) -> None:
    async with instance(settings, db, registration_mode="approval") as (client, app_token):
        instance_info = (await client.get("/api/v2/instance")).json()
        assert instance_info["registrations"]["approval_required"] is True
        r = await client.post(
            "/api/v1/accounts", data={**SIGNUP, "reason": "I volunteer in Lyon"}, headers=app_token
        )
        assert r.status_code == 200, r.text
        pending = {"Authorization": f"Bearer {r.json()['access_token']}"}
        me = await client.get("/api/v1/accounts/verify_credentials", headers=pending)
        assert me.status_code == 403 and "pending approval" in me.json()["error"]


async def test_invite_mode_needs_a_valid_code(settings: Settings, db: Database) -> None:
    code = await create_invite(db, max_uses=1)
    async with instance(settings, db, registration_mode="invite") as (client, app_token):
        without = await client.post("/api/v1/accounts", data=SIGNUP, headers=app_token)
        assert without.status_code == 422 and "invite_code" in without.json()["details"]
        wrong = await client.post(
            "/api/v1/accounts", data={**SIGNUP, "invite_code": "nope"}, headers=app_token
        )
        assert wrong.status_code == 422
        ok = await client.post("/api/v1/accounts", data={**SIGNUP, "invite_code": code}, headers=app_token)
        assert ok.status_code == 200, ok.text
        used_up = await client.post(
            "/api/v1/accounts",
            data={**SIGNUP, "username": "second", "email": "second@asso.org", "invite_code": code},
            headers=app_token,
        )
        assert used_up.status_code == 422


async def test_closed_mode_and_email_domains(settings: Settings, db: Database) -> None:
    async with instance(settings, db, registration_mode="closed") as (client, app_token):
        r = await client.post("/api/v1/accounts", data=SIGNUP, headers=app_token)
        assert r.status_code == 403 and "closed" in r.json()["error"]
        assert (await client.get("/api/v2/instance")).json()["registrations"]["enabled"] is False
    async with instance(settings, db, allowed_email_domains=("asso.org",)) as (client, app_token):
        outsider = await client.post(
            "/api/v1/accounts", data={**SIGNUP, "email": "x@gmail.com"}, headers=app_token
        )
        assert (
            outsider.status_code == 422 and outsider.json()["details"]["email"][0]["error"] == "ERR_BLOCKED"
        )
        member = await client.post("/api/v1/accounts", data=SIGNUP, headers=app_token)
        assert member.status_code == 200


async def test_agreement_must_be_accepted(settings: Settings, db: Database) -> None:
    async with instance(settings, db) as (client, app_token):
        r = await client.post("/api/v1/accounts", data={**SIGNUP, "agreement": "false"}, headers=app_token)
        assert r.status_code == 422
