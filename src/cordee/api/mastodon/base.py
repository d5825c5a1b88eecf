"""What every API endpoint shares: the request context (database, settings, parameters, the
caller's token) and the ``endpoint`` decorator that authenticates and checks scopes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, Literal

import orjson
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from cordee.api.mastodon.errors import ApiError
from cordee.api.mastodon.params import Params, parse_id
from cordee.config import Settings
from cordee.db.engine import Database
from cordee.db.tables import AccessToken, Account, Application, User
from cordee.domain import scopes as sc

AuthMode = Literal["required", "optional", "app", "none"]


@dataclass(frozen=True)
class Caller:
    """Who is calling: the token, its scopes, and (for user tokens) the user and account."""

    token_id: int
    application: Application
    scopes: frozenset[str]
    user: User | None
    account: Account | None


@dataclass
class Ctx:
    request: Request
    db: Database
    settings: Settings
    params: Params
    caller: Caller | None

    @property
    def account(self) -> Account:
        """The signed-in account (only on endpoints whose auth mode is ``required``)."""
        assert self.caller is not None and self.caller.account is not None
        return self.caller.account

    @property
    def account_id(self) -> int:
        return self.account.id

    @property
    def viewer_id(self) -> int | None:
        """The account reading, or None for anonymous and app-only callers."""
        return self.caller.account.id if self.caller and self.caller.account else None

    def path_id(self, name: str = "id") -> int:
        return parse_id(str(self.request.path_params[name]))


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return request.query_params.get("access_token") or None


async def resolve_caller(db: Database, token: str) -> Caller | None:
    async with db.read() as session:
        row = (
            await session.execute(
                select(AccessToken, Application, User, Account)
                .join(Application, Application.id == AccessToken.application_id)
                .outerjoin(User, User.id == AccessToken.user_id)
                .outerjoin(Account, Account.id == User.account_id)
                .where(AccessToken.token == token, AccessToken.revoked_at.is_(None))
            )
        ).first()
    if row is None:
        return None
    access, app, user, account = row
    return Caller(access.id, app, frozenset(access.scopes.split()), user, account)


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json", headers=headers)


Handler = Callable[[Ctx], Awaitable[Response]]


def endpoint(
    scope: str | None = None, auth: AuthMode = "required"
) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Wrap a handler: parse parameters, resolve the token, enforce sign-in and ``scope``.

    ``required``: a user token is needed. ``optional``: anonymous works, a token adds the viewer.
    ``app``: any valid token (app-only included). ``none``: the token is not looked at.
    """

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        @wraps(handler)
        async def run(request: Request) -> Response:
            db: Database = request.app.state.db
            caller: Caller | None = None
            if auth != "none":
                token = bearer_token(request)
                if token is not None:
                    caller = await resolve_caller(db, token)
                    if caller is None:
                        raise ApiError(401, "The access token is invalid")
                if caller is None and auth in ("required", "app"):
                    raise ApiError(401, "The access token is invalid")
                if caller is not None:
                    if auth == "required" and caller.user is None:
                        raise ApiError(422, "This method requires an authenticated user")
                    if caller.user is not None and caller.user.disabled:
                        raise ApiError(403, "Your login is currently disabled")
                    if caller.user is not None and not caller.user.approved:
                        raise ApiError(403, "Your login is currently pending approval")
                    if scope is not None and not sc.grants(caller.scopes, scope):
                        raise ApiError(403, "This action is outside the authorized scopes")
            params = await Params.from_request(request)
            return await handler(Ctx(request, db, request.app.state.settings, params, caller))

        return run

    return wrap
