"""A router that looks only at the routes a path can match.

Starlette's router tries every route in order, each a regular expression: with ~330 routes the
home timeline's is the 47th (26 µs a request) and the web app's ``/home`` the 204th (105 µs),
measured. ``IndexedRouter`` files each route under the literal path segments its pattern starts
with (``/api/v1/statuses/{id}`` under ``api/v1/statuses``), and for a request tries, in their
original order, only the routes filed under a prefix of its path's segments — the others cannot
match it. A route whose first segment holds a parameter (``/@{username}``) is filed under no
segment, so every request tries it. The first route that matches fully wins, as in Starlette;
anything else (a method not allowed, a trailing slash to redirect, a 404) goes to Starlette's own
scan of every route, so those answers are exactly Starlette's.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute, Match, Router
from starlette.types import Receive, Scope, Send

#: How many leading literal segments file a route (``api/v1/timelines``): enough to make the
#: candidates of a request a handful.
DEPTH = 3
#: Path prefixes whose candidates are kept (then forgotten all at once).
MAX_PREFIXES = 4096


def literal_segments(path: str) -> tuple[str, ...]:
    """The complete path segments a route pattern starts with, before any parameter (at most
    ``DEPTH``)."""
    literal = path.split("{", 1)[0]
    parts = [p for p in literal.strip("/").split("/") if p] if literal.strip("/") else []
    if "{" in path and not literal.endswith("/") and parts:
        parts.pop()  # the last one goes on with a parameter (``/@{username}``): not a whole segment
    return tuple(parts[:DEPTH])


def _route_path(scope: Scope) -> str:
    """The path the routes see (without the application's ``root_path``, as Starlette strips it).
    Were it ever wrong, a route would only be missed here and found by the full scan."""
    path, root = str(scope["path"]), str(scope.get("root_path", ""))
    return path[len(root) :] if root and path.startswith(root + "/") else path


class IndexedRouter(Router):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._filed = -1  # how many routes the index holds (routes are added while the app is built)
        self._by_prefix: dict[tuple[str, ...], list[int]] = {}
        self._candidates: dict[tuple[str, ...], list[BaseRoute]] = {}

    def _index(self) -> None:
        self._by_prefix = {}
        for position, route in enumerate(self.routes):
            path = getattr(route, "path", None)
            key = literal_segments(path) if isinstance(path, str) else ()
            self._by_prefix.setdefault(key, []).append(position)
        self._filed = len(self.routes)
        self._candidates = {}

    def candidates(self, path: str) -> list[BaseRoute]:
        """The routes that may match ``path``, in their original order."""
        if self._filed != len(self.routes):
            self._index()  # filed on first use
        # The candidates depend only on the path's first DEPTH segments (and whether it has that
        # many): kept per such prefix, a request costs a split and a dictionary lookup.
        segments = tuple(path.lstrip("/").split("/", DEPTH)[:DEPTH])
        found = self._candidates.get(segments)
        if found is None:
            positions: list[int] = []
            for depth in range(len(segments) + 1):
                positions += self._by_prefix.get(segments[:depth], ())
            found = [self.routes[p] for p in sorted(positions)]
            if len(self._candidates) >= MAX_PREFIXES:  # prefixes with ids in them (``/@a/12``)
                self._candidates.clear()
            self._candidates[segments] = found
        return found

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            for route in self.candidates(_route_path(scope)):
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.setdefault("router", self)
                    scope["route"] = route
                    scope.update(child_scope)
                    await route.handle(scope, receive, send)
                    return
        await super().app(scope, receive, send)
