"""``/api/v1/scheduled_statuses``: notes waiting for their time. They are created by
``POST /api/v1/statuses`` with ``scheduled_at`` (see ``schedule`` below)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from starlette.responses import Response
from starlette.routing import Route

from cordee.actions import scheduled_statuses as actions
from cordee.actions.statuses import NewStatus
from cordee.api.mastodon.base import Ctx, endpoint, json_response
from cordee.api.mastodon.errors import ApiError
from cordee.api.mastodon.pagination import Page, paged_headers
from cordee.api.mastodon.serializers.scheduled_statuses import render_scheduled_statuses
from cordee.db.tables_personal import ScheduledStatus


def parse_scheduled_at(value: str) -> datetime:
    """An ISO 8601 timestamp; without an offset it is taken as UTC (as Mastodon does)."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        # Mastodon's words (PostStatusService raises a bare RecordInvalid), which toot's suite reads.
        raise ApiError(422, "Record invalid") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


async def _render_one(ctx: Ctx, scheduled_id: int) -> Response:
    async with ctx.db.read() as session:
        row = await session.scalar(
            select(ScheduledStatus).where(
                ScheduledStatus.id == scheduled_id, ScheduledStatus.account_id == ctx.account_id
            )
        )
        if row is None:
            raise ApiError(404, "Record not found")
        [body] = await render_scheduled_statuses(session, ctx.settings, [row])
    return json_response(body)


async def schedule(ctx: Ctx, new: NewStatus, scheduled_at: datetime, idempotency_key: str | None) -> Response:
    """``POST /api/v1/statuses`` with ``scheduled_at``: answers a ScheduledStatus, not a Status."""
    assert ctx.caller is not None
    scheduled_id = await actions.schedule_status(
        ctx.db,
        ctx.settings,
        ctx.account_id,
        new,
        scheduled_at,
        application_id=ctx.caller.application_id,
        idempotency_key=idempotency_key,
    )
    return await _render_one(ctx, scheduled_id)


@endpoint(scope="read:statuses", auth="required")
async def index(ctx: Ctx) -> Response:
    page = Page.from_params(ctx.params)
    query = select(ScheduledStatus).where(ScheduledStatus.account_id == ctx.account_id)
    async with ctx.db.read() as session:
        rows = page.arrange(list(await session.scalars(page.apply(query, ScheduledStatus.id))))
        body = await render_scheduled_statuses(session, ctx.settings, rows)
    return json_response(
        body, headers=paged_headers(ctx.request, [r.id for r in rows], page, ctx.settings.base_url)
    )


@endpoint(scope="read:statuses", auth="required")
async def show(ctx: Ctx) -> Response:
    return await _render_one(ctx, ctx.path_id())


@endpoint(scope="write:statuses", auth="required")
async def update(ctx: Ctx) -> Response:
    raw = ctx.params.str("scheduled_at")
    if not raw:
        raise ApiError(422, "Validation failed: scheduled_at is missing")
    scheduled_id = await actions.reschedule(ctx.db, ctx.account_id, ctx.path_id(), parse_scheduled_at(raw))
    return await _render_one(ctx, scheduled_id)


@endpoint(scope="write:statuses", auth="required")
async def delete(ctx: Ctx) -> Response:
    await actions.cancel(ctx.db, ctx.account_id, ctx.path_id())
    return json_response({})


routes = [
    Route("/api/v1/scheduled_statuses", index, methods=["GET"]),
    Route("/api/v1/scheduled_statuses/{id}", show, methods=["GET"]),
    Route("/api/v1/scheduled_statuses/{id}", update, methods=["PUT"]),
    Route("/api/v1/scheduled_statuses/{id}", delete, methods=["DELETE"]),
]
