"""Finding 7: the authorization-code grant as RFC 6749 and RFC 7636 require it.

A code is exchanged only with the ``redirect_uri`` it was issued for; a code used twice revokes
what it gave (§4.1.2); a ``code_challenge`` must say S256, the only method advertised; and two
exchanges of one code at the same moment give one token, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import select

from cordee.db.engine import Database
from cordee.db.tables_security import AuditEvent
from tests.web.test_auth_pages import CALLBACK, consent, pkce, register, sign_in

if TYPE_CHECKING:
    from tests.conftest import ApiUser

OTHER = "https://client.example/other"


async def a_code(
    client: httpx.AsyncClient, alice: ApiUser, app: dict[str, Any], uri: str = CALLBACK, **extra: str
) -> str:
    r = await consent(
        client, {"response_type": "code", "client_id": app["client_id"], "redirect_uri": uri, **extra}
    )
    assert r.status_code == 302, r.text
    return parse_qs(urlsplit(r.headers["location"]).query)["code"][0]


def exchange(app: dict[str, Any], code: str, **fields: str) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        **fields,
    }


async def works(client: httpx.AsyncClient, token: str) -> bool:
    r = await client.get("/api/v1/accounts/verify_credentials", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code in (200, 401), r.text
    return r.status_code == 200


async def test_a_code_needs_the_redirect_uri_it_was_issued_for(
    client: httpx.AsyncClient, alice: ApiUser
) -> None:
    app = await register(client, uri=f"{CALLBACK}\n{OTHER}")
    await sign_in(client, alice)
    code = await a_code(client, alice, app)
    for uri in (None, OTHER, ""):
        fields = {} if uri is None else {"redirect_uri": uri}
        r = await client.post("/oauth/token", data=exchange(app, code, **fields))
        assert r.status_code == 400, (uri, r.text)
        assert r.json()["error"] == "invalid_grant"
    # A refused attempt does not spend the code: the rightful client can still exchange it.
    r = await client.post("/oauth/token", data=exchange(app, code, redirect_uri=CALLBACK))
    assert r.status_code == 200, r.text


async def test_a_reused_code_revokes_the_tokens_it_gave(
    client: httpx.AsyncClient, alice: ApiUser, db: Database
) -> None:
    app = await register(client)
    await sign_in(client, alice)
    code = await a_code(client, alice, app)
    first = await client.post("/oauth/token", data=exchange(app, code, redirect_uri=CALLBACK))
    assert first.status_code == 200, first.text
    token = first.json()
    refreshed = await client.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": token["refresh_token"],
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
        },
    )
    assert refreshed.status_code == 200, refreshed.text
    assert await works(client, refreshed.json()["access_token"])

    again = await client.post("/oauth/token", data=exchange(app, code, redirect_uri=CALLBACK))
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    # The code was stolen or replayed: whatever it gave, refreshed or not, stops working.
    assert not await works(client, refreshed.json()["access_token"])
    still = await client.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refreshed.json()["refresh_token"],
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
        },
    )
    assert still.status_code == 400

    async with db.read() as session:
        events = (await session.scalars(select(AuditEvent).order_by(AuditEvent.id))).all()
    kinds = [(e.kind, json.loads(e.detail)) for e in events if e.user_id == alice.user_id]
    issued = [d for k, d in kinds if k == "token_issued" and d["application_id"] == int(app["id"])]
    assert [d["grant_type"] for d in issued] == ["authorization_code", "refresh_token"]
    revoked = [d for k, d in kinds if k == "token_revoked"]
    assert [d["reason"] for d in revoked] == ["refresh", "code_reused"]


async def test_a_challenge_must_say_s256(client: httpx.AsyncClient, alice: ApiUser) -> None:
    app = await register(client)
    await sign_in(client, alice)
    verifier, challenge = pkce()
    for method in ({}, {"code_challenge_method": "plain"}, {"code_challenge_method": "s256"}):
        r = await client.get(
            "/oauth/authorize",
            params={
                "response_type": "code",
                "client_id": app["client_id"],
                "redirect_uri": CALLBACK,
                "code_challenge": verifier[:64],
                "state": "st",
                **method,
            },
        )
        assert r.status_code == 302, (method, r.text)
        query = parse_qs(urlsplit(r.headers["location"]).query)
        assert query["error"] == ["invalid_request"], method
        assert query["state"] == ["st"]
    code = await a_code(client, alice, app, code_challenge=challenge, code_challenge_method="S256")
    plain = await client.post(
        "/oauth/token", data=exchange(app, code, redirect_uri=CALLBACK, code_verifier=challenge)
    )
    assert plain.status_code == 400
    right = await client.post(
        "/oauth/token", data=exchange(app, code, redirect_uri=CALLBACK, code_verifier=verifier)
    )
    assert right.status_code == 200, right.text


async def test_concurrent_exchanges_of_one_code_give_one_token(
    client: httpx.AsyncClient, alice: ApiUser
) -> None:
    """Found on PostgreSQL: ``used`` was read without a lock and the token made in another
    transaction, so several exchanges racing each other all got a token."""
    app = await register(client)
    await sign_in(client, alice)
    for _ in range(4):
        code = await a_code(client, alice, app)
        answers = await asyncio.gather(
            *(client.post("/oauth/token", data=exchange(app, code, redirect_uri=CALLBACK)) for _ in range(8))
        )
        statuses = sorted(r.status_code for r in answers)
        assert statuses == [200] + [400] * 7, statuses
        assert all(r.json()["error"] == "invalid_grant" for r in answers if r.status_code == 400)
        # The others were replays of the code: the one token it gave is revoked too (§4.1.2).
        winner = next(r for r in answers if r.status_code == 200)
        assert not await works(client, winner.json()["access_token"])
