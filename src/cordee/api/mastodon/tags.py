"""Hashtags: ``/api/v1/tags/:name`` (follow, feature), ``/api/v1/followed_tags`` and
``/api/v1/featured_tags`` (with suggestions, and every account's featured tags)."""

from __future__ import annotations

from sqlalchemy import select
from starlette.responses import Response
from starlette.routing import Route

from cordee.actions import tags as actions
from cordee.api.mastodon.base import Ctx, endpoint, json_response
from cordee.api.mastodon.errors import ApiError
from cordee.api.mastodon.pagination import Page, paged_headers
from cordee.api.mastodon.serializers.tags import render_featured_tags, render_tags, unused_tag
from cordee.db.tables import Account, Tag
from cordee.db.tables_curation import TagFollow
from cordee.queries import tags as queries
from cordee.queries.accounts import account_by_id


def _name(ctx: Ctx) -> str:
    name = str(ctx.request.path_params["name"]).removeprefix("#")
    if not queries.valid_tag_name(name):
        raise ApiError(404, "Record not found")
    return name


async def _tag_by_id(ctx: Ctx, tag_id: int) -> Response:
    async with ctx.db.read() as session:
        tag = await session.get(Tag, tag_id)
        assert tag is not None
        [body] = await render_tags(session, ctx.settings, ctx.viewer_id, [tag])
    return json_response(body)


@endpoint(auth="optional")
async def show(ctx: Ctx) -> Response:
    name = _name(ctx)
    async with ctx.db.read() as session:
        tag = await queries.tag_by_name(session, name)
        if tag is None:
            return json_response(unused_tag(ctx.settings, name, ctx.viewer_id is not None))
        [body] = await render_tags(session, ctx.settings, ctx.viewer_id, [tag])
    return json_response(body)


@endpoint(scope="write:follows", auth="required")
async def follow(ctx: Ctx) -> Response:
    return await _tag_by_id(ctx, await actions.follow_tag(ctx.db, ctx.account_id, _name(ctx)))


@endpoint(scope="write:follows", auth="required")
async def unfollow(ctx: Ctx) -> Response:
    return await _tag_by_id(ctx, await actions.unfollow_tag(ctx.db, ctx.account_id, _name(ctx)))


@endpoint(scope="write:accounts", auth="required")
async def feature(ctx: Ctx) -> Response:
    name = _name(ctx)
    await actions.feature_tag(ctx.db, ctx.account_id, name, again_ok=True)
    async with ctx.db.read() as session:
        tag = await queries.tag_by_name(session, name)
    assert tag is not None
    return await _tag_by_id(ctx, tag.id)


@endpoint(scope="write:accounts", auth="required")
async def unfeature(ctx: Ctx) -> Response:
    return await _tag_by_id(ctx, await actions.unfeature_tag(ctx.db, ctx.account_id, _name(ctx)))


@endpoint(scope="read:follows", auth="required")
async def followed(ctx: Ctx) -> Response:
    page = Page.from_params(ctx.params, default=100, maximum=200)
    query = (
        select(Tag, TagFollow.id)
        .join(TagFollow, TagFollow.tag_id == Tag.id)
        .where(TagFollow.account_id == ctx.account_id)
    )
    async with ctx.db.read() as session:
        rows = page.arrange(list((await session.execute(page.apply(query, TagFollow.id))).all()))
        body = await render_tags(session, ctx.settings, ctx.account_id, [t for t, _ in rows])
    return json_response(
        body, headers=paged_headers(ctx.request, [k for _, k in rows], page, ctx.settings.base_url)
    )


async def _featured_of(ctx: Ctx, account: Account) -> Response:
    async with ctx.db.read() as session:
        rows = await queries.featured_of(session, account.id)
        return json_response(await render_featured_tags(session, ctx.settings, account, rows))


@endpoint(scope="read:accounts", auth="required")
async def featured(ctx: Ctx) -> Response:
    return await _featured_of(ctx, await ctx.account())


@endpoint(scope="read:accounts", auth="optional")
async def featured_of_account(ctx: Ctx) -> Response:
    async with ctx.db.read() as session:
        account = await account_by_id(session, ctx.path_id())
    if account is None:
        raise ApiError(404, "Record not found")
    return await _featured_of(ctx, account)


@endpoint(scope="write:accounts", auth="required")
async def feature_by_name(ctx: Ctx) -> Response:
    featured_id = await actions.feature_tag(ctx.db, ctx.account_id, ctx.params.required_str("name"))
    async with ctx.db.read() as session:
        rows = [r for r in await queries.featured_of(session, ctx.account_id) if r[0].id == featured_id]
        [body] = await render_featured_tags(session, ctx.settings, await ctx.account(), rows)
    return json_response(body)


@endpoint(scope="write:accounts", auth="required")
async def unfeature_by_id(ctx: Ctx) -> Response:
    await actions.unfeature(ctx.db, ctx.account_id, ctx.path_id())
    return json_response({})


@endpoint(scope="read:accounts", auth="required")
async def featured_suggestions(ctx: Ctx) -> Response:
    async with ctx.db.read() as session:
        tags = await queries.featured_suggestions(session, ctx.account_id)
        return json_response(await render_tags(session, ctx.settings, ctx.account_id, tags))


routes = [
    Route("/api/v1/tags/{name}", show, methods=["GET"]),
    Route("/api/v1/tags/{name}/follow", follow, methods=["POST"]),
    Route("/api/v1/tags/{name}/unfollow", unfollow, methods=["POST"]),
    Route("/api/v1/tags/{name}/feature", feature, methods=["POST"]),
    Route("/api/v1/tags/{name}/unfeature", unfeature, methods=["POST"]),
    Route("/api/v1/followed_tags", followed, methods=["GET"]),
    Route("/api/v1/featured_tags", featured, methods=["GET"]),
    Route("/api/v1/featured_tags", feature_by_name, methods=["POST"]),
    Route("/api/v1/featured_tags/suggestions", featured_suggestions, methods=["GET"]),
    Route("/api/v1/featured_tags/{id}", unfeature_by_id, methods=["DELETE"]),
    Route("/api/v1/accounts/{id}/featured_tags", featured_of_account, methods=["GET"]),
]
