"""``/api/v1/filters``: the filters of Mastodon before 4.0, still used by older apps.

As in Mastodon, a v1 filter is one keyword of a v2 filter: its id is the keyword's, its phrase the
keyword, its context, expiry and ``irreversible`` (the ``hide`` action) those of the v2 filter. A v2
filter with several keywords is several v1 filters; its shared fields cannot be changed from here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.responses import Response
from starlette.routing import Route

from cordee.actions import filters as actions
from cordee.api.mastodon.base import Ctx, endpoint, json_response
from cordee.api.mastodon.errors import ApiError
from cordee.api.mastodon.params import Params
from cordee.api.mastodon.serializers.common import iso
from cordee.db.tables_curation import Filter, FilterKeyword
from cordee.queries.filters import contexts_of


def render_v1_filter(keyword: FilterKeyword, row: Filter) -> dict[str, Any]:
    """Mastodon's V1::Filter entity."""
    return {
        "id": str(keyword.id),
        "phrase": keyword.keyword,
        "context": contexts_of(row),
        "whole_word": keyword.whole_word,
        "expires_at": iso(row.expires_at),
        "irreversible": row.action == "hide",
    }


def _owned(ctx: Ctx) -> Any:
    return (
        select(FilterKeyword, Filter)
        .join(Filter, Filter.id == FilterKeyword.filter_id)
        .where(Filter.account_id == ctx.account_id)
    )


async def _show(ctx: Ctx, keyword_id: int) -> Response:
    async with ctx.db.read() as session:
        found = (await session.execute(_owned(ctx).where(FilterKeyword.id == keyword_id))).first()
    if found is None:
        raise ApiError(404, "Record not found")
    return json_response(render_v1_filter(*found))


def _changes(p: Params, creating: bool) -> actions.V1FilterChanges:
    context = p.list("context")
    return actions.V1FilterChanges(
        phrase=p.str("phrase", max_length=actions.MAX_KEYWORD),
        context=context if context or creating else None,
        irreversible=p.bool("irreversible"),
        whole_word=p.bool("whole_word"),
        # Mastodon: a blank expires_in is "never"; absent leaves the expiry as it is.
        set_expiry="expires_in" in p,
        expires_in=p.int("expires_in"),
    )


@endpoint(scope="read:filters", auth="required")
async def index(ctx: Ctx) -> Response:
    async with ctx.db.read() as session:
        rows = (await session.execute(_owned(ctx).order_by(FilterKeyword.id))).all()
    return json_response([render_v1_filter(keyword, row) for keyword, row in rows])


@endpoint(scope="write:filters", auth="required")
async def create(ctx: Ctx) -> Response:
    keyword_id = await actions.create_v1_filter(ctx.db, ctx.account_id, _changes(ctx.params, True))
    return await _show(ctx, keyword_id)


@endpoint(scope="read:filters", auth="required")
async def show(ctx: Ctx) -> Response:
    return await _show(ctx, ctx.path_id())


@endpoint(scope="write:filters", auth="required")
async def update(ctx: Ctx) -> Response:
    keyword_id = ctx.path_id()
    await actions.update_v1_filter(ctx.db, ctx.account_id, keyword_id, _changes(ctx.params, False))
    return await _show(ctx, keyword_id)


@endpoint(scope="write:filters", auth="required")
async def destroy(ctx: Ctx) -> Response:
    # The keyword goes; its v2 filter stays, as in Mastodon.
    await actions.delete_keyword(ctx.db, ctx.account_id, ctx.path_id())
    return json_response({})


routes = [
    Route("/api/v1/filters", index, methods=["GET"]),
    Route("/api/v1/filters", create, methods=["POST"]),
    Route("/api/v1/filters/{id}", show, methods=["GET"]),
    Route("/api/v1/filters/{id}", update, methods=["PUT"]),
    Route("/api/v1/filters/{id}", destroy, methods=["DELETE"]),
]
