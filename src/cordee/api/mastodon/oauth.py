"""OAuth 2 endpoints for clients: ``/oauth/token``, ``/oauth/revoke`` and the RFC 8414 metadata.

The browser side (``/oauth/authorize``: sign-in and consent pages) lives in ``cordee.web``. All the
rules are in ``cordee.actions.oauth``; this module only reads the request and shapes the answers.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import unquote_plus

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from cordee.actions import oauth as oauth_actions
from cordee.actions.oauth import IssuedToken, OAuthError
from cordee.api.mastodon.base import Ctx, endpoint, json_response
from cordee.api.mastodon.errors import ApiError
from cordee.api.mastodon.serializers.accounts import render_account
from cordee.client_ip import client_ip
from cordee.db.tables import Application
from cordee.domain import scopes as sc
from cordee.queries.accounts import account_by_id
from cordee.ratelimit import guard_sign_in

GRANT_TYPES = ("authorization_code", "password", "client_credentials", "refresh_token")
# Token answers must never be cached by a proxy or the browser (RFC 6749 §5.1).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """``client_id`` and ``client_secret`` from an HTTP Basic header (RFC 6749 §2.3.1), if any."""
    header = request.headers.get("authorization", "")
    if header[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthError("invalid_client", "The Basic authorization header is malformed.", 401) from None
    client_id, sep, client_secret = decoded.partition(":")
    if not sep:
        raise OAuthError("invalid_client", "The Basic authorization header is malformed.", 401)
    # Both parts are form-urlencoded before being joined, per the RFC.
    return unquote_plus(client_id), unquote_plus(client_secret)


async def _client(ctx: Ctx) -> Application:
    basic = basic_credentials(ctx.request)
    if basic is not None:
        return await oauth_actions.authenticate_client(ctx.db, *basic)
    client_id, client_secret = ctx.params.str("client_id"), ctx.params.str("client_secret")
    return await oauth_actions.authenticate_client(ctx.db, client_id, client_secret)


def _ip(ctx: Ctx) -> str:
    return client_ip(ctx.request.scope, ctx.settings.trusted_proxies)


def render_token(token: IssuedToken) -> dict[str, Any]:
    body: dict[str, Any] = {
        "access_token": token.access_token,
        "token_type": "Bearer",
        "scope": token.scopes,
        "created_at": token.created_at,
    }
    if token.refresh_token is not None:
        body["refresh_token"] = token.refresh_token
    return body


@endpoint(auth="none")
async def token(ctx: Ctx) -> Response:
    p = ctx.params
    grant_type = p.str("grant_type")
    if not grant_type:
        raise OAuthError("invalid_request", "The request is missing a required parameter: grant_type.")
    if grant_type not in GRANT_TYPES:
        raise OAuthError(
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server.",
        )
    app = await _client(ctx)
    ip = _ip(ctx)
    if grant_type == "authorization_code":
        issued = await oauth_actions.exchange_code(
            ctx.db, app, p.str("code"), p.str("redirect_uri"), p.str("code_verifier"), ip=ip
        )
    elif grant_type == "password":
        # Counted before the password is checked: each check is a full Argon2 run.
        await guard_sign_in(ctx.request, p.str("username") or "")
        # Mastodon clients send the e-mail as ``username``; a username works too.
        issued = await oauth_actions.password_grant(
            ctx.db, app, p.str("username"), p.str("password"), p.str("scope"), ip=ip
        )
    elif grant_type == "client_credentials":
        issued = await oauth_actions.client_credentials_grant(ctx.db, app, p.str("scope"), ip=ip)
    else:
        issued = await oauth_actions.refresh(ctx.db, app, p.str("refresh_token"), p.str("scope"), ip=ip)
    return json_response(render_token(issued), headers=NO_STORE)


@endpoint(auth="none")
async def revoke(ctx: Ctx) -> Response:
    app = await _client(ctx)
    await oauth_actions.revoke(ctx.db, app, ctx.params.str("token"), ip=_ip(ctx))
    return json_response({})


@endpoint(scope="profile", auth="required")
async def userinfo(ctx: Ctx) -> Response:
    """OpenID Connect's UserInfo, as Mastodon 4.4 answers it (``OAuthUserinfoSerializer``): who
    signed in, for apps that only need to know that (the ``profile`` scope)."""
    async with ctx.db.read() as session:
        account = await account_by_id(session, ctx.account_id)
    if account is None:
        raise ApiError(404, "Record not found")
    entity = render_account(ctx.settings, account)
    return json_response(
        {
            "iss": ctx.settings.base_url.rstrip("/") + "/",
            "sub": entity["uri"],
            "name": entity["display_name"],
            "preferred_username": account.username,
            "profile": entity["url"],
            "picture": entity["avatar"],
        }
    )


async def server_metadata(request: Request) -> Response:
    base = request.app.state.settings.base_url.rstrip("/")
    scopes = sorted(s for s in sc.ALL_SCOPES if not s.startswith("admin:"))
    return json_response(
        {
            "issuer": f"{base}/",
            "service_documentation": "https://docs.joinmastodon.org/",
            "authorization_endpoint": f"{base}/oauth/authorize",
            "token_endpoint": f"{base}/oauth/token",
            "app_registration_endpoint": f"{base}/api/v1/apps",
            "revocation_endpoint": f"{base}/oauth/revoke",
            "userinfo_endpoint": f"{base}/oauth/userinfo",
            "scopes_supported": sc.to_string(frozenset(scopes)).split(),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query", "fragment", "form_post"],
            "code_challenge_methods_supported": ["S256"],
            "grant_types_supported": list(GRANT_TYPES),
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }
    )


routes: list[BaseRoute] = [
    Route("/oauth/token", token, methods=["POST"]),
    Route("/oauth/revoke", revoke, methods=["POST"]),
    Route("/oauth/userinfo", userinfo, methods=["GET", "POST"]),
    Route("/.well-known/oauth-authorization-server", server_metadata, methods=["GET"]),
]
