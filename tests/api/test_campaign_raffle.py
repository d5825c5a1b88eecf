"""The raffle: commit before sales, sales in the ledger, a draw anyone can re-run, the result
posted in the chapter's language."""

from __future__ import annotations

import asyncio
import hashlib

import httpx
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from cordee.cli import main
from cordee.domain import raffle as rules
from tests.api.test_campaigns import CHAPTER, make_campaign
from tests.conftest import ApiUser

SEED = "4f1c0e9d-night-of-the-raffle"


async def test_raffle_commit_sell_draw_and_rerun(
    client: httpx.AsyncClient, alice: ApiUser, bob: ApiUser
) -> None:
    campaign = await make_campaign(client, alice)
    r = await client.post(f"/api/v1/campaigns/{campaign['id']}/chapters", json=CHAPTER, headers=alice.headers)
    ch = r.json()["id"]
    commitment = hashlib.sha256(SEED.encode()).hexdigest()
    r = await client.post(
        f"/api/v1/chapters/{ch}/raffle",
        json={"price_cents": 200, "prizes": 2, "commitment": "abc"},
        headers=alice.headers,
    )
    assert r.status_code == 422
    r = await client.post(
        f"/api/v1/chapters/{ch}/raffle",
        json={"price_cents": 200, "prizes": 2, "commitment": commitment},
        headers=alice.headers,
    )
    assert r.status_code == 200, r.text
    raffle = r.json()
    assert (raffle["open"], raffle["seed"], raffle["winners"]) == (True, None, None)
    rid = raffle["id"]

    sell = f"/api/v1/raffles/{rid}/tickets"
    assert (
        await client.post(sell, json={"holder": "Zoé", "count": 3}, headers=bob.headers)
    ).status_code == 403
    assert (await client.post(sell, json={"holder": "Zoé", "count": 3}, headers=alice.headers)).json() == {
        "numbers": [1, 2, 3]
    }
    assert (await client.post(sell, json={"holder": "Marc", "count": 2}, headers=alice.headers)).json() == {
        "numbers": [4, 5]
    }
    assert (
        await client.post(sell, json={"holder": "Marc", "count": 0}, headers=alice.headers)
    ).status_code == 422
    # Sales at several tables at once: numbers follow on, none twice (the raffle's row is locked).
    at_once = await asyncio.gather(
        *(client.post(sell, json={"holder": f"T{i}", "count": 2}, headers=alice.headers) for i in range(4))
    )
    assert sorted(n for r in at_once for n in r.json()["numbers"]) == list(range(6, 14))
    totals = (await client.get(f"/api/v1/chapters/{ch}/totals")).json()
    assert (totals["raised_cents"], totals["entries"]) == (13 * 200, 6)

    draw = f"/api/v1/raffles/{rid}/draw"
    r = await client.post(draw, json={"seed": "not the seed"}, headers=alice.headers)
    assert r.status_code == 422
    assert (await client.get(f"/api/v1/accounts/{alice.id}")).json()["statuses_count"] == 0  # nothing posted
    r = await client.post(draw, json={"seed": SEED}, headers=bob.headers)
    assert r.status_code == 403, r.text
    r = await client.post(draw, json={"seed": SEED}, headers=alice.headers)
    assert r.status_code == 200, r.text
    drawn = r.json()
    assert (drawn["open"], drawn["seed"], drawn["tickets_sold"]) == (False, SEED, 13)
    assert drawn["winners"] == rules.winners(SEED, 13, 2) and len(set(drawn["winners"])) == 2
    status = (await client.get(f"/api/v1/statuses/{drawn['result_status_id']}")).json()
    assert "Tombola" in status["content"]  # the chapter is fr_FR
    assert ", ".join(map(str, drawn["winners"])) in status["content"]
    assert f"/api/v1/chapters/{ch}/raffle" in status["content"]  # where the seed is published
    assert (
        await client.post(sell, json={"holder": "Late", "count": 1}, headers=alice.headers)
    ).status_code == 422
    assert (await client.post(draw, json={"seed": SEED}, headers=alice.headers)).status_code == 422
    assert (await client.get(f"/api/v1/chapters/{ch}/raffle")).json()["winners"] == drawn["winners"]

    # Anyone re-runs the draw from what was published.
    out = CliRunner().invoke(
        main,
        ["raffle", "verify", "--seed", SEED, "--tickets", "13", "--prizes", "2", "--commitment", commitment],
    )
    assert out.exit_code == 0, out.output
    assert out.output.splitlines() == [
        "commitment: matches the seed",
        "winners: " + ", ".join(map(str, drawn["winners"])),
    ]
    bad = CliRunner().invoke(
        main,
        ["raffle", "verify", "--seed", "x", "--tickets", "13", "--prizes", "2", "--commitment", commitment],
    )
    assert bad.exit_code != 0 and "does not match" in bad.output


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=64), st.integers(0, 300), st.integers(1, 20))
def test_the_draw_is_deterministic_and_picks_distinct_sold_tickets(seed: str, sold: int, prizes: int) -> None:
    first = rules.winners(seed, sold, prizes)
    assert first == rules.winners(seed, sold, prizes)
    assert len(first) == min(sold, prizes) == len(set(first))
    assert all(1 <= n <= sold for n in first)
    assert rules.seed_matches(seed, rules.commitment_of(seed))
