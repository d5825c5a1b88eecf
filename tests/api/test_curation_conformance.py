"""Lists, tags, filters, conversations, suggestions, trends and reports answer with the entity
shapes of the Mastodon OpenAPI description (see test_conformance)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.api.test_conformance import check, pytestmark  # noqa: F401  (same skip when no reference)
from tests.conftest import ApiUser

Post = Callable[..., Awaitable[dict[str, Any]]]


async def test_curation_entities_match_the_mastodon_description(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser
) -> None:
    a = alice.headers
    await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=a)
    note = await post(bob, "Hello #cordee https://example.org, a cat")
    await client.post(f"/api/v1/statuses/{note['id']}/favourite", headers=a)
    await post(bob, "@alice between us", visibility="direct")

    created = await client.post("/api/v1/lists", json={"title": "Friends"}, headers=a)
    check(created)
    list_id = created.json()["id"]
    added = await client.post(f"/api/v1/lists/{list_id}/accounts", json={"account_ids": [bob.id]}, headers=a)
    assert added.status_code == 200 and added.json() == {}  # documented as empty
    check(await client.get("/api/v1/lists", headers=a))
    check(await client.put(f"/api/v1/lists/{list_id}", json={"replies_policy": "followed"}, headers=a))
    check(await client.get(f"/api/v1/lists/{list_id}/accounts", headers=a))
    check(await client.get(f"/api/v1/accounts/{bob.id}/lists", headers=a))

    flt = await client.post(
        "/api/v2/filters",
        json={"title": "Cats", "context": ["home"], "keywords_attributes": [{"keyword": "cat"}]},
        headers=a,
    )
    check(flt)
    check(await client.get("/api/v2/filters", headers=a))
    check(await client.get(f"/api/v2/filters/{flt.json()['id']}/keywords", headers=a))
    check(
        await client.post(
            f"/api/v2/filters/{flt.json()['id']}/statuses", data={"status_id": note["id"]}, headers=a
        )
    )
    check(await client.get(f"/api/v1/timelines/list/{list_id}", headers=a))  # with a FilterResult

    check(await client.get("/api/v1/tags/cordee", headers=a))
    check(await client.post("/api/v1/tags/cordee/follow", headers=a))
    check(await client.get("/api/v1/followed_tags", headers=a))
    check(await client.post("/api/v1/featured_tags", data={"name": "cordee"}, headers=alice.headers))
    check(await client.get(f"/api/v1/accounts/{alice.id}/featured_tags"))
    check(await client.get("/api/v1/featured_tags/suggestions", headers=a))

    check(await client.get("/api/v1/conversations", headers=a))
    check(await client.get("/api/v2/suggestions", headers=bob.headers))
    check(await client.get("/api/v1/trends/tags"))
    check(await client.get("/api/v1/trends/statuses"))
    check(await client.get("/api/v1/trends/links"))
    check(
        await client.post(
            "/api/v1/reports", json={"account_id": bob.id, "status_ids": [note["id"]]}, headers=a
        )
    )
