"""A bounded fuzz run of the whole Mastodon client API (schemathesis, from the Mastodon OpenAPI
description in ``../shared/reference``) against a real server with real data: no request may get
a server error. The longer run and its figures are in docs/security.md; this one is seeded, so a
failure here reproduces with the command it prints."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.running import Running, launch, register

SPEC = Path(__file__).resolve().parents[3] / "shared" / "reference" / "mastodon-openapi.json"
#: Examples per operation: small in the suite (~1 minute on 2 cores), larger for the long run.
EXAMPLES = int(os.environ.get("CORDEE_FUZZ_EXAMPLES", "4"))
SEED = os.environ.get("CORDEE_FUZZ_SEED", "20261202")
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)

pytestmark = pytest.mark.skipif(not SPEC.exists(), reason=f"the OpenAPI description is not at {SPEC}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = launch(tmp_path_factory.mktemp("fuzz"), CORDEE_RATE_LIMITS="off")
    yield running
    running.stop()


def _seed(base: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Two users who follow each other, and one of each resource the API can name by id."""
    with httpx.Client(base_url=base, timeout=30) as client:
        return _seed_with(client)


def _seed_with(c: httpx.Client) -> tuple[dict[str, str], dict[str, list[str]]]:
    base = str(c.base_url).rstrip("/")
    me = register(base, "fuzzer", "read write follow push")
    other = register(base, "other", "read write follow push")

    def ok(r: httpx.Response) -> dict[str, str]:
        assert r.status_code == 200, (r.request.url, r.status_code, r.text)
        data: dict[str, str] = r.json()
        return data

    my_id = ok(c.get("/api/v1/accounts/verify_credentials", headers=me))["id"]
    other_id = ok(c.get("/api/v1/accounts/verify_credentials", headers=other))["id"]
    ok(c.post(f"/api/v1/accounts/{other_id}/follow", headers=me))
    ok(c.post(f"/api/v1/accounts/{my_id}/follow", headers=other))
    media = ok(c.post("/api/v2/media", headers=me, files={"file": ("a.png", PNG, "image/png")}))["id"]
    public = ok(c.post("/api/v1/statuses", headers=me, data={"status": "hello #fuzz", "media_ids[]": media}))
    poll = ok(
        c.post(
            "/api/v1/statuses",
            headers=other,
            data={"status": "which?", "poll[options][]": ["a", "b"], "poll[expires_in]": "3600"},
        )
    )
    direct = ok(
        c.post("/api/v1/statuses", headers=other, data={"status": "@fuzzer psst", "visibility": "direct"})
    )
    ok(c.post(f"/api/v1/statuses/{poll['id']}/favourite", headers=me))
    scheduled = ok(
        c.post(
            "/api/v1/statuses",
            headers=me,
            data={"status": "later", "scheduled_at": "2099-01-01T00:00:00Z"},
        )
    )
    a_list = ok(c.post("/api/v1/lists", headers=me, data={"title": "friends"}))
    a_filter = ok(
        c.post(
            "/api/v2/filters",
            headers=me,
            data={"title": "spoilers", "context[]": "home", "keywords_attributes[][keyword]": "x"},
        )
    )
    notifications = c.get("/api/v1/notifications", headers=me).json()
    conversations = c.get("/api/v1/conversations", headers=me).json()
    statuses = [public["id"], poll["id"], direct["id"]]
    ids = {
        "id": statuses,
        "accounts:id": [my_id, other_id],
        "account_id": [my_id, other_id],
        "statuses:id": statuses,
        "polls:id": [poll["poll"]["id"]] if poll.get("poll") else [],  # type: ignore[index]
        "media:id": [media],
        "lists:id": [a_list["id"]],
        "list_id": [a_list["id"]],
        "filters:id": [a_filter["id"]],
        "v1/filters:id": [k["id"] for k in a_filter.get("keywords", [])],  # type: ignore[union-attr]
        "filter_id": [a_filter["id"]],
        "scheduled_statuses:id": [scheduled["id"]],
        "notifications:id": [n["id"] for n in notifications[:3]],
        "conversations:id": [v["id"] for v in conversations[:2]],
        "hashtag": ["fuzz"],
        "tags:name": ["fuzz"],
        "tags:id": ["fuzz"],
    }
    return me, ids


def test_no_server_error_anywhere_in_the_api(server: Running, tmp_path: Path) -> None:
    headers, ids = _seed(server.base_url)
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        str(SPEC),
        "--url",
        server.base_url,
        "-H",
        f"Authorization: {headers['Authorization']}",
        "--checks",
        "not_a_server_error",
        "--exclude-path-regex",
        "^/api/v1/streaming",
        "--max-examples",
        str(EXAMPLES),
        "--phases",
        "examples,coverage,fuzzing",
        "--seed",
        SEED,
        "--workers",
        "2",
        "--suppress-health-check",
        "all",
        "--request-timeout",
        "30",
    ]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.fuzz.hooks",
        "CORDEE_FUZZ_IDS": json.dumps(ids),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, cwd=tmp_path)
    if run.returncode != 0 and "FAILURES" not in run.stdout:
        # Errors but no failure: schemathesis could not complete some request (a network error,
        # one of its own), which says nothing about the server's answers; seen once in CI under
        # the full suite's load and never alone. One more run, reported in full if it fails too.
        run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, cwd=tmp_path)
    # The failures (each with the curl command that reproduces it) and the errors come before
    # the summary.
    report = "".join(
        run.stdout[start : start + 12_000]
        for start in (run.stdout.find("FAILURES"), run.stdout.find("ERRORS"))
        if start >= 0
    )
    report += run.stdout[-3000:] + run.stderr[-2000:]
    assert run.returncode == 0, f"schemathesis found server errors:\n{report}"
    assert "unhandled error" not in server.output(), server.output()[-6000:]
    # The figures of the run, for the record (shown with ``pytest -s``).
    print(run.stdout[run.stdout.find("SUMMARY") :])
    assert " passed" in run.stdout, report
