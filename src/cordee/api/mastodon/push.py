"""``/api/v1/push/subscription``: the Web Push subscription of the calling token (Mastodon's
``WebPushSubscription`` entity; delivery is ``jobs/push.py``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.responses import Response
from starlette.routing import Route

from cordee.actions import push as push_actions
from cordee.actions.push import ALERT_TYPES, SubscriptionInput
from cordee.api.mastodon.base import Ctx, endpoint, json_response
from cordee.api.mastodon.errors import ApiError
from cordee.api.mastodon.params import FALSE
from cordee.db.tables_push import PushSubscription


def _dig(ctx: Ctx, *path: str) -> Any:
    """``a[b][c]`` from a form or query, or ``{"a": {"b": {"c": …}}}`` from JSON."""
    flat = ctx.params.raw(path[0] + "".join(f"[{p}]" for p in path[1:]))
    if flat is not None:
        return flat
    value: Any = ctx.params.raw(path[0])
    for part in path[1:]:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _text(ctx: Ctx, *path: str) -> str:
    value = _dig(ctx, *path)
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        name = path[0] + "".join(f"[{p}]" for p in path[1:])
        raise ApiError(422, f"Validation failed: {name} must be text")
    return str(value).strip()[:4096]


def _truthy(value: Any) -> bool:
    """Rails' boolean cast, as Mastodon applies it to the alerts."""
    return value if isinstance(value, bool) else str(value).strip().lower() not in FALSE


def _data(ctx: Ctx) -> dict[str, Any]:
    alerts = {t: _truthy(v) for t in ALERT_TYPES if (v := _dig(ctx, "data", "alerts", t)) is not None}
    policy = _dig(ctx, "data", "policy")
    return push_actions.clean_data(alerts, None if policy is None else str(policy))


async def _render(ctx: Ctx, subscription: PushSubscription) -> dict[str, Any]:
    """Mastodon's ``REST::WebPushSubscriptionSerializer``."""
    keys = await push_actions.server_keys(ctx.db, ctx.settings)
    data = subscription.data or {}
    return {
        "id": str(subscription.id),
        "endpoint": subscription.endpoint,
        "standard": subscription.standard,
        "alerts": {k: bool(v) for k, v in (data.get("alerts") or {}).items()},
        "server_key": keys.public_key,
        "policy": data.get("policy") or "all",
    }


def _token_id(ctx: Ctx) -> int:
    assert ctx.caller is not None
    return ctx.caller.token_id


async def _current(ctx: Ctx) -> PushSubscription:
    async with ctx.db.read() as session:
        found = await session.scalar(
            select(PushSubscription).where(PushSubscription.access_token_id == _token_id(ctx))
        )
    if found is None:
        raise ApiError(404, "Record not found")
    return found


@endpoint(scope="push", auth="required")
async def show(ctx: Ctx) -> Response:
    return json_response(await _render(ctx, await _current(ctx)))


@endpoint(scope="push", auth="required")
async def create(ctx: Ctx) -> Response:
    if _dig(ctx, "subscription") is None and not any(
        k in ctx.params for k in ("subscription[endpoint]", "subscription[keys][p256dh]")
    ):
        raise ApiError(400, "param is missing or the value is empty: subscription")
    given = SubscriptionInput(
        endpoint=_text(ctx, "subscription", "endpoint"),
        p256dh=_text(ctx, "subscription", "keys", "p256dh"),
        auth=_text(ctx, "subscription", "keys", "auth"),
        standard=_truthy(_dig(ctx, "subscription", "standard") or False),
    )
    subscription = await push_actions.subscribe(ctx.db, _token_id(ctx), ctx.account_id, given, _data(ctx))
    return json_response(await _render(ctx, subscription))


@endpoint(scope="push", auth="required")
async def change(ctx: Ctx) -> Response:
    await _current(ctx)
    subscription = await push_actions.change_data(ctx.db, _token_id(ctx), _data(ctx))
    if subscription is None:
        raise ApiError(404, "Record not found")
    return json_response(await _render(ctx, subscription))


@endpoint(scope="push", auth="required")
async def remove(ctx: Ctx) -> Response:
    await push_actions.unsubscribe(ctx.db, _token_id(ctx))
    return json_response({})


routes = [
    Route("/api/v1/push/subscription", show, methods=["GET"]),
    Route("/api/v1/push/subscription", create, methods=["POST"]),
    Route("/api/v1/push/subscription", change, methods=["PUT"]),
    Route("/api/v1/push/subscription", remove, methods=["DELETE"]),
]
