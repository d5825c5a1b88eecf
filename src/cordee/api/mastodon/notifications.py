"""``/api/v1/notifications``: list (with type filters), show, clear, dismiss."""

from __future__ import annotations

from sqlalchemy import select
from starlette.responses import Response
from starlette.routing import Route

from cordee.actions import notifications as notification_actions
from cordee.api.mastodon.base import Ctx, endpoint, json_response
from cordee.api.mastodon.errors import ApiError
from cordee.api.mastodon.pagination import Page, paged_headers
from cordee.api.mastodon.params import parse_id
from cordee.api.mastodon.serializers.notifications import render_notifications
from cordee.db.tables import Notification
from cordee.queries.notification_pages import TYPE_SLOTS, notification_page
from cordee.queries.visibility import notification_shown
from cordee.rendering.notifications import render_hot_notifications

TYPES = frozenset(
    {
        "mention",
        "status",
        "reblog",
        "follow",
        "follow_request",
        "favourite",
        "poll",
        "update",
        "admin.sign_up",
        "admin.report",
        "severed_relationships",
        "moderation_warning",
        "quote",
        "quoted_update",
        # Cordée's tracked searches (docs/tracking.md): clients skip types they do not know.
        "cordee.tracked_search",
        "cordee.tracked_search.spike",
        # A campaign organiser's message to a chapter's attendees (docs/campaigns.md).
        "cordee.campaign_announcement",
    }
)


@endpoint(scope="read:notifications", auth="required")
async def index(ctx: Ctx) -> Response:
    p = ctx.params
    page = Page.from_params(p, default=40, maximum=80)
    types, excluded = p.list("types"), p.list("exclude_types")
    unknown = sorted(set(types + excluded) - TYPES)
    if unknown:
        raise ApiError(422, f"Validation failed: unknown notification type {', '.join(unknown)}")
    account_id = p.str("account_id")
    # Both lists at once, or one account's notifications: the general path.
    if (
        account_id is None
        and not ctx.has_filters
        and not (types and excluded)
        and len(types or excluded) <= TYPE_SLOTS
    ):
        return await _hot_index(ctx, page, tuple(types), tuple(excluded))
    query = select(Notification).where(
        Notification.account_id == ctx.account_id,
        notification_shown(ctx.account_id, Notification.from_account_id),
    )
    if types:
        query = query.where(Notification.type.in_(types))
    if excluded:
        query = query.where(Notification.type.not_in(excluded))
    if account_id is not None:
        query = query.where(Notification.from_account_id == parse_id(account_id))
    async with ctx.db.read() as session:
        rows = page.arrange(list(await session.scalars(page.apply(query, Notification.id))))
        body = await render_notifications(session, ctx.settings, ctx.account_id, rows, "notifications")
    return json_response(
        body, headers=paged_headers(ctx.request, [n.id for n in rows], page, ctx.settings.base_url)
    )


async def _hot_index(ctx: Ctx, page: Page, types: tuple[str, ...], excluded: tuple[str, ...]) -> Response:
    """A page of notifications on the hot path (what every app polls), from a statement built once
    (``queries.notification_pages``): building the rule's statement was most of its CPU."""
    rows = await notification_page(
        ctx.db.hot_replica,
        ctx.account_id,
        page.max_id,
        page.above,
        page.limit,
        types=types,
        excluded=excluded,
        oldest_first=page.min_id is not None,
    )
    body = await render_hot_notifications(ctx.db, ctx.settings, ctx.account_id, rows)
    return json_response(
        body, headers=paged_headers(ctx.request, [n.id for n in rows], page, ctx.settings.base_url)
    )


@endpoint(scope="read:notifications", auth="required")
async def show(ctx: Ctx) -> Response:
    async with ctx.db.read() as session:
        notification = await session.scalar(
            select(Notification).where(
                Notification.id == ctx.path_id(),
                Notification.account_id == ctx.account_id,
                notification_shown(ctx.account_id, Notification.from_account_id),
            )
        )
        # Left out as well when the viewer may no longer see the note it names: 404 either way.
        bodies = (
            await render_notifications(session, ctx.settings, ctx.account_id, [notification])
            if notification
            else []
        )
        if not bodies:
            raise ApiError(404, "Record not found")
    return json_response(bodies[0])


@endpoint(scope="write:notifications", auth="required")
async def clear(ctx: Ctx) -> Response:
    await notification_actions.clear_notifications(ctx.db, ctx.account_id)
    return json_response({})


@endpoint(scope="write:notifications", auth="required")
async def dismiss(ctx: Ctx) -> Response:
    await notification_actions.dismiss_notification(ctx.db, ctx.account_id, ctx.path_id())
    return json_response({})


routes = [
    Route("/api/v1/notifications", index, methods=["GET"]),
    Route("/api/v1/notifications/clear", clear, methods=["POST"]),
    Route("/api/v1/notifications/{id}", show, methods=["GET"]),
    Route("/api/v1/notifications/{id}/dismiss", dismiss, methods=["POST"]),
]
