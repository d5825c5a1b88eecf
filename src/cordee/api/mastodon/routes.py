"""Every Mastodon API route, gathered from the resource modules."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from cordee.api.mastodon import accounts, apps, instance, notifications, oauth, search, statuses, timelines
from cordee.api.mastodon.errors import error_response


def routes() -> list[BaseRoute]:
    return [
        *instance.routes,
        *apps.routes,
        *oauth.routes,
        *accounts.routes,
        *statuses.routes,
        *timelines.routes,
        *notifications.routes,
        *search.routes,
    ]


async def unsupported(request: Request) -> Response:
    """Any other ``/api/...`` path: a clear error, never a fake success."""
    return error_response(404, f"{request.method} {request.url.path} is not supported by this Cordée server yet")
