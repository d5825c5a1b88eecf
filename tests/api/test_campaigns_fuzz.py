"""Whatever a client sends to the campaign endpoints, the answer is a success or a clear 4xx with
an error, never a server error (the Mastodon fuzz run does not know these Cordée endpoints)."""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.test_campaigns import CHAPTER, make_campaign
from tests.conftest import ApiUser

FIELDS = [
    "title", "hashtag", "cause", "goal_cents", "currency", "city", "venue", "starts_at", "ends_at",
    "time_zone", "locale", "capacity", "kind", "amount_cents", "note", "account_id", "role", "name",
    "price_cents", "tier_id", "provider", "prizes", "commitment", "holder", "count", "seed", "scans",
    "status_id", "moderation", "status", "limit", "max_id",
]  # fmt: skip
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(
        ["EUR", "Europe/Paris", "2027-02-12T19:00:00Z", "9999-12-31T23:59:59-01:00", "fr_FR", "lead", "12.50"]
    ),
    st.lists(
        st.dictionaries(st.sampled_from(["code", "scan_key", "scanned_at"]), st.text(max_size=20)), max_size=3
    ),
)
BODIES = st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=6)
PATHS = [
    ("POST", "/api/v1/campaigns"),
    ("POST", "/api/v1/campaigns/{campaign}/chapters"),
    ("POST", "/api/v1/campaigns/{campaign}/organisers"),
    ("GET", "/api/v1/campaigns/{campaign}/chapters"),
    ("POST", "/api/v1/chapters/{chapter}/ledger"),
    ("GET", "/api/v1/chapters/{chapter}/ledger"),
    ("POST", "/api/v1/chapters/{chapter}/organisers"),
    ("POST", "/api/v1/chapters/{chapter}/tiers"),
    ("POST", "/api/v1/chapters/{chapter}/tickets"),
    ("POST", "/api/v1/chapters/{chapter}/checkins"),
    ("POST", "/api/v1/chapters/{chapter}/raffle"),
    ("POST", "/api/v1/chapters/{chapter}/wall/hidden"),
    ("POST", "/api/v1/chapters/{chapter}/wall_moderation"),
    ("POST", "/api/v1/ledger_entries/{chapter}/corrections"),
    ("POST", "/api/v1/raffles/{chapter}/tickets"),
    ("POST", "/api/v1/raffles/{chapter}/draw"),
]
_IDS: dict[str, str] = {}


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(route=st.sampled_from(PATHS), body=BODIES, as_json=st.booleans())
async def test_campaign_endpoints_never_fail(
    client: httpx.AsyncClient, alice: ApiUser, route: tuple[str, str], body: dict[str, Any], as_json: bool
) -> None:
    if _IDS.get("alice") != alice.id:  # the fixtures live across examples: one campaign per test
        campaign = await make_campaign(client, alice, hashtag=f"fuzz{alice.id}")
        r = await client.post(
            f"/api/v1/campaigns/{campaign['id']}/chapters", json=CHAPTER, headers=alice.headers
        )
        _IDS.update(alice=alice.id, campaign=campaign["id"], chapter=r.json()["id"])
    method, template = route
    path = template.format(campaign=_IDS["campaign"], chapter=_IDS["chapter"])
    if method == "GET":
        r = await client.get(path, params={k: str(v) for k, v in body.items()}, headers=alice.headers)
    elif as_json:
        # Encoded here, not by httpx (which refuses NaN and infinities): such bodies reach the server.
        raw = json.dumps(body).encode()
        r = await client.post(
            path, content=raw, headers={**alice.headers, "Content-Type": "application/json"}
        )
    else:
        form = {k: str(v) for k, v in body.items() if not isinstance(v, list)}
        r = await client.post(path, data=form, headers=alice.headers)
    assert r.status_code < 500, (method, path, body, r.text)
    if r.status_code >= 400:
        assert "error" in r.json(), r.text
