"""Starlette's signed-cookie session, only where pages use it.

The session (``request.session``: the language, a flash message, the anonymous CSRF token — see
``render.py``) belongs to the web pages. The API authenticates by bearer token and never reads it
(nor do the streaming endpoints or oEmbed, all under ``/api/``), yet Starlette's middleware parsed
every request's cookies and wrapped its ``send``. Measured in-process, ``GET /api/v1/instance``
(a cached body) cost 17–18 µs of CPU with it and 14–16 without; over HTTP, 42–51 % of the bare
framework's ceiling with it, 58–64 % without. So requests under ``/api/`` go around it.
"""

from __future__ import annotations

from typing import Any

from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send


class PageSessions:
    def __init__(self, app: ASGIApp, /, **options: Any) -> None:
        self._app = app
        self._with_session = SessionMiddleware(app, **options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and scope["path"].startswith("/api/"):
            await self._app(scope, receive, send)
        else:
            await self._with_session(scope, receive, send)
