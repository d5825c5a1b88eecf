"""``/oauth/authorize``: the page where a person signs in and lets an application use their account.

Errors follow RFC 6749 §4.1.2.1: while the client or its redirect URI is in doubt, the person sees
an error page and is never sent anywhere; once the redirect URI is known to be registered (and safe:
an app stored before ``domain/redirect_uris.py`` refused ``javascript:`` is checked again here),
other errors go back to the application (``?error=...&state=...``), except for the out-of-band URI.
Pages whose forms lead to the application name it in their Content-Security-Policy's form-action.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from cordee.actions import oauth as oauth_actions
from cordee.actions.oauth import OOB_URI, OAuthError
from cordee.db.tables import Application
from cordee.domain import scopes as sc
from cordee.domain.redirect_uris import form_action_source, valid_redirect_uri
from cordee.web.headers import page_policy
from cordee.web.i18n import N_
from cordee.web.pages import EXPIRED, user_problem
from cordee.web.render import PAGE_HEADERS, SignedIn, csrf_ok, current_user, db_of, gettext, render

RESPONSE_MODES = ("query", "fragment", "form_post")
CHALLENGE_RE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")  # RFC 7636 §4.2
FORWARDED = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "response_mode",
)
TOP_SCOPES = {
    "read": N_("Read all your account's data"),
    "write": N_("Change all your account's data"),
    "follow": N_("Manage your follows, blocks and mutes"),
    "push": N_("Receive your push notifications"),
    "profile": N_("Read only your basic profile information"),
    "admin:read": N_("Read all data on the server (administration)"),
    "admin:write": N_("Change all data on the server (administration)"),
}
RESOURCES = {
    "accounts": N_("account information"),
    "blocks": N_("blocks"),
    "bookmarks": N_("bookmarks"),
    "conversations": N_("conversations"),
    "favourites": N_("favourites"),
    "filters": N_("filters"),
    "follows": N_("follows"),
    "lists": N_("lists"),
    "media": N_("media uploads"),
    "mutes": N_("mutes"),
    "notifications": N_("notifications"),
    "reports": N_("reports"),
    "search": N_("searches"),
    "statuses": N_("posts"),
}
READ_ONE = N_("Read your %(what)s")
WRITE_ONE = N_("Change your %(what)s")


class PageError(Exception):
    """Shown to the person, never sent to the application."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


@dataclass(frozen=True)
class AuthRequest:
    app: Application
    redirect_uri: str
    scopes: frozenset[str]
    state: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    response_mode: str

    @property
    def fields(self) -> dict[str, str]:
        """What the consent form sends back, checked again on submission."""
        values = {
            "response_type": "code",
            "client_id": self.app.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": sc.to_string(self.scopes),
            "state": self.state,
            "code_challenge": self.code_challenge,
            "code_challenge_method": self.code_challenge_method,
            "response_mode": self.response_mode,
        }
        return {k: v for k, v in values.items() if v is not None}


class ClientError(Exception):
    """An error to report to the application through its (verified) redirect URI."""

    def __init__(self, req: AuthRequest, error: str, description: str) -> None:
        super().__init__(description)
        self.req, self.error, self.description = req, error, description


async def parse(request: Request, values: Mapping[str, str]) -> AuthRequest:
    app = await oauth_actions.find_application(db_of(request), values.get("client_id", ""))
    if app is None:
        raise PageError(
            400,
            N_("Unknown application"),
            N_(
                "The application that sent you here is not registered on this server. "
                "Go back to it and try again, or contact its developer."
            ),
        )
    registered = app.redirect_uris.split("\n")
    uri = values.get("redirect_uri") or (registered[0] if len(registered) == 1 else "")
    if uri not in registered or not valid_redirect_uri(uri):
        raise PageError(
            400,
            N_("Invalid return address"),
            N_(
                "This application asked to send you back to an address it did not register. "
                "For your safety, you have not been sent there."
            ),
        )
    mode = values.get("response_mode") or "query"
    req = AuthRequest(
        app,
        uri,
        frozenset(),
        values.get("state") or None,
        None,
        None,
        mode if mode in RESPONSE_MODES else "query",
    )
    if mode not in RESPONSE_MODES:
        raise ClientError(req, "invalid_request", "The response_mode is not supported.")
    if values.get("response_type") != "code":
        raise ClientError(
            req, "unsupported_response_type", "The authorization server does not support this response type."
        )
    try:
        scopes = oauth_actions.requested_scopes(app, values.get("scope"))
    except OAuthError as e:
        raise ClientError(req, e.error, e.description) from None
    challenge = values.get("code_challenge") or None
    method = (values.get("code_challenge_method") or None) if challenge else None
    # S256 only, the one method advertised: no method would mean ``plain`` (RFC 7636 §4.3), which
    # protects nothing once the code is seen, so it is refused rather than assumed.
    if challenge is not None and (method != "S256" or not CHALLENGE_RE.match(challenge)):
        raise ClientError(
            req, "invalid_request", "The code_challenge is invalid or its code_challenge_method is not S256."
        )
    return AuthRequest(app, uri, scopes, req.state, challenge, method, req.response_mode)


def scope_labels(request: Request, scopes: frozenset[str]) -> list[tuple[str, str]]:
    labels = []
    for scope in sc.to_string(scopes).split():
        top, _, resource = scope.partition(":")
        if scope in TOP_SCOPES:
            text = gettext(request, TOP_SCOPES[scope])
        elif top in ("read", "write") and resource in RESOURCES:
            what = gettext(request, RESOURCES[resource])
            text = gettext(request, READ_ONE if top == "read" else WRITE_ONE) % {"what": what}
        else:
            text = scope
        labels.append((scope, text))
    return labels


def posting_to(response: Response, redirect_uri: str) -> Response:
    """Let the page's forms (and the redirects that answer them) reach the app's address."""
    source = form_action_source(redirect_uri)
    response.headers["Content-Security-Policy"] = page_policy(*([source] if source else []))
    return response


async def back_to_client(request: Request, req: AuthRequest, params: dict[str, str]) -> Response:
    if req.state is not None:
        params["state"] = req.state
    if req.response_mode == "form_post":
        page = await render(request, "form_post.html", app=req.app, action=req.redirect_uri, params=params)
        return posting_to(page, req.redirect_uri)
    query = urlencode(params)
    if req.response_mode == "fragment":
        url = f"{req.redirect_uri}#{query}"
    else:
        url = f"{req.redirect_uri}{'&' if '?' in req.redirect_uri else '?'}{query}"
    return RedirectResponse(url, status_code=302, headers=PAGE_HEADERS)


async def _problem(request: Request, error: PageError | ClientError) -> Response:
    if isinstance(error, PageError):
        return await render(
            request,
            "error.html",
            error.status,
            title=gettext(request, error.title),
            message=gettext(request, error.message),
        )
    if error.req.redirect_uri == OOB_URI:
        return await render(
            request,
            "error.html",
            400,
            title=gettext(request, N_("Authorization failed")),
            message=f"{error.error}: {error.description}",
        )
    return await back_to_client(
        request, error.req, {"error": error.error, "error_description": error.description}
    )


async def _consent(request: Request, me: SignedIn, req: AuthRequest) -> Response:
    problem = user_problem(request, me.user.approved, me.user.disabled)
    if problem is not None:
        return await render(request, "error.html", 403, me=me, title=None, message=problem)
    page = await render(
        request,
        "authorize.html",
        me=me,
        app=req.app,
        fields=req.fields,
        scopes=scope_labels(request, req.scopes),
    )
    return posting_to(page, req.redirect_uri)


async def authorize_page(request: Request) -> Response:
    try:
        req = await parse(request, request.query_params)
    except (PageError, ClientError) as e:
        return await _problem(request, e)
    me = await current_user(request)
    force = request.query_params.get("force_login", "").lower() in ("1", "true", "on", "yes")
    if me is None or force:
        url = request.url.remove_query_params("force_login")
        return await render(
            request,
            "authorize_sign_in.html",
            me=me,
            app=req.app,
            next=f"{url.path}?{url.query}",
            login="",
            error=None,
        )
    return await _consent(request, me, req)


async def authorize_submit(request: Request) -> Response:
    form = await request.form()
    values = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    if not csrf_ok(request, form):
        return await render(request, "error.html", 400, title=None, message=gettext(request, EXPIRED))
    try:
        req = await parse(request, values)
    except (PageError, ClientError) as e:
        return await _problem(request, e)
    me = await current_user(request)
    if me is None or user_problem(request, me.user.approved, me.user.disabled) is not None:
        query = urlencode({k: v for k, v in values.items() if k in FORWARDED})
        return RedirectResponse(f"/oauth/authorize?{query}", status_code=303, headers=PAGE_HEADERS)
    if values.get("decision") != "authorize":
        if req.redirect_uri == OOB_URI:
            return await render(
                request,
                "error.html",
                200,
                me=me,
                title=gettext(request, N_("Access denied")),
                message=gettext(request, N_("You did not authorize this application.")),
            )
        return await back_to_client(
            request,
            req,
            {
                "error": "access_denied",
                "error_description": "The resource owner or authorization server denied the request.",
            },
        )
    code = await oauth_actions.create_authorization_code(
        db_of(request),
        req.app,
        me.user.id,
        req.redirect_uri,
        req.scopes,
        req.code_challenge,
        req.code_challenge_method,
    )
    if req.redirect_uri == OOB_URI:
        return await render(request, "oob.html", me=me, app=req.app, code=code)
    return await back_to_client(request, req, {"code": code})
