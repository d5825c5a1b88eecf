"""``POST /api/v1/emails/confirmations``: mail the confirmation link again (Mastodon 3.4+).

A user whose address is not confirmed yet may call it (every other endpoint that needs a user
answers 403 "Your login is missing a confirmed e-mail address" while confirmation is required).
Mastodon's optional ``email`` parameter (change the address before confirming) is not supported.
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from cordee.actions.emails import send_confirmation
from cordee.api.mastodon.base import Ctx, endpoint, json_response, unconfirmed_ok
from cordee.api.mastodon.errors import ApiError
from cordee.mail import sender_of


@endpoint(scope="write:accounts", auth="required")
@unconfirmed_ok
async def resend_confirmation(ctx: Ctx) -> Response:
    assert ctx.caller is not None and ctx.caller.user_id is not None
    if ctx.caller.confirmed:
        raise ApiError(403, "This method is only available while the e-mail is awaiting confirmation")
    await send_confirmation(ctx.db, sender_of(ctx.request.app), ctx.settings, ctx.caller.user_id)
    return json_response({})


routes = [Route("/api/v1/emails/confirmations", resend_confirmation, methods=["POST"])]
