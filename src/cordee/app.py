"""Builds the ASGI application: routes, error handlers, and the lifespan that opens the database."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from cordee.actions.errors import ActionError
from cordee.actions.oauth import OAuthError
from cordee.api.mastodon import routes as mastodon_routes
from cordee.api.mastodon.errors import ApiError, error_response
from cordee.config import Settings
from cordee.db.change_log import arrival
from cordee.db.engine import Database
from cordee.db.id_workers import WorkerLease
from cordee.db.migrate import upgrade_async
from cordee.http_limits import BodyLimit
from cordee.jobs.runner import Runner
from cordee.media import storage as media_storage
from cordee.media.workers import ImageWorkers
from cordee.queries import trends
from cordee.ratelimit import Limiter, RateLimited
from cordee.routing import IndexedRouter
from cordee.streaming import endpoints as streaming_endpoints
from cordee.streaming.realtime import Realtime
from cordee.web import routes as web_routes
from cordee.web.cors import Cors
from cordee.web.headers import SecurityHeaders
from cordee.web.page_sessions import PageSessions
from cordee.web.rate_limited import rate_limited_page
from cordee.web.render import gettext, render

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "web" / "static"


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.message, **exc.extra)


async def _action_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ActionError)
    details = getattr(exc, "details", None)
    if not details:
        return error_response(exc.status, exc.message)
    # Registration errors carry Mastodon's per-field ``details``.
    per_field = {f: [{"error": code, "description": msg}] for f, (code, msg) in details.items()}
    return error_response(exc.status, exc.message, details=per_field)


async def _oauth_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OAuthError)
    headers = {"WWW-Authenticate": 'Basic realm="cordee"'} if exc.status == 401 else None
    return error_response(exc.status, exc.error, headers=headers, error_description=exc.description)


def _is_api(request: Request) -> bool:
    path = request.url.path
    return path.startswith(("/api/", "/oauth/token", "/oauth/revoke", "/.well-known/"))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if not _is_api(request):
        if exc.status_code == 404:
            title = gettext(request, "Page not found")
            message = gettext(request, "The page you asked for does not exist.")
        else:
            title = message = str(exc.detail)
        return await render(request, "error.html", exc.status_code, title=title, message=message)
    if exc.status_code == 404:
        message = "Record not found"
    elif exc.status_code == 405:
        message = "This method is not supported on this endpoint"
    else:
        message = str(exc.detail)
    return error_response(exc.status_code, message, headers=getattr(exc, "headers", None))


async def _rate_limited(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RateLimited)
    headers = exc.verdict.headers()
    if not _is_api(request):
        return await rate_limited_page(request, headers)
    return error_response(429, "Too many requests", headers=headers)


async def _client_gone(request: Request, exc: Exception) -> Response:
    """The client closed the connection before its request's body arrived (a load generator
    stopping, a phone losing its network): nothing was done, nobody reads an answer, and it is no
    server error to log. 499, as nginx logs a request its client closed."""
    return Response(status_code=499)


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "An internal error occurred; it has been logged")


class _Arrival:
    """Notes when each HTTP request arrived (``db/change_log.arrival``): the writes other processes
    answered before then are applied once, whichever caches the request reads. (Not for WebSocket
    connections: they last, and each of their reads must catch up at its own moment.)"""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        token = arrival.set(time.monotonic())
        try:
            await self._app(scope, receive, send)
        finally:
            arrival.reset(token)


class _App(Starlette):
    def __init__(self, *, routes: list[BaseRoute], lifespan: Any, **kwargs: Any) -> None:
        super().__init__(routes=routes, lifespan=lifespan, **kwargs)
        # The same routes, tried only where a path can match them (``cordee/routing.py``).
        self.router = IndexedRouter(routes, lifespan=lifespan)

    def build_middleware_stack(self) -> ASGIApp:
        # The security headers go outermost, outside Starlette's error middleware, so that every
        # answer carries them, a 500 included.
        # CORS just inside them: a preflight is answered before any other work, and the API's
        # errors (a 413, a 429, a 500) are readable by the browser apps that caused them.
        settings: Settings = self.state.settings
        inner = super().build_middleware_stack()
        if settings.redis_url:  # several processes: what their change log needs (one process: nothing)
            inner = _Arrival(inner)
        return SecurityHeaders(Cors(inner), https=settings.base_url.startswith("https://"))


def build_app(
    settings: Settings, *, database: Database | None = None, migrate: bool = True, run_jobs: bool = True
) -> Starlette:
    """The whole server. ``database`` lets tests inject one (and step background work themselves
    with ``cordee.jobs.runner.run_due``); otherwise one is opened from settings."""
    settings = settings.with_secret()
    realtime = Realtime(settings)
    images = ImageWorkers(settings)
    limiter = Limiter(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        db = database
        if db is None:
            if migrate:
                settings.data_dir.mkdir(parents=True, exist_ok=True)
                await upgrade_async(settings.effective_database_url)
            db = Database(
                settings.effective_database_url,
                bus=realtime.bus,
                change_log=realtime.change_log,
                replica_url=settings.database_replica_url or None,
                pool_size=settings.database_pool_size,
            )
        app.state.db = db
        lease = WorkerLease(db)  # this process's snowflake worker number (cordee.ids)
        await lease.start()
        await realtime.start(app, db)
        await db.watch_outside_writes()  # the CLI's writes to the same SQLite file, seen at once
        runner = Runner(db, settings) if run_jobs else None
        if runner is not None:
            runner.start()
        try:
            yield
        finally:
            if runner is not None:
                await runner.stop()
            await realtime.stop(db)
            await images.close()
            await limiter.close()
            await lease.stop()
            if database is None:
                await db.dispose()

    routes: list[BaseRoute] = [
        *mastodon_routes.routes(),
        *web_routes.routes(),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        *media_storage.routes(settings),
        *streaming_endpoints.routes(),
        Route(
            "/api/{rest:path}", mastodon_routes.unsupported, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]
        ),
    ]
    app = _App(
        routes=routes,
        middleware=[
            Middleware(
                BodyLimit,
                max_body_size=settings.max_body_size,
                image_size_limit=settings.image_size_limit,
                video_size_limit=settings.video_size_limit,
            ),
            Middleware(
                PageSessions,
                secret_key=settings.secret_key,
                session_cookie="cordee_session",
                same_site="lax",
                https_only=settings.base_url.startswith("https://"),
            ),
        ],
        exception_handlers={
            ApiError: _api_error,
            ActionError: _action_error,
            OAuthError: _oauth_error,
            RateLimited: _rate_limited,
            ClientDisconnect: _client_gone,
            HTTPException: _http_error,
            Exception: _server_error,
        },
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.images = images
    app.state.limiter = limiter
    app.state.trends = trends.Kept()  # trending tags and links computed lately (queries/trends.py)
    if database is not None:
        app.state.db = database
        realtime.attach(app, database)
    return app


def tune_gc(settings: Settings) -> None:
    """The server process's garbage collector, once the app is built (``Settings.gc_threshold``)."""
    if settings.gc_threshold:
        # Everything imported and built so far lives as long as the process: keep it out of every
        # future collection, and collect the young generation less often.
        gc.collect()
        gc.freeze()
        gc.set_threshold(*settings.gc_threshold)
