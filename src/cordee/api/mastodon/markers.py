"""``/api/v1/markers``: where the person stopped reading home and notifications."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from cordee.actions.markers import TIMELINES, save_markers
from cordee.api.mastodon.base import Ctx, endpoint, json_response
from cordee.api.mastodon.errors import ApiError
from cordee.api.mastodon.params import id_or_none
from cordee.api.mastodon.serializers.common import iso
from cordee.queries.personal import markers_of


def _render(markers: list[tuple[Any, ...]]) -> dict[str, Any]:
    return {
        timeline: {"last_read_id": str(last_read_id), "version": version, "updated_at": iso(updated_at)}
        for timeline, last_read_id, version, updated_at in markers
    }


def _last_read_id(ctx: Ctx, timeline: str) -> int | None:
    """``home[last_read_id]=…`` in a form or query, or ``{"home": {"last_read_id": …}}`` in JSON."""
    value = ctx.params.raw(f"{timeline}[last_read_id]")
    nested = ctx.params.raw(timeline)
    if value is None and isinstance(nested, dict):
        value = nested.get("last_read_id")
    if value is None:
        return None
    number = None if isinstance(value, bool) else id_or_none(str(value))
    if number is None:
        raise ApiError(422, f"Validation failed: {timeline}[last_read_id] must be an id")
    return number


@endpoint(scope="read:statuses", auth="required")
async def index(ctx: Ctx) -> Response:
    wanted = [t for t in ctx.params.list("timeline") if t in TIMELINES]
    return json_response(_render(await markers_of(ctx.db.hot, ctx.account_id, wanted)))


@endpoint(scope="write:statuses", auth="required")
async def save(ctx: Ctx) -> Response:
    positions = {t: i for t in TIMELINES if (i := _last_read_id(ctx, t)) is not None}
    await save_markers(ctx.db, ctx.account_id, positions)
    return json_response(_render(await markers_of(ctx.db.hot, ctx.account_id, list(positions))))


routes = [
    Route("/api/v1/markers", index, methods=["GET"]),
    Route("/api/v1/markers", save, methods=["POST"]),
]
