"""What every API endpoint shares: the request context (database, settings, parameters, the
caller's token) and the ``endpoint`` decorator that authenticates and checks scopes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, Literal

import orjson
from sqlalchemy import bindparam, exists, select
from starlette.requests import Request
from starlette.responses import Response

from cordee.api.mastodon.callers import cache_of
from cordee.api.mastodon.errors import ApiError
from cordee.api.mastodon.params import Params, parse_id
from cordee.config import Settings
from cordee.db.engine import Database
from cordee.db.hot import HotQuery
from cordee.db.tables import AccessToken, Account, Application, User
from cordee.db.tables_curation import Filter
from cordee.db.tables_personal import Preferences
from cordee.domain import scopes as sc
from cordee.queries.personal import POSTING_COLUMNS, POSTING_DEFAULTS, posting_defaults_of
from cordee.ratelimit import Limiter, Verdict, ip_key

AuthMode = Literal["required", "optional", "app", "none"]


@dataclass(frozen=True)
class Caller:
    """Who is calling: the token, its scopes, and (for user tokens) the user and account — ids
    and the flags every request checks; endpoints that need more load it (``Ctx.user``…)."""

    token_id: int
    application_id: int
    scopes: frozenset[str]
    user_id: int | None
    account_id: int | None
    disabled: bool = False
    approved: bool = True
    #: Whether the account has filters (expired ones too): timelines apply them on the general path.
    has_filters: bool = False
    #: Whether the user confirmed their e-mail address (always, for app-only tokens).
    confirmed: bool = True
    #: What the account's new notes take when they say nothing (``queries.personal``): read with
    #: the token, so that a post asks no more (kept with the caller: ``callers.py``).
    posting_defaults: tuple[str, bool, str | None] = POSTING_DEFAULTS


@dataclass
class Ctx:
    request: Request
    db: Database
    settings: Settings
    params: Params
    caller: Caller | None

    @property
    def account_id(self) -> int:
        """The signed-in account (only on endpoints whose auth mode is ``required``)."""
        assert self.caller is not None and self.caller.account_id is not None
        return self.caller.account_id

    @property
    def has_filters(self) -> bool:
        return bool(self.caller and self.caller.has_filters)

    @property
    def viewer_id(self) -> int | None:
        """The account reading, or None for anonymous and app-only callers."""
        return self.caller.account_id if self.caller else None

    async def account(self) -> Account:
        """The signed-in account's row."""
        async with self.db.read() as session:
            account = await session.get(Account, self.account_id)
        assert account is not None
        return account

    async def user(self) -> User:
        """The signed-in user's row."""
        assert self.caller is not None and self.caller.user_id is not None
        async with self.db.read() as session:
            user = await session.get(User, self.caller.user_id)
        assert user is not None
        return user

    async def application(self) -> Application:
        """The calling token's application."""
        assert self.caller is not None
        async with self.db.read() as session:
            app = await session.get(Application, self.caller.application_id)
        assert app is not None
        return app

    def path_id(self, name: str = "id") -> int:
        return parse_id(str(self.request.path_params[name]))


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return request.query_params.get("access_token") or None


_CALLER = HotQuery(
    select(
        AccessToken.id,
        AccessToken.application_id,
        AccessToken.scopes,
        User.id,
        User.account_id,
        User.disabled,
        User.approved,
        exists().where(Filter.account_id == User.account_id),
        User.email_confirmed_at.is_not(None),
        *POSTING_COLUMNS,
    )
    .outerjoin(User, User.id == AccessToken.user_id)
    .outerjoin(Preferences, Preferences.account_id == User.account_id)
    .where(AccessToken.token == bindparam("token"), AccessToken.revoked_at.is_(None))
)


async def resolve_caller(db: Database, token: str) -> Caller | None:
    """The live, unrevoked token's caller: kept from an earlier request while nothing it depends
    on changed (``callers.py``), else one indexed lookup on the hot read path."""
    cache = cache_of(db)
    await db.catch_up()  # other processes' writes (a revoked token): see db/change_log.py
    if cache is None:
        return await _look_up(db, token)
    return await cache.caller(token, lambda t: _look_up(db, t))


async def _look_up(db: Database, token: str) -> Caller | None:
    rows = await db.hot.rows(_CALLER, token=token)
    if not rows:
        return None
    token_id, app_id, scopes, user_id, account_id, disabled, approved, filters, confirmed = rows[0][:9]
    return Caller(
        token_id,
        app_id,
        frozenset(scopes.split()),
        user_id,
        account_id,
        bool(disabled) if user_id is not None else False,
        bool(approved) if user_id is not None else True,
        bool(filters),
        bool(confirmed) if user_id is not None else True,
        posting_defaults_of(*rows[0][9:]),
    )


def unconfirmed_ok(handler: Handler) -> Handler:
    """Mark a handler a user whose e-mail address is not confirmed yet may call (as Mastodon lets
    the resend-confirmation endpoint be called); put it under ``@endpoint``."""
    handler.allow_unconfirmed = True  # type: ignore[attr-defined]
    return handler


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json", headers=headers)


Handler = Callable[[Ctx], Awaitable[Response]]


def endpoint(
    scope: str | None = None, auth: AuthMode = "required", limit: str | None = None
) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Wrap a handler: parse parameters, resolve the token, count the request against the API
    rate limits (per token and user, or per address), enforce sign-in and ``scope``, then count
    it against ``limit`` (a name of ``cordee.ratelimit.RULES``, per user or else per address).

    ``required``: a user token is needed. ``optional``: anonymous works, a token adds the viewer.
    ``app``: any valid token (app-only included). ``none``: the token is not looked at.
    """

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        @wraps(handler)
        async def run(request: Request) -> Response:
            db: Database = request.app.state.db
            limiter: Limiter = request.app.state.limiter
            caller: Caller | None = None
            quota: Verdict | None = None
            #: The endpoint's own limit, counted with the API's in one round trip: ``limit_counted``.
            own: Verdict | None = None
            limit_counted = False
            if auth != "none":
                # What the request reads reflects every write answered before it arrived, whichever
                # process answered it (``db/change_log.py``; nothing to do in one process).
                await db.catch_up()
                token = bearer_token(request)
                if token is not None:
                    caller = await resolve_caller(db, token)
                if limiter.enabled:  # before any refusal: a bad token counts against its address
                    quota, own = await limiter.api(
                        request.scope,
                        caller.token_id if caller else None,
                        caller.user_id if caller else None,
                        limit,
                    )
                    limit_counted = True
                if token is not None and caller is None:
                    raise ApiError(401, "The access token is invalid")
                if caller is None and auth in ("required", "app"):
                    raise ApiError(401, "The access token is invalid")
                if caller is not None:
                    if auth == "required" and caller.user_id is None:
                        raise ApiError(422, "This method requires an authenticated user")
                    if (
                        auth == "required"
                        and not caller.confirmed
                        and request.app.state.settings.email_confirmation_required
                        and not getattr(handler, "allow_unconfirmed", False)
                    ):
                        raise ApiError(403, "Your login is missing a confirmed e-mail address")
                    if caller.disabled:
                        raise ApiError(403, "Your login is currently disabled")
                    if not caller.approved:
                        raise ApiError(403, "Your login is currently pending approval")
                    if scope is not None and not sc.grants(caller.scopes, scope):
                        raise ApiError(403, "This action is outside the authorized scopes")
            elif limiter.enabled and request.scope["path"].startswith("/api/"):
                quota, own = await limiter.api(request.scope, None, None, limit)
                limit_counted = True
            if own is not None:
                own.enforce()  # once the request passed its other checks
            elif limit is not None and limiter.enabled and not limit_counted:
                user_id = caller.user_id if caller else None
                await limiter.enforce(
                    limit, user_id if user_id is not None else ip_key(limiter.ip(request.scope))
                )
            params = await Params.from_request(request)
            try:
                response = await handler(Ctx(request, db, request.app.state.settings, params, caller))
                if quota is not None:
                    response.headers.update(quota.headers())
                return response
            finally:
                await params.close()  # uploads the handler refused or did not use (avatar, thumbnail)

        return run

    return wrap
