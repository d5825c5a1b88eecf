"""The signed-cookie session is the web pages' (``web/page_sessions.py``): requests under ``/api/``
(bearer-token API, streaming, oEmbed) go around it; every other path has it."""

from __future__ import annotations

import httpx
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from cordee.web.page_sessions import PageSessions


async def test_the_cookie_session_is_only_where_pages_use_it() -> None:
    seen: dict[str, bool] = {}

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        seen[scope["path"]] = "session" in scope
        await PlainTextResponse("ok")(scope, receive, send)

    app = PageSessions(inner, secret_key="test-secret", session_cookie="cordee_session")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        for path in ("/api/v1/instance", "/api/oembed", "/home", "/@alice", "/oauth/authorize"):
            assert (await client.get(path)).status_code == 200
    assert seen == {
        "/api/v1/instance": False,
        "/api/oembed": False,
        "/home": True,
        "/@alice": True,
        "/oauth/authorize": True,
    }
