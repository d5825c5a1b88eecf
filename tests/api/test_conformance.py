"""Every implemented endpoint answers with the entity shapes of the Mastodon OpenAPI description
(../shared/reference/mastodon-openapi.json, Mastodon 4.7): responses are validated against the
response schema of the matching path and method, on a realistic data set."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.conftest import ApiUser

SPEC = Path(__file__).resolve().parents[3] / "shared" / "reference" / "mastodon-openapi.json"
pytestmark = pytest.mark.skipif(not SPEC.exists(), reason=f"no OpenAPI reference at {SPEC}")
Post = Callable[..., Awaitable[dict[str, Any]]]


@cache
def _spec() -> dict[str, Any]:
    return json.loads(SPEC.read_text())  # type: ignore[no-any-return]


def _operation(method: str, path: str) -> dict[str, Any]:
    # Literal paths first: /api/v1/accounts/relationships is not /api/v1/accounts/{id}.
    for template, operations in sorted(_spec()["paths"].items(), key=lambda item: item[0].count("{")):
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path) and method.lower() in operations:
            return operations[method.lower()]  # type: ignore[no-any-return]
    raise AssertionError(f"{method} {path} is not in the Mastodon API description")


@cache
def _registry() -> Registry[Any]:
    return Registry().with_resource(
        "urn:mastodon", Resource.from_contents(_spec(), default_specification=DRAFT202012)
    )


def check(response: httpx.Response) -> None:
    """Assert the response matches the documented 200 schema for its method and path."""
    assert response.status_code == 200, response.text
    op = _operation(response.request.method, response.request.url.path)
    schema = op["responses"]["200"]["content"]["application/json"]["schema"]
    # Local references ("#/components/...") point into the whole description, registered as a resource.
    schema = json.loads(json.dumps(schema).replace('"#/components/', '"urn:mastodon#/components/'))
    validator = Draft202012Validator(schema, registry=_registry())
    errors = sorted(validator.iter_errors(response.json()), key=lambda e: list(e.absolute_path))
    assert not errors, f"{response.request.method} {response.request.url.path}: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in errors[:5]
    )


async def test_entities_match_the_mastodon_description(
    client: httpx.AsyncClient, post: Post, alice: ApiUser, bob: ApiUser
) -> None:
    a, b = alice.headers, bob.headers
    await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=b)
    status = await post(alice, "Hello @bob #cordee https://example.org")
    reply = await post(bob, "@alice thanks", in_reply_to_id=status["id"])
    await client.post(f"/api/v1/statuses/{status['id']}/favourite", headers=b)
    check(await client.post(f"/api/v1/statuses/{status['id']}/reblog", headers=b))
    check(await client.get(f"/api/v1/statuses/{status['id']}", headers=a))
    check(await client.get(f"/api/v1/statuses/{reply['id']}/context", headers=a))
    check(await client.get(f"/api/v1/statuses/{status['id']}/favourited_by"))
    check(await client.get("/api/v1/timelines/home", headers=b))
    check(await client.get("/api/v1/timelines/public"))
    check(await client.get("/api/v1/timelines/tag/cordee"))
    check(await client.get("/api/v1/notifications", headers=a))
    check(await client.get("/api/v1/accounts/verify_credentials", headers=a))
    check(await client.get(f"/api/v1/accounts/{alice.id}"))
    check(await client.get(f"/api/v1/accounts/{alice.id}/statuses"))
    check(await client.get(f"/api/v1/accounts/{alice.id}/followers"))
    check(await client.get("/api/v1/accounts/relationships", params={"id[]": alice.id}, headers=b))
    check(await client.get("/api/v1/accounts/lookup", params={"acct": "alice"}))
    check(await client.get("/api/v2/search", params={"q": "cordee"}, headers=a))
    check(await client.get("/api/v2/instance"))
    check(await client.get("/api/v1/instance"))
    check(await client.post(f"/api/v1/accounts/{bob.id}/block", headers=a))
    check(await client.get("/api/v1/blocks", headers=a))
    check(await client.post(f"/api/v1/accounts/{bob.id}/unblock", headers=a))
    check(await client.post(f"/api/v1/accounts/{bob.id}/mute", headers=a))
    check(await client.get("/api/v1/mutes", headers=a))
    check(
        await client.post(
            "/api/v1/apps", json={"client_name": "x", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"}
        )
    )
    check(await client.delete(f"/api/v1/statuses/{reply['id']}", headers=b))
