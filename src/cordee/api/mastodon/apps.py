"""``/api/v1/apps``: registering OAuth clients, and checking an app's own token."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from cordee.actions import oauth as oauth_actions
from cordee.actions.push import server_keys
from cordee.api.mastodon.base import Ctx, endpoint, json_response
from cordee.db.tables import Application


def render_application(app: Application, *, with_secret: bool, vapid_key: str) -> dict[str, Any]:
    uris = app.redirect_uris.split("\n")
    entity: dict[str, Any] = {
        "id": str(app.id),
        "name": app.name,
        "website": app.website,
        "scopes": app.scopes.split(),
        "redirect_uri": "\n".join(uris),
        "redirect_uris": uris,
        "vapid_key": vapid_key,
    }
    if with_secret:
        entity.update(client_id=app.client_id, client_secret=app.client_secret, client_secret_expires_at=0)
    return entity


@endpoint(auth="none")
async def create_app(ctx: Ctx) -> Response:
    p = ctx.params
    name = p.str("client_name", max_length=200) or ""
    uris = p.list("redirect_uris")
    # A single string may hold several URIs separated by newlines (Mastodon's older form).
    uris = [u for raw in uris for u in raw.splitlines()]
    app = await oauth_actions.create_application(ctx.db, name, uris, p.str("scopes"), p.str("website"))
    vapid_key = (await server_keys(ctx.db, ctx.settings)).public_key
    return json_response(render_application(app, with_secret=True, vapid_key=vapid_key))


@endpoint(auth="app")
async def verify_app_credentials(ctx: Ctx) -> Response:
    assert ctx.caller is not None
    vapid_key = (await server_keys(ctx.db, ctx.settings)).public_key
    return json_response(render_application(await ctx.application(), with_secret=False, vapid_key=vapid_key))


routes = [
    Route("/api/v1/apps", create_app, methods=["POST"]),
    Route("/api/v1/apps/verify_credentials", verify_app_credentials, methods=["GET"]),
]
