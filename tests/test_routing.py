"""The server's router tries only the routes a path can match (``cordee/routing.py``): every
request must still reach the route Starlette's full scan would pick, and what no route takes fully
(a method not allowed, a trailing slash, an unknown path) must be answered as before."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from starlette.routing import Match, Route

from cordee.app import build_app
from cordee.config import Settings
from cordee.db.engine import Database
from cordee.routing import IndexedRouter, literal_segments
from tests.conftest import BASE_URL

#: A value for each kind of path parameter: ids, names, and the catch-all ``{rest:path}``.
_SAMPLES = {"path": "a/b", "int": "12"}


def _sample(path: str) -> str:
    return re.sub(r"{(\w+)(?::(\w+))?}", lambda m: _SAMPLES.get(m.group(2) or "", "12"), path)


def _first_full(routes: list, scope: dict) -> object | None:  # type: ignore[type-arg]
    for route in routes:
        if route.matches(scope)[0] is Match.FULL:
            return route
    return None


def test_literal_segments_of_route_patterns() -> None:
    assert literal_segments("/api/v1/statuses/{id}/favourite") == ("api", "v1", "statuses")
    assert literal_segments("/api/{rest:path}") == ("api",)
    assert literal_segments("/@{username}") == ()
    assert literal_segments("/users/{username}.rss") == ("users",)
    assert literal_segments("/static") == ("static",)
    assert literal_segments("/") == ()


def test_every_route_is_found_as_the_full_scan_finds_it(settings: Settings, tmp_path: Path) -> None:
    app = build_app(
        settings, database=Database(f"sqlite+aiosqlite:///{tmp_path / 'r.sqlite3'}"), run_jobs=False
    )
    router = app.router
    assert isinstance(router, IndexedRouter)
    checked = 0
    for route in router.routes:
        path = getattr(route, "path", None)
        if not isinstance(path, str):
            continue
        methods = sorted(route.methods or {"GET"}) if isinstance(route, Route) else ["GET"]
        for method in methods:
            for candidate in (_sample(path), _sample(path) + "/x", _sample(path).rstrip("/") + "/"):
                scope = {"type": "http", "path": candidate, "root_path": "", "method": method, "headers": []}
                expected = _first_full(router.routes, scope)
                assert _first_full(router.candidates(candidate), scope) is expected, (method, candidate)
                checked += 1
    assert checked > 500


async def test_what_no_route_takes_fully_is_answered_as_before(settings: Settings, db: Database) -> None:
    app = build_app(settings, database=db, run_jobs=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client:
        assert (await client.get("/api/v1/instance")).status_code == 200
        r = await client.delete("/api/v1/instance")  # a path some route takes, not this method
        assert r.status_code in (404, 405), r.text
        r = await client.get("/api/v1/no-such-thing")
        assert r.status_code == 404 and "error" in r.json()
        r = await client.get("/compose/")  # a trailing slash: redirected as Starlette does
        assert r.status_code == 307 and r.headers["location"].endswith("/compose"), r.text
        assert (await client.get("/nothing/here")).status_code == 404
