"""Every Mastodon API route, gathered from the resource modules."""

from __future__ import annotations

from starlette.routing import BaseRoute, Match
from starlette.types import Receive, Scope, Send

from cordee.api.mastodon import (
    accounts,
    apps,
    bookmarks,
    campaign_messages,
    campaign_raffles,
    campaign_tickets,
    campaigns,
    conversations,
    discovery,
    emails,
    endorsements,
    filters,
    filters_v1,
    instance,
    lists,
    markers,
    media,
    notifications,
    oauth,
    pins,
    polls,
    preferences,
    profile,
    push,
    relationships,
    reports,
    scheduled_statuses,
    search,
    status_edits,
    statuses,
    tags,
    timelines,
    tracked_searches,
)
from cordee.api.mastodon.errors import error_response


def routes() -> list[BaseRoute]:
    return [
        *instance.routes,
        *apps.routes,
        *oauth.routes,
        *accounts.routes,
        *profile.routes,
        *emails.routes,
        *relationships.routes,
        *statuses.routes,
        *timelines.routes,
        *notifications.routes,
        *search.routes,
        *media.routes,
        *polls.routes,
        *status_edits.routes,
        *bookmarks.routes,
        *endorsements.routes,
        *pins.routes,
        *scheduled_statuses.routes,
        *markers.routes,
        *preferences.routes,
        *lists.routes,
        *tags.routes,
        *filters.routes,
        *filters_v1.routes,
        *conversations.routes,
        *discovery.routes,
        *reports.routes,
        *push.routes,
        *campaigns.routes,
        *campaign_tickets.routes,
        *campaign_raffles.routes,
        *campaign_messages.routes,
        *tracked_searches.routes,
    ]


class _Unsupported:
    """Any other ``/api/...`` path: a clear error, never a fake success.

    A path that differs from a real endpoint only by a trailing slash *is* that endpoint: Mastodon
    (Rails) ignores trailing slashes, and clients rely on it (Mastodon.py asks for
    ``/api/v1/instance/``). The request is routed again without the slash, not redirected, so a
    POST keeps its body and the client sees the same answer as Mastodon's.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        router = scope.get("router")
        if router is not None and path.endswith("/") and path.rstrip("/") != "/api":
            stripped = path.rstrip("/")
            retry: Scope = {k: v for k, v in scope.items() if k not in ("route", "endpoint", "path_params")}
            retry["path"] = stripped
            retry["raw_path"] = stripped.encode()
            if any(
                route is not scope.get("route") and route.matches(retry)[0] is not Match.NONE
                for route in router.routes
            ):
                await router.app(retry, receive, send)
                return
        response = error_response(404, f"{scope['method']} {path} is not supported by this Cordée server yet")
        await response(scope, receive, send)


unsupported = _Unsupported()
