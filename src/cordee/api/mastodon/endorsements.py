"""What the viewer keeps about other accounts and threads: private notes
(``/api/v1/accounts/:id/note``), endorsements (``/api/v1/accounts/:id/endorse|unendorse``, and their
older names ``pin|unpin``; ``/api/v1/endorsements``; ``/api/v1/accounts/:id/endorsements``, Mastodon
4.4+) and muted conversations (``/api/v1/statuses/:id/mute|unmute``)."""

from __future__ import annotations

from sqlalchemy import select
from starlette.responses import Response
from starlette.routing import Route

from cordee.actions import endorsements, thread_mutes
from cordee.api.mastodon._responses import relationship_response, status_response
from cordee.api.mastodon.base import Ctx, endpoint, json_response
from cordee.api.mastodon.errors import ApiError
from cordee.api.mastodon.pagination import Page, paged_headers
from cordee.api.mastodon.serializers.accounts import render_account
from cordee.db.tables import Account
from cordee.db.tables_personal import AccountPin


@endpoint(scope="write:accounts", auth="required")
async def note(ctx: Ctx) -> Response:
    target = ctx.path_id()
    await endorsements.set_note(ctx.db, ctx.account_id, target, ctx.params.str("comment", "") or "")
    return await relationship_response(ctx, target)


@endpoint(scope="write:accounts", auth="required")
async def endorse(ctx: Ctx) -> Response:
    target = ctx.path_id()
    await endorsements.endorse(ctx.db, ctx.account_id, target)
    return await relationship_response(ctx, target)


@endpoint(scope="write:accounts", auth="required")
async def unendorse(ctx: Ctx) -> Response:
    target = ctx.path_id()
    await endorsements.unendorse(ctx.db, ctx.account_id, target)
    return await relationship_response(ctx, target)


async def _endorsed_page(ctx: Ctx, account_id: int) -> Response:
    """The accounts ``account_id`` endorses, newest endorsement first, paginated by endorsement as
    Mastodon does (40 by default, at most 80)."""
    page = Page.from_params(ctx.params, default=40, maximum=80)
    query = (
        select(Account, AccountPin.id)
        .join(AccountPin, AccountPin.target_account_id == Account.id)
        .where(AccountPin.account_id == account_id)
    )
    async with ctx.db.read() as session:
        rows = page.arrange(list((await session.execute(page.apply(query, AccountPin.id))).all()))
    return json_response(
        [render_account(ctx.settings, account) for account, _ in rows],
        headers=paged_headers(ctx.request, [key for _, key in rows], page, ctx.settings.base_url),
    )


@endpoint(scope="read:accounts", auth="required")
async def mine(ctx: Ctx) -> Response:
    return await _endorsed_page(ctx, ctx.account_id)


@endpoint(scope="read:accounts", auth="optional")
async def of_account(ctx: Ctx) -> Response:
    account_id = ctx.path_id()
    async with ctx.db.read() as session:
        if await session.get(Account, account_id) is None:
            raise ApiError(404, "Record not found")
    return await _endorsed_page(ctx, account_id)


@endpoint(scope="write:mutes", auth="required")
async def mute_thread(ctx: Ctx) -> Response:
    return await status_response(ctx, await thread_mutes.mute_thread(ctx.db, ctx.account_id, ctx.path_id()))


@endpoint(scope="write:mutes", auth="required")
async def unmute_thread(ctx: Ctx) -> Response:
    return await status_response(ctx, await thread_mutes.unmute_thread(ctx.db, ctx.account_id, ctx.path_id()))


routes = [
    Route("/api/v1/accounts/{id}/note", note, methods=["POST"]),
    Route("/api/v1/accounts/{id}/endorse", endorse, methods=["POST"]),
    Route("/api/v1/accounts/{id}/unendorse", unendorse, methods=["POST"]),
    Route("/api/v1/accounts/{id}/pin", endorse, methods=["POST"]),
    Route("/api/v1/accounts/{id}/unpin", unendorse, methods=["POST"]),
    Route("/api/v1/accounts/{id}/endorsements", of_account, methods=["GET"]),
    Route("/api/v1/endorsements", mine, methods=["GET"]),
    Route("/api/v1/statuses/{id}/mute", mute_thread, methods=["POST"]),
    Route("/api/v1/statuses/{id}/unmute", unmute_thread, methods=["POST"]),
]
