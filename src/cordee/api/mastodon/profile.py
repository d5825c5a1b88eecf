"""Profile images: the ``avatar`` and ``header`` files of ``PATCH /api/v1/accounts/update_credentials``,
and ``DELETE /api/v1/profile/avatar`` / ``DELETE /api/v1/profile/header`` (Mastodon 4.2), which put
the default picture back and answer the CredentialAccount."""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.responses import Response
from starlette.routing import Route

from cordee.actions.accounts import remove_profile_picture
from cordee.api.mastodon.base import Ctx, endpoint, json_response
from cordee.api.mastodon.errors import ApiError
from cordee.api.mastodon.serializers.accounts import render_credential_account
from cordee.media.profile import PROFILE_IMAGE_LIMIT
from cordee.queries import accounts as account_queries
from cordee.queries.personal import preferences_of


async def read_pictures(ctx: Ctx) -> dict[str, bytes]:
    """The uploaded avatar and header, by kind (one byte past the limit is enough to refuse one)."""
    pictures: dict[str, bytes] = {}
    for kind in ("avatar", "header"):
        upload = ctx.params.raw(kind)
        if upload is None or upload == "":  # as absent (a form's empty file field, a JSON null)
            continue
        if not isinstance(upload, UploadFile):
            raise ApiError(422, f"Validation failed: {kind} must be a file (send it as multipart form data)")
        pictures[kind] = await upload.read(PROFILE_IMAGE_LIMIT + 1)
    return pictures


async def credential_account(ctx: Ctx) -> Response:
    user = await ctx.user()
    async with ctx.db.read() as session:
        account = await account_queries.account_by_id(session, ctx.account_id)
        prefs = await preferences_of(session, ctx.account_id)
    assert account is not None
    return json_response(render_credential_account(ctx.settings, account, user, prefs))


@endpoint(scope="write:accounts", auth="required")
async def delete_avatar(ctx: Ctx) -> Response:
    await remove_profile_picture(ctx.db, ctx.settings, ctx.account_id, "avatar")
    return await credential_account(ctx)


@endpoint(scope="write:accounts", auth="required")
async def delete_header(ctx: Ctx) -> Response:
    await remove_profile_picture(ctx.db, ctx.settings, ctx.account_id, "header")
    return await credential_account(ctx)


routes = [
    Route("/api/v1/profile/avatar", delete_avatar, methods=["DELETE"]),
    Route("/api/v1/profile/header", delete_header, methods=["DELETE"]),
]
