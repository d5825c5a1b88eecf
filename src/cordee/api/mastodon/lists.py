"""``/api/v1/lists``: lists, their members, and ``/api/v1/timelines/list/:id``.

Someone else's list answers 404, exactly like a list that does not exist.
"""

from __future__ import annotations

from sqlalchemy import select
from starlette.responses import Response
from starlette.routing import Route

from cordee.actions import lists as actions
from cordee.api.mastodon.base import Ctx, endpoint, json_response
from cordee.api.mastodon.errors import ApiError
from cordee.api.mastodon.pagination import Page, paged_headers
from cordee.api.mastodon.params import parse_id
from cordee.api.mastodon.serializers.accounts import render_account
from cordee.api.mastodon.serializers.lists import render_list
from cordee.db.tables import Account, Status
from cordee.db.tables_curation import ListMember, TimelineList
from cordee.queries import lists as queries
from cordee.queries.accounts import account_by_id
from cordee.rendering.statuses import render_statuses


async def _list_or_404(ctx: Ctx, list_id: int) -> TimelineList:
    async with ctx.db.read() as session:
        row = await queries.owned_list(session, ctx.account_id, list_id)
    if row is None:
        raise ApiError(404, "Record not found")
    return row


def _changes(ctx: Ctx) -> actions.ListChanges:
    p = ctx.params
    return actions.ListChanges(
        title=p.str("title", max_length=actions.MAX_TITLE),
        replies_policy=p.str("replies_policy"),
        exclusive=p.bool("exclusive"),
    )


@endpoint(scope="read:lists", auth="required")
async def index(ctx: Ctx) -> Response:
    async with ctx.db.read() as session:
        rows = await queries.lists_of(session, ctx.account_id)
    return json_response([render_list(r) for r in rows])


@endpoint(scope="write:lists", auth="required")
async def create(ctx: Ctx) -> Response:
    list_id = await actions.create_list(ctx.db, ctx.account_id, _changes(ctx))
    return json_response(render_list(await _list_or_404(ctx, list_id)))


@endpoint(scope="read:lists", auth="required")
async def show(ctx: Ctx) -> Response:
    return json_response(render_list(await _list_or_404(ctx, ctx.path_id())))


@endpoint(scope="write:lists", auth="required")
async def update(ctx: Ctx) -> Response:
    list_id = ctx.path_id()
    await actions.update_list(ctx.db, ctx.account_id, list_id, _changes(ctx))
    return json_response(render_list(await _list_or_404(ctx, list_id)))


@endpoint(scope="write:lists", auth="required")
async def destroy(ctx: Ctx) -> Response:
    await actions.delete_list(ctx.db, ctx.account_id, ctx.path_id())
    return json_response({})


@endpoint(scope="read:lists", auth="required")
async def members(ctx: Ctx) -> Response:
    row = await _list_or_404(ctx, ctx.path_id())
    query = (
        select(Account, ListMember.id)
        .join(ListMember, ListMember.account_id == Account.id)
        .where(ListMember.list_id == row.id)
    )
    async with ctx.db.read() as session:
        if ctx.params.int("limit") == 0:  # Mastodon: limit=0 lists every member, unpaginated
            every = (await session.execute(query.order_by(ListMember.id.desc()))).all()
            return json_response([render_account(ctx.settings, a) for a, _ in every])
        page = Page.from_params(ctx.params, default=40, maximum=80)
        rows = page.arrange(list((await session.execute(page.apply(query, ListMember.id))).all()))
    return json_response(
        [render_account(ctx.settings, a) for a, _ in rows],
        headers=paged_headers(ctx.request, [k for _, k in rows], page, ctx.settings.base_url),
    )


def _account_ids(ctx: Ctx) -> list[int]:
    return [parse_id(i) for i in ctx.params.list("account_ids")]


@endpoint(scope="write:lists", auth="required")
async def add_members(ctx: Ctx) -> Response:
    await actions.add_members(ctx.db, ctx.account_id, ctx.path_id(), _account_ids(ctx))
    return json_response({})


@endpoint(scope="write:lists", auth="required")
async def remove_members(ctx: Ctx) -> Response:
    await actions.remove_members(ctx.db, ctx.account_id, ctx.path_id(), _account_ids(ctx))
    return json_response({})


@endpoint(scope="read:lists", auth="required")
async def lists_with_account(ctx: Ctx) -> Response:
    async with ctx.db.read() as session:
        account = await account_by_id(session, ctx.path_id())
        if account is None:
            raise ApiError(404, "Record not found")
        rows = await queries.lists_of(session, ctx.account_id, member_id=account.id)
    return json_response([render_list(r) for r in rows])


@endpoint(scope="read:lists", auth="required")
async def timeline(ctx: Ctx) -> Response:
    row = await _list_or_404(ctx, ctx.path_id())
    page = Page.from_params(ctx.params)
    async with ctx.db.read() as session:
        rows = page.arrange(
            list(await session.scalars(page.apply(queries.list_timeline_query(row), Status.id)))
        )
        body = await render_statuses(session, ctx.settings, ctx.account_id, rows, filter_context="home")
    return json_response(
        body, headers=paged_headers(ctx.request, [s.id for s in rows], page, ctx.settings.base_url)
    )


routes = [
    Route("/api/v1/lists", index, methods=["GET"]),
    Route("/api/v1/lists", create, methods=["POST"]),
    Route("/api/v1/lists/{id}", show, methods=["GET"]),
    Route("/api/v1/lists/{id}", update, methods=["PUT"]),
    Route("/api/v1/lists/{id}", destroy, methods=["DELETE"]),
    Route("/api/v1/lists/{id}/accounts", members, methods=["GET"]),
    Route("/api/v1/lists/{id}/accounts", add_members, methods=["POST"]),
    Route("/api/v1/lists/{id}/accounts", remove_members, methods=["DELETE"]),
    Route("/api/v1/accounts/{id}/lists", lists_with_account, methods=["GET"]),
    Route("/api/v1/timelines/list/{id}", timeline, methods=["GET"]),
]
