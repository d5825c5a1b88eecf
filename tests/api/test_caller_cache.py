"""A token's caller is kept between requests (``api/mastodon/callers.py``), and every change to
what it says takes effect on the very next request: each test warms the cache, changes one thing
through the product's own paths, and asks again at once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from cordee.actions.accounts import set_user_flags
from cordee.api.mastodon import callers
from cordee.db.engine import Database
from tests.api.test_filters import _filter
from tests.api.test_oauth import password_token, register
from tests.conftest import ApiUser, MakeUser

ME = "/api/v1/accounts/verify_credentials"


async def _warm(client: httpx.AsyncClient, user: ApiUser) -> None:
    for _ in range(2):
        assert (await client.get(ME, headers=user.headers)).status_code == 200


async def test_a_token_kept_costs_no_statement_on_the_next_request(
    db: Database, client: httpx.AsyncClient, alice: ApiUser
) -> None:
    await _warm(client, alice)
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    hot_rows = db.hot.rows

    async def rows(query: Any, **params: Any) -> Any:
        statements.append(query.compiled(db.hot.dialect_name).sql)
        return await hot_rows(query, **params)

    event.listen(db.engine.sync_engine, "before_cursor_execute", seen)
    db.hot.rows = rows  # type: ignore[method-assign]
    try:
        assert (await client.get("/api/v1/timelines/home", headers=alice.headers)).status_code == 200
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", seen)
        db.hot.rows = hot_rows  # type: ignore[method-assign]
    assert not [s for s in statements if "oauth_access_tokens" in s]


async def test_a_revoked_token_is_refused_at_once(client: httpx.AsyncClient, alice: ApiUser) -> None:
    await _warm(client, alice)
    app = await register(client)
    token = (await password_token(client, app, alice)).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get(ME, headers=headers)).status_code == 200
    revoked = await client.post(
        "/oauth/revoke",
        data={"client_id": app["client_id"], "client_secret": app["client_secret"], "token": token},
    )
    assert revoked.status_code == 200
    assert (await client.get(ME, headers=headers)).status_code == 401
    assert (await client.get(ME, headers=alice.headers)).status_code == 200  # her other token holds


@pytest.mark.parametrize(
    ("change", "status"),
    [
        (lambda db, who: set_user_flags(db, who.username, disabled=True), 403),
        (lambda db, who: set_user_flags(db, who.username, password="a new long passphrase"), 401),
    ],
    ids=["disabled", "password-changed"],
)
async def test_a_user_changed_by_an_admin_is_refused_at_once(
    db: Database,
    client: httpx.AsyncClient,
    alice: ApiUser,
    change: Callable[[Database, ApiUser], Awaitable[None]],
    status: int,
) -> None:
    await _warm(client, alice)
    await change(db, alice)
    assert (await client.get(ME, headers=alice.headers)).status_code == status


async def test_new_filters_apply_to_the_next_home_page(
    client: httpx.AsyncClient, make_user: MakeUser, post: Callable[..., Awaitable[dict[str, Any]]]
) -> None:
    """Whether the reader has filters travels with the caller: a filter made a moment ago applies."""
    reader, author = await make_user("reader"), await make_user("author")
    assert (
        await client.post(f"/api/v1/accounts/{author.id}/follow", headers=reader.headers)
    ).status_code == 200
    note = await post(author, "a word about parsnips")
    home = await client.get("/api/v1/timelines/home", headers=reader.headers)
    assert [s["id"] for s in home.json()] == [note["id"]]
    await _filter(
        client,
        reader,
        title="veg",
        context=["home"],
        filter_action="hide",
        keywords_attributes=[{"keyword": "parsnips"}],
    )
    home = await client.get("/api/v1/timelines/home", headers=reader.headers)
    assert home.json() == []


async def test_new_posting_defaults_apply_to_the_next_post(
    client: httpx.AsyncClient, alice: ApiUser, post: Callable[..., Awaitable[dict[str, Any]]]
) -> None:
    """The posting defaults travel with the caller (a post reads nothing more): defaults changed
    a moment ago apply to the very next note."""
    assert (await post(alice, "before"))["visibility"] == "public"
    r = await client.patch(
        "/api/v1/accounts/update_credentials",
        data={"source[privacy]": "private", "source[sensitive]": "true", "source[language]": "fr"},
        headers=alice.headers,
    )
    assert r.status_code == 200, r.text
    after = await post(alice, "after")
    assert (after["visibility"], after["sensitive"], after["language"]) == ("private", True, "fr")


async def test_a_change_made_by_another_program_is_seen_within_max_age(
    db: Database, client: httpx.AsyncClient, alice: ApiUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI writes the database from another process: its change is not observed, only
    outlived (``MAX_AGE``)."""
    monkeypatch.setattr(callers, "MAX_AGE", 0.3)
    await _warm(client, alice)
    other = Database(db.engine.url.render_as_string(hide_password=False))
    try:
        await set_user_flags(other, alice.username, disabled=True)
    finally:
        await other.dispose()
    await asyncio.sleep(0.35)
    assert (await client.get(ME, headers=alice.headers)).status_code == 403
