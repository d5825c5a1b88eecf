"""Blocks, mutes, follow requests and domain blocks: ``/api/v1/accounts/:id/{block,mute,…}``,
``/api/v1/blocks``, ``/api/v1/mutes``, ``/api/v1/follow_requests``, ``/api/v1/domain_blocks``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from starlette.responses import Response
from starlette.routing import Route

from cordee.actions import follows, relationships
from cordee.api.mastodon._responses import relationship_response
from cordee.api.mastodon.base import Ctx, endpoint, json_response
from cordee.api.mastodon.pagination import Page, paged_headers
from cordee.api.mastodon.serializers.accounts import render_account
from cordee.api.mastodon.serializers.common import iso
from cordee.db.tables import Account, AccountDomainBlock, Block, FollowRequest, Mute
from cordee.db.types import utcnow


@endpoint(scope="write:blocks", auth="required")
async def block(ctx: Ctx) -> Response:
    await relationships.block(ctx.db, ctx.account_id, ctx.path_id())
    return await relationship_response(ctx, ctx.path_id())


@endpoint(scope="write:blocks", auth="required")
async def unblock(ctx: Ctx) -> Response:
    await relationships.unblock(ctx.db, ctx.account_id, ctx.path_id())
    return await relationship_response(ctx, ctx.path_id())


@endpoint(scope="write:mutes", auth="required")
async def mute(ctx: Ctx) -> Response:
    p = ctx.params
    await relationships.mute(
        ctx.db,
        ctx.account_id,
        ctx.path_id(),
        notifications=p.bool("notifications", True) is not False,
        duration=p.int("duration", 0) or 0,
    )
    return await relationship_response(ctx, ctx.path_id())


@endpoint(scope="write:mutes", auth="required")
async def unmute(ctx: Ctx) -> Response:
    await relationships.unmute(ctx.db, ctx.account_id, ctx.path_id())
    return await relationship_response(ctx, ctx.path_id())


async def _account_page(ctx: Ctx, query: Select[*tuple[Any, ...]], key: Any, extra: Any = None) -> Response:
    """A page of accounts ordered by the id of the row that listed them (block, mute, request)."""
    page = Page.from_params(ctx.params, default=40, maximum=80)
    async with ctx.db.read() as session:
        rows = page.arrange(list((await session.execute(page.apply(query, key))).all()))
    body = []
    for row in rows:
        entity = render_account(ctx.settings, row[0])
        if extra is not None:
            entity.update(extra(row))
        body.append(entity)
    return json_response(
        body, headers=paged_headers(ctx.request, [r[1] for r in rows], page, ctx.settings.base_url)
    )


@endpoint(scope="read:blocks", auth="required")
async def blocks(ctx: Ctx) -> Response:
    query = (
        select(Account, Block.id)
        .join(Block, Block.target_account_id == Account.id)
        .where(Block.account_id == ctx.account_id)
    )
    return await _account_page(ctx, query, Block.id)


@endpoint(scope="read:mutes", auth="required")
async def mutes(ctx: Ctx) -> Response:
    query = (
        select(Account, Mute.id, Mute.expires_at)
        .join(Mute, Mute.target_account_id == Account.id)
        .where(Mute.account_id == ctx.account_id, (Mute.expires_at.is_(None)) | (Mute.expires_at > utcnow()))
    )
    return await _account_page(ctx, query, Mute.id, extra=lambda row: {"mute_expires_at": iso(row[2])})


@endpoint(scope="read:follows", auth="required")
async def follow_requests(ctx: Ctx) -> Response:
    query = (
        select(Account, FollowRequest.id)
        .join(FollowRequest, FollowRequest.account_id == Account.id)
        .where(FollowRequest.target_account_id == ctx.account_id)
    )
    return await _account_page(ctx, query, FollowRequest.id)


@endpoint(scope="write:follows", auth="required")
async def authorize(ctx: Ctx) -> Response:
    await follows.authorize_follow_request(ctx.db, ctx.account_id, ctx.path_id())
    return await relationship_response(ctx, ctx.path_id())


@endpoint(scope="write:follows", auth="required")
async def reject(ctx: Ctx) -> Response:
    await follows.reject_follow_request(ctx.db, ctx.account_id, ctx.path_id())
    return await relationship_response(ctx, ctx.path_id())


@endpoint(scope="read:blocks", auth="required")
async def domain_blocks(ctx: Ctx) -> Response:
    page = Page.from_params(ctx.params, default=100, maximum=200)
    query = select(AccountDomainBlock).where(AccountDomainBlock.account_id == ctx.account_id)
    async with ctx.db.read() as session:
        rows = page.arrange(list(await session.scalars(page.apply(query, AccountDomainBlock.id))))
    return json_response(
        [r.domain for r in rows],
        headers=paged_headers(ctx.request, [r.id for r in rows], page, ctx.settings.base_url),
    )


@endpoint(scope="write:blocks", auth="required")
async def add_domain_block(ctx: Ctx) -> Response:
    await relationships.block_domain(ctx.db, ctx.account_id, ctx.params.required_str("domain"))
    return json_response({})


@endpoint(scope="write:blocks", auth="required")
async def remove_domain_block(ctx: Ctx) -> Response:
    await relationships.unblock_domain(ctx.db, ctx.account_id, ctx.params.required_str("domain"))
    return json_response({})


routes = [
    Route("/api/v1/accounts/{id}/block", block, methods=["POST"]),
    Route("/api/v1/accounts/{id}/unblock", unblock, methods=["POST"]),
    Route("/api/v1/accounts/{id}/mute", mute, methods=["POST"]),
    Route("/api/v1/accounts/{id}/unmute", unmute, methods=["POST"]),
    Route("/api/v1/blocks", blocks, methods=["GET"]),
    Route("/api/v1/mutes", mutes, methods=["GET"]),
    Route("/api/v1/follow_requests", follow_requests, methods=["GET"]),
    Route("/api/v1/follow_requests/{id}/authorize", authorize, methods=["POST"]),
    Route("/api/v1/follow_requests/{id}/reject", reject, methods=["POST"]),
    Route("/api/v1/domain_blocks", domain_blocks, methods=["GET"]),
    Route("/api/v1/domain_blocks", add_domain_block, methods=["POST"]),
    Route("/api/v1/domain_blocks", remove_domain_block, methods=["DELETE"]),
]
