"""The benchmark's bulk path yields the state the actions layer would: a generated graph loaded
straight into the tables reads back through the API like one built by following and posting."""

from __future__ import annotations

import httpx
from bench.mix.graph import generate, load

from cordee.db.engine import Database


async def test_a_bulk_loaded_graph_reads_like_one_made_through_the_api(
    db: Database, client: httpx.AsyncClient
) -> None:
    graph = generate(12, 40, 30, seed=7)
    counts = await load(db.engine, graph)
    assert counts == {
        "accounts": 12,
        "users": 12,
        "applications": 1,
        "oauth_access_tokens": 12,
        "follows": 40,
        "statuses": 30,
    }
    ids = graph.account_ids
    auth = {"Authorization": f"Bearer {graph.tokens[0]}"}
    for i, account_id in enumerate(ids):
        followers = {ids[a] for a, b in graph.follows if b == i}
        following = {ids[b] for a, b in graph.follows if a == i}
        notes = [n for n in graph.notes if n[0] == i]
        entity = (await client.get(f"/api/v1/accounts/{account_id}", headers=auth)).json()
        assert (entity["followers_count"], entity["following_count"], entity["statuses_count"]) == (
            len(followers),
            len(following),
            len(notes),
        )
        r = await client.get(f"/api/v1/accounts/{account_id}/followers?limit=80", headers=auth)
        assert {int(a["id"]) for a in r.json()} == followers

    # A note written through the API with the same text renders the same HTML.
    author, note_id, text = graph.notes[-1]
    bulk = (await client.get(f"/api/v1/statuses/{note_id}", headers=auth)).json()
    posted = await client.post("/api/v1/statuses", json={"status": text}, headers=auth)
    assert posted.status_code == 200
    assert bulk["content"] == posted.json()["content"]

    # A reader's home timeline (its feed built by the server on first read) is what it follows.
    reader = max(range(12), key=lambda i: sum(1 for a, _ in graph.follows if a == i))
    followed = {b for a, b in graph.follows if a == reader} | {reader}
    notes = [(a, n) for a, n, _ in graph.notes] + [(0, int(posted.json()["id"]))]
    expected = sorted((n for a, n in notes if a in followed), reverse=True)[:40]
    r = await client.get(
        "/api/v1/timelines/home?limit=40", headers={"Authorization": f"Bearer {graph.tokens[reader]}"}
    )
    assert [int(s["id"]) for s in r.json()] == expected
