"""``/api/v2/filters``: filters with their keywords and statuses.

Keyword and status rules also have their own paths: ``/api/v2/filters/keywords/:id`` and
``/api/v2/filters/statuses/:id`` as Mastodon routes them, with ``/api/v2/filter_keywords/:id`` and
``/api/v2/filter_statuses/:id`` as aliases.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response
from starlette.routing import Route

from cordee.actions import filters as actions
from cordee.api.mastodon.base import Ctx, endpoint, json_response
from cordee.api.mastodon.errors import ApiError
from cordee.api.mastodon.params import Params
from cordee.api.mastodon.serializers.filters import render_filter, render_filter_status, render_keyword
from cordee.db.tables_curation import Filter, FilterKeyword, FilterStatus


async def _render(session: AsyncSession, rows: list[Filter]) -> list[dict[str, object]]:
    ids = [f.id for f in rows]
    keywords: dict[int, list[FilterKeyword]] = defaultdict(list)
    statuses: dict[int, list[FilterStatus]] = defaultdict(list)
    if ids:
        for k in await session.scalars(
            select(FilterKeyword).where(FilterKeyword.filter_id.in_(ids)).order_by(FilterKeyword.id)
        ):
            keywords[k.filter_id].append(k)
        for s in await session.scalars(
            select(FilterStatus).where(FilterStatus.filter_id.in_(ids)).order_by(FilterStatus.id)
        ):
            statuses[s.filter_id].append(s)
    return [render_filter(f, keywords[f.id], statuses[f.id]) for f in rows]


async def _own_filter(ctx: Ctx, session: AsyncSession, filter_id: int) -> Filter:
    row = await session.scalar(
        select(Filter).where(Filter.id == filter_id, Filter.account_id == ctx.account_id)
    )
    if row is None:
        raise ApiError(404, "Record not found")
    return row


async def _show(ctx: Ctx, filter_id: int) -> Response:
    async with ctx.db.read() as session:
        [body] = await _render(session, [await _own_filter(ctx, session, filter_id)])
    return json_response(body)


def _keyword_changes(p: Params) -> list[actions.KeywordChange]:
    changes = []
    for record in p.records("keywords_attributes"):
        attrs = Params({k: [v] for k, v in record.items()})
        changes.append(
            actions.KeywordChange(
                keyword=attrs.str("keyword", max_length=actions.MAX_KEYWORD),
                whole_word=attrs.bool("whole_word"),
                id=attrs.id("id"),
                destroy=bool(attrs.bool("_destroy", False)),
            )
        )
    return changes


def _changes(p: Params, creating: bool) -> actions.FilterChanges:
    context = p.list("context")
    return actions.FilterChanges(
        title=p.str("title", max_length=actions.MAX_TITLE),
        context=context if context or creating else None,
        action=p.str("filter_action"),
        set_expiry="expires_in" in p,
        expires_in=p.int("expires_in"),
        keywords=_keyword_changes(p),
    )


@endpoint(scope="read:filters", auth="required")
async def index(ctx: Ctx) -> Response:
    async with ctx.db.read() as session:
        rows = list(
            await session.scalars(
                select(Filter).where(Filter.account_id == ctx.account_id).order_by(Filter.id)
            )
        )
        return json_response(await _render(session, rows))


@endpoint(scope="write:filters", auth="required")
async def create(ctx: Ctx) -> Response:
    return await _show(ctx, await actions.create_filter(ctx.db, ctx.account_id, _changes(ctx.params, True)))


@endpoint(scope="read:filters", auth="required")
async def show(ctx: Ctx) -> Response:
    return await _show(ctx, ctx.path_id())


@endpoint(scope="write:filters", auth="required")
async def update(ctx: Ctx) -> Response:
    filter_id = ctx.path_id()
    await actions.update_filter(ctx.db, ctx.account_id, filter_id, _changes(ctx.params, False))
    return await _show(ctx, filter_id)


@endpoint(scope="write:filters", auth="required")
async def destroy(ctx: Ctx) -> Response:
    await actions.delete_filter(ctx.db, ctx.account_id, ctx.path_id())
    return json_response({})


async def _keyword(ctx: Ctx, keyword_id: int) -> Response:
    async with ctx.db.read() as session:
        row = await session.scalar(
            select(FilterKeyword)
            .join(Filter, Filter.id == FilterKeyword.filter_id)
            .where(FilterKeyword.id == keyword_id, Filter.account_id == ctx.account_id)
        )
    if row is None:
        raise ApiError(404, "Record not found")
    return json_response(render_keyword(row))


@endpoint(scope="read:filters", auth="required")
async def keywords(ctx: Ctx) -> Response:
    async with ctx.db.read() as session:
        row = await _own_filter(ctx, session, ctx.path_id())
        rows = await session.scalars(
            select(FilterKeyword).where(FilterKeyword.filter_id == row.id).order_by(FilterKeyword.id)
        )
        return json_response([render_keyword(k) for k in rows])


@endpoint(scope="write:filters", auth="required")
async def add_keyword(ctx: Ctx) -> Response:
    p = ctx.params
    keyword = p.required_str("keyword")
    keyword_id = await actions.add_keyword(
        ctx.db, ctx.account_id, ctx.path_id(), keyword, p.bool("whole_word")
    )
    return await _keyword(ctx, keyword_id)


@endpoint(scope="read:filters", auth="required")
async def show_keyword(ctx: Ctx) -> Response:
    return await _keyword(ctx, ctx.path_id())


@endpoint(scope="write:filters", auth="required")
async def update_keyword(ctx: Ctx) -> Response:
    p = ctx.params
    keyword_id = ctx.path_id()
    await actions.update_keyword(
        ctx.db,
        ctx.account_id,
        keyword_id,
        p.str("keyword", max_length=actions.MAX_KEYWORD),
        p.bool("whole_word"),
    )
    return await _keyword(ctx, keyword_id)


@endpoint(scope="write:filters", auth="required")
async def delete_keyword(ctx: Ctx) -> Response:
    await actions.delete_keyword(ctx.db, ctx.account_id, ctx.path_id())
    return json_response({})


async def _filter_status(ctx: Ctx, filter_status_id: int) -> Response:
    async with ctx.db.read() as session:
        row = await session.scalar(
            select(FilterStatus)
            .join(Filter, Filter.id == FilterStatus.filter_id)
            .where(FilterStatus.id == filter_status_id, Filter.account_id == ctx.account_id)
        )
    if row is None:
        raise ApiError(404, "Record not found")
    return json_response(render_filter_status(row))


@endpoint(scope="read:filters", auth="required")
async def statuses(ctx: Ctx) -> Response:
    async with ctx.db.read() as session:
        row = await _own_filter(ctx, session, ctx.path_id())
        rows = await session.scalars(
            select(FilterStatus).where(FilterStatus.filter_id == row.id).order_by(FilterStatus.id)
        )
        return json_response([render_filter_status(s) for s in rows])


@endpoint(scope="write:filters", auth="required")
async def add_status(ctx: Ctx) -> Response:
    status_id = ctx.params.id("status_id")
    if status_id is None:
        raise ApiError(422, "Validation failed: status_id is missing")
    return await _filter_status(
        ctx, await actions.add_status(ctx.db, ctx.account_id, ctx.path_id(), status_id)
    )


@endpoint(scope="read:filters", auth="required")
async def show_status(ctx: Ctx) -> Response:
    return await _filter_status(ctx, ctx.path_id())


@endpoint(scope="write:filters", auth="required")
async def delete_status(ctx: Ctx) -> Response:
    await actions.delete_status(ctx.db, ctx.account_id, ctx.path_id())
    return json_response({})


routes = [
    Route("/api/v2/filters", index, methods=["GET"]),
    Route("/api/v2/filters", create, methods=["POST"]),
    *(
        Route(path, endpoint_, methods=[method])
        for base in ("/api/v2/filters/", "/api/v2/filter_")
        for path, endpoint_, method in (
            (f"{base}keywords/{{id}}", show_keyword, "GET"),
            (f"{base}keywords/{{id}}", update_keyword, "PUT"),
            (f"{base}keywords/{{id}}", delete_keyword, "DELETE"),
            (f"{base}statuses/{{id}}", show_status, "GET"),
            (f"{base}statuses/{{id}}", delete_status, "DELETE"),
        )
    ),
    Route("/api/v2/filters/{id}", show, methods=["GET"]),
    Route("/api/v2/filters/{id}", update, methods=["PUT"]),
    Route("/api/v2/filters/{id}", destroy, methods=["DELETE"]),
    Route("/api/v2/filters/{id}/keywords", keywords, methods=["GET"]),
    Route("/api/v2/filters/{id}/keywords", add_keyword, methods=["POST"]),
    Route("/api/v2/filters/{id}/statuses", statuses, methods=["GET"]),
    Route("/api/v2/filters/{id}/statuses", add_status, methods=["POST"]),
]
