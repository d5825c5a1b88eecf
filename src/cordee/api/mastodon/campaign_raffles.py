"""``/api/v1/chapters/:id/raffle`` and ``/api/v1/raffles/:id``: a chapter's raffle, its sales and
its draw (a Cordée extension, docs/campaigns.md). The raffle's state is public: the commitment
from the start, the seed and the winners once drawn — so anyone can re-run the draw."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response
from starlette.routing import Route

from cordee.actions import raffle as actions
from cordee.api.mastodon.base import Ctx, endpoint, json_response
from cordee.api.mastodon.campaigns import cents_param
from cordee.api.mastodon.errors import ApiError
from cordee.api.mastodon.serializers.common import iso
from cordee.db.tables_campaigns import Chapter, Raffle
from cordee.queries import campaigns as queries
from cordee.web.i18n import LANGUAGES, translations


async def render_raffle(session: AsyncSession, row: Raffle, chapter: Chapter) -> dict[str, Any]:
    state = await queries.raffle_state(session, row)
    return {
        "id": str(row.id),
        "chapter_id": str(row.chapter_id),
        "price_cents": row.price_cents,
        "currency": chapter.currency,
        "prizes": row.prizes,
        "commitment": row.commitment,
        "tickets_sold": state.sold,
        "open": row.seed is None,
        "seed": row.seed,
        "drawn_at": iso(row.drawn_at),
        "winners": state.winners,
        "result_status_id": str(row.result_status_id) if row.result_status_id is not None else None,
    }


async def _answer(ctx: Ctx, raffle_id: int) -> Response:
    async with ctx.db.read() as session:
        row = await session.get(Raffle, raffle_id)
        if row is None:
            raise ApiError(404, "Record not found")
        chapter = await session.get(Chapter, row.chapter_id)
        assert chapter is not None
        return json_response(await render_raffle(session, row, chapter))


@endpoint(scope="read", auth="optional")
async def show(ctx: Ctx) -> Response:
    async with ctx.db.read() as session:
        raffle_id = await session.scalar(select(Raffle.id).where(Raffle.chapter_id == ctx.path_id()))
    if raffle_id is None:
        raise ApiError(404, "Record not found")
    return await _answer(ctx, raffle_id)


@endpoint(scope="write", auth="required")
async def create(ctx: Ctx) -> Response:
    raffle_id = await actions.create_raffle(
        ctx.db,
        ctx.account_id,
        ctx.path_id(),
        cents_param(ctx, "price_cents") or 0,
        ctx.params.int("prizes", 1) or 0,
        ctx.params.required_str("commitment"),
    )
    return await _answer(ctx, raffle_id)


@endpoint(scope="write", auth="required")
async def sell(ctx: Ctx) -> Response:
    numbers = await actions.sell(
        ctx.db,
        ctx.account_id,
        ctx.path_id(),
        ctx.params.required_str("holder"),
        ctx.params.int("count", 1) or 0,
    )
    return json_response({"numbers": numbers})


@endpoint(scope="write", auth="required")
async def draw(ctx: Ctx) -> Response:
    async with ctx.db.read() as session:
        row = await session.get(Raffle, ctx.path_id())
        chapter = await session.get(Chapter, row.chapter_id) if row is not None else None
    if row is None or chapter is None:
        raise ApiError(404, "Record not found")
    lang = chapter.locale[:2]
    gettext = translations(lang if lang in LANGUAGES else "en").gettext
    result = await actions.draw(
        ctx.db, ctx.settings, ctx.account_id, row.id, ctx.params.required_str("seed"), gettext
    )
    return await _answer(ctx, result.raffle_id)


routes = [
    Route("/api/v1/chapters/{id}/raffle", show, methods=["GET"]),
    Route("/api/v1/chapters/{id}/raffle", create, methods=["POST"]),
    Route("/api/v1/raffles/{id}/tickets", sell, methods=["POST"]),
    Route("/api/v1/raffles/{id}/draw", draw, methods=["POST"]),
]
