"""``/api/v1/cordee/tracked_searches``: tracked searches ('veilles'), their columns, alerts and
analytics — a Cordée extension of the Mastodon API (``docs/tracking.md``).

A search someone else owns and did not share answers 404, exactly like one that does not exist;
members of a shared search may read it (column, analytics, exports) but only its owner changes it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from cordee.actions import tracked_searches as actions
from cordee.api.mastodon.base import Ctx, endpoint, json_response
from cordee.api.mastodon.errors import ApiError
from cordee.api.mastodon.pagination import Page, paged_headers
from cordee.api.mastodon.params import parse_id
from cordee.api.mastodon.serializers.accounts import render_account
from cordee.api.mastodon.serializers.common import iso
from cordee.config import Settings
from cordee.db.tables import Status
from cordee.db.tables_tracking import TrackedSearch
from cordee.db.types import utcnow
from cordee.domain.text import normalize_tag
from cordee.queries import tracking as queries
from cordee.queries import tracking_analytics as analytics
from cordee.rendering.statuses import render_statuses
from cordee.rendering.tracking_charts import sentiment_svg, share_svg, volume_svg
from cordee.rendering.tracking_export import export_record, to_csv


def render_search(row: TrackedSearch, viewer_id: int, members: list[int]) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "name": row.name,
        "query": row.query,
        "owner_id": str(row.account_id),
        "owned": row.account_id == viewer_id,
        "position": row.position,
        "member_ids": [str(m) for m in sorted(members)],
        "notify": row.notify,
        "email_digest": row.email_digest,
        "digest_minutes": row.digest_minutes,
        "spike_alert": row.spike_alert,
        "spike_factor": row.spike_factor,
        "spike_window_minutes": row.spike_window_minutes,
        "created_at": iso(row.created_at),
    }


async def _readable(ctx: Ctx, search_id: int) -> TrackedSearch:
    async with ctx.db.read() as session:
        row = await queries.readable(session, ctx.account_id, search_id)
    if row is None:
        raise ApiError(404, "Record not found")
    return row


async def _rendered(ctx: Ctx, search_id: int) -> dict[str, Any]:
    row = await _readable(ctx, search_id)
    async with ctx.db.read() as session:
        members = await queries.members_of(session, [row.id])
    return render_search(row, ctx.account_id, members[row.id])


def _changes(ctx: Ctx) -> actions.Changes:
    p = ctx.params
    factor = p.str("spike_factor")
    try:
        spike_factor = float(factor) if factor not in (None, "") else None
    except ValueError:
        raise ApiError(422, "Validation failed: spike_factor must be a number") from None
    members = [parse_id(i, "member_ids") for i in p.list("member_ids")] if "member_ids" in p else None
    return actions.Changes(
        name=p.str("name", max_length=1000),
        query=p.str("query", max_length=2000),
        notify=p.bool("notify"),
        email_digest=p.bool("email_digest"),
        digest_minutes=p.int("digest_minutes"),
        spike_alert=p.bool("spike_alert"),
        spike_factor=spike_factor,
        spike_window_minutes=p.int("spike_window_minutes"),
        member_ids=members,
    )


@endpoint(scope="read:statuses", auth="required")
async def index(ctx: Ctx) -> Response:
    async with ctx.db.read() as session:
        rows = await queries.searches_of(session, ctx.account_id)
        members = await queries.members_of(session, [r.id for r in rows])
    return json_response([render_search(r, ctx.account_id, members[r.id]) for r in rows])


@endpoint(scope="write:statuses", auth="required")
async def create(ctx: Ctx) -> Response:
    search_id = await actions.create(ctx.db, ctx.settings, ctx.account_id, _changes(ctx))
    return json_response(await _rendered(ctx, search_id))


@endpoint(scope="read:statuses", auth="required")
async def show(ctx: Ctx) -> Response:
    return json_response(await _rendered(ctx, ctx.path_id()))


@endpoint(scope="write:statuses", auth="required")
async def update(ctx: Ctx) -> Response:
    search_id = ctx.path_id()
    await actions.update(ctx.db, ctx.settings, ctx.account_id, search_id, _changes(ctx))
    return json_response(await _rendered(ctx, search_id))


@endpoint(scope="write:statuses", auth="required")
async def destroy(ctx: Ctx) -> Response:
    await actions.delete_search(ctx.db, ctx.account_id, ctx.path_id())
    return json_response({})


@endpoint(scope="write:statuses", auth="required")
async def order(ctx: Ctx) -> Response:
    ids = [parse_id(i) for i in ctx.params.list("ids")]
    if not ids:
        raise ApiError(422, "Validation failed: ids is missing")
    await actions.reorder(ctx.db, ctx.account_id, ids)
    async with ctx.db.read() as session:
        rows = await queries.searches_of(session, ctx.account_id)
        members = await queries.members_of(session, [r.id for r in rows])
    return json_response([render_search(r, ctx.account_id, members[r.id]) for r in rows])


@endpoint(scope="read:statuses", auth="required")
async def statuses(ctx: Ctx) -> Response:
    """The column: matched notes the reader may see, newest first (Mastodon's pagination)."""
    row = await _readable(ctx, ctx.path_id())
    page = Page.from_params(ctx.params)
    async with ctx.db.read() as session:
        rows = page.arrange(
            list(
                await session.scalars(page.apply(queries.matches_query(ctx.account_id, [row.id]), Status.id))
            )
        )
        body = await render_statuses(session, ctx.settings, ctx.account_id, rows)
    return json_response(
        body, headers=paged_headers(ctx.request, [s.id for s in rows], page, ctx.settings.base_url)
    )


# -- analytics -------------------------------------------------------------------------------------


def _moment(ctx: Ctx, name: str) -> datetime | None:
    raw = ctx.params.str(name, max_length=40)
    if raw in (None, ""):
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(422, f"Validation failed: {name} must be a date or an ISO 8601 time") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _period(ctx: Ctx) -> analytics.Period:
    try:
        return analytics.Period.of(
            _moment(ctx, "since"), _moment(ctx, "until"), ctx.params.str("bucket"), utcnow()
        )
    except analytics.AnalyticsError as e:
        raise ApiError(422, f"Validation failed: {e}") from None


def render_analytics(settings: Settings, data: dict[str, Any]) -> dict[str, Any]:
    return {
        **data,
        "since": iso(data["since"]),
        "until": iso(data["until"]),
        "volume": [{"at": iso(v["at"]), "count": v["count"]} for v in data["volume"]],
        "top_authors": [
            {"account": render_account(settings, a["account"]), "count": a["count"]}
            for a in data["top_authors"]
        ],
    }


def _notes(ctx: Ctx, period: analytics.Period, row: TrackedSearch | None, tag: str | None) -> analytics.Notes:
    if row is not None:
        return analytics.tracked_notes(ctx.account_id, [row.id], period)
    assert tag is not None
    notes = analytics.hashtag_notes(ctx.account_id, tag, period)
    notes.extra["exclude_tag"] = tag
    return notes


async def _subject(ctx: Ctx) -> tuple[TrackedSearch | None, str | None]:
    if "name" in ctx.request.path_params:
        tag = normalize_tag(str(ctx.request.path_params["name"]).lstrip("#"))
        if not tag:
            raise ApiError(404, "Record not found")
        return None, tag
    return await _readable(ctx, ctx.path_id()), None


@endpoint(scope="read:statuses", auth="required")
async def show_analytics(ctx: Ctx) -> Response:
    row, tag = await _subject(ctx)
    period = _period(ctx)
    async with ctx.db.read() as session:
        data = await analytics.analytics(session, ctx.account_id, _notes(ctx, period, row, tag), period)
    return json_response(render_analytics(ctx.settings, data))


@endpoint(scope="read:statuses", auth="required")
async def export(ctx: Ctx) -> Response:
    """The period's notes, one per row: ``format=csv`` (RFC 4180, UTF-8) or ``json``."""
    row, tag = await _subject(ctx)
    period = _period(ctx)
    kind = ctx.params.str("format") or "csv"
    if kind not in ("csv", "json"):
        raise ApiError(422, "Validation failed: format must be csv or json")
    async with ctx.db.read() as session:
        rows = await analytics.export_rows(session, ctx.account_id, _notes(ctx, period, row, tag))
    records = [export_record(ctx.settings, r) for r in rows]
    if kind == "json":
        return json_response(records)
    name = f"tracked-{row.id}" if row is not None else f"hashtag-{tag}"
    return Response(
        to_csv(records),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@endpoint(scope="read:statuses", auth="required")
async def chart(ctx: Ctx) -> Response:
    """A server-drawn SVG chart: ``kind=volume`` (default) or ``sentiment``."""
    row, tag = await _subject(ctx)
    period = _period(ctx)
    kind = ctx.params.str("kind") or "volume"
    if kind not in ("volume", "sentiment"):
        raise ApiError(422, "Validation failed: kind must be volume or sentiment")
    async with ctx.db.read() as session:
        data = await analytics.analytics(session, ctx.account_id, _notes(ctx, period, row, tag), period)
    title = row.name if row is not None else f"#{tag}"
    svg = volume_svg(title, data) if kind == "volume" else sentiment_svg(title, data)
    return Response(svg, media_type="image/svg+xml")


async def _share(ctx: Ctx) -> tuple[list[dict[str, Any]], analytics.Period]:
    ids = list(dict.fromkeys(parse_id(i) for i in ctx.params.list("ids")))
    if not 2 <= len(ids) <= 10:
        raise ApiError(422, "Validation failed: ids must name between 2 and 10 tracked searches")
    period = _period(ctx)
    async with ctx.db.read() as session:
        rows = [await queries.readable(session, ctx.account_id, i) for i in ids]
        if any(r is None for r in rows):
            raise ApiError(404, "Record not found")
        shares = await analytics.share_of_voice(
            session, ctx.account_id, [(r.id, r.name) for r in rows if r is not None], period
        )
    return shares, period


@endpoint(scope="read:statuses", auth="required")
async def share_of_voice(ctx: Ctx) -> Response:
    shares, period = await _share(ctx)
    if ctx.params.str("format") == "svg":
        return Response(share_svg(shares), media_type="image/svg+xml")
    return json_response(
        {
            "since": iso(period.since),
            "until": iso(period.until),
            "searches": [{**s, "id": str(s["id"])} for s in shares],
        }
    )


@endpoint(scope="write:statuses", auth="required")
async def correct_sentiment(ctx: Ctx) -> Response:
    """``PUT`` a person's label for a note (``label``: positive, neutral, negative); ``DELETE``
    gives the note back to the lexicon."""
    label = None if ctx.request.method == "DELETE" else ctx.params.required_str("label")
    await actions.correct_sentiment(ctx.db, ctx.account_id, ctx.path_id(), label)
    return json_response({"status_id": str(ctx.path_id()), "label": label})


_BASE = "/api/v1/cordee/tracked_searches"

routes = [
    Route(_BASE, index, methods=["GET"]),
    Route(_BASE, create, methods=["POST"]),
    Route(f"{_BASE}/order", order, methods=["POST"]),
    Route(f"{_BASE}/share_of_voice", share_of_voice, methods=["GET"]),
    Route(_BASE + "/{id}", show, methods=["GET"]),
    Route(_BASE + "/{id}", update, methods=["PUT", "PATCH"]),
    Route(_BASE + "/{id}", destroy, methods=["DELETE"]),
    Route(_BASE + "/{id}/statuses", statuses, methods=["GET"]),
    Route(_BASE + "/{id}/analytics", show_analytics, methods=["GET"]),
    Route(_BASE + "/{id}/export", export, methods=["GET"]),
    Route(_BASE + "/{id}/chart.svg", chart, methods=["GET"]),
    Route("/api/v1/cordee/hashtags/{name}/analytics", show_analytics, methods=["GET"]),
    Route("/api/v1/cordee/hashtags/{name}/export", export, methods=["GET"]),
    Route("/api/v1/cordee/hashtags/{name}/chart.svg", chart, methods=["GET"]),
    Route("/api/v1/cordee/sentiment/{id}", correct_sentiment, methods=["PUT", "DELETE"]),
]
