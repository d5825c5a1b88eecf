"""``/api/v1/instance`` and ``/api/v2/instance``: what this server is and what it allows."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import orjson
from sqlalchemy import ColumnElement, exists, func, or_, select
from starlette.responses import Response
from starlette.routing import Route

from cordee import COMPATIBLE_API_VERSION, __version__
from cordee.actions import media, pins, polls
from cordee.actions.push import server_keys
from cordee.actions.tags import MAX_FEATURED_TAGS
from cordee.api.mastodon.base import Ctx, endpoint
from cordee.api.mastodon.serializers.accounts import render_account
from cordee.config import Settings
from cordee.db.tables import AccessToken, Account, Status, User
from cordee.db.tables_security import WebSession
from cordee.db.types import utcnow
from cordee.media.images import SUPPORTED_MIME_TYPES
from cordee.media.sniff import AUDIO_MIME_TYPES, VIDEO_MIME_TYPES

log = logging.getLogger(__name__)

VERSION = f"{COMPATIBLE_API_VERSION} (compatible; Cordée {__version__})"
API_VERSIONS = {"mastodon": 6}
# Media and poll limits, in both instance versions (clients read these keys from either, and
# Mastodon's v1 entity has all of them). Images only: the video limits are zero.
POLLS_CONFIG: dict[str, Any] = {
    "max_options": polls.MAX_OPTIONS,
    "max_characters_per_option": polls.MAX_CHARACTERS_PER_OPTION,
    "min_expiration": polls.MIN_EXPIRATION,
    "max_expiration": polls.MAX_EXPIRATION,
}


def _media_config(settings: Settings) -> dict[str, Any]:
    return {
        "supported_mime_types": SUPPORTED_MIME_TYPES + VIDEO_MIME_TYPES + AUDIO_MIME_TYPES,
        "description_limit": media.MAX_DESCRIPTION,
        "image_size_limit": settings.image_size_limit,
        "image_matrix_limit": settings.image_matrix_limit,
        "video_size_limit": settings.video_size_limit,
        "video_frame_rate_limit": settings.video_frame_rate_limit,
        "video_matrix_limit": settings.video_matrix_limit,
    }


def _streaming_url(settings: Settings) -> str:
    return settings.base_url.replace("http://", "ws://", 1).replace("https://", "wss://", 1)


def _statuses_config(settings: Settings) -> dict[str, Any]:
    return {
        "max_characters": settings.max_characters,
        "max_media_attachments": media.MAX_ATTACHMENTS,
        "characters_reserved_per_url": settings.characters_reserved_per_url,
    }


async def _contact_account(ctx: Ctx) -> dict[str, Any] | None:
    async with ctx.db.read() as session:
        admin = await session.scalar(
            select(Account)
            .join(User, User.account_id == Account.id)
            .where(User.admin.is_(True))
            .order_by(User.id)
        )
    return render_account(ctx.settings, admin) if admin else None


#: The instance entities are read by every app at start and on many pages; their figures (users,
#: notes) may lag this much, as Mastodon's do (it counts them in a periodic job).
CACHE_SECONDS = 30.0


async def _cached(ctx: Ctx, version: str, build: Callable[[Ctx], Awaitable[dict[str, Any]]]) -> Response:
    """The entity's JSON, built at most once every ``CACHE_SECONDS`` per process, by one request at
    a time: the others in flight wait for it when nothing is kept yet (a fresh process), or are
    answered what is kept while it builds the next (counting every note at a million of them took
    tens of ms, and every request in flight counted them again)."""
    state = ctx.request.app.state
    if not hasattr(state, "instance_memo"):
        state.instance_memo, state.instance_builds = {}, {}
    memo: dict[str, tuple[float, bytes]] = state.instance_memo
    builds: dict[str, asyncio.Task[bytes]] = state.instance_builds
    found = memo.get(version)
    if found is None or time.monotonic() - found[0] > CACHE_SECONDS:
        task = builds.get(version)
        if task is None:
            task = builds[version] = asyncio.create_task(_build(version, build(ctx), memo))
            task.add_done_callback(partial(_built, builds, version))
        if found is None:
            # Shielded: a reader who leaves does not cancel the build the others wait for.
            return Response(await asyncio.shield(task), media_type="application/json")
    return Response(found[1], media_type="application/json")


async def _build(
    version: str, building: Awaitable[dict[str, Any]], memo: dict[str, tuple[float, bytes]]
) -> bytes:
    started = time.monotonic()
    body = orjson.dumps(await building)
    memo[version] = (started, body)
    return body


def _built(builds: dict[str, asyncio.Task[bytes]], version: str, task: asyncio.Task[bytes]) -> None:
    builds.pop(version, None)
    if not task.cancelled() and task.exception() is not None:
        # Readers waiting on it got the error; those served the stale entity never see it.
        log.warning("building the instance entity failed", exc_info=task.exception())


@endpoint(auth="none")
async def instance_v2(ctx: Ctx) -> Response:
    return await _cached(ctx, "v2", _instance_v2)


@endpoint(auth="none")
async def instance_v1(ctx: Ctx) -> Response:
    return await _cached(ctx, "v1", _instance_v1)


def _active_since(cutoff: datetime) -> ColumnElement[bool]:
    """Mastodon's ``active_month`` counts the users who signed in during the last four weeks. No
    request here writes a "last seen" (it would cost every call), so the signs of use are those
    already kept: a sign-up, a token issued, a browser session seen, a note posted."""
    return or_(
        User.created_at >= cutoff,
        exists().where(AccessToken.user_id == User.id, AccessToken.created_at >= cutoff),
        exists().where(WebSession.user_id == User.id, WebSession.last_seen_at >= cutoff),
        exists().where(Account.id == User.account_id, Account.last_status_at >= cutoff),
    )


async def _instance_v2(ctx: Ctx) -> dict[str, Any]:
    s = ctx.settings
    async with ctx.db.read() as session:
        active = _active_since(utcnow() - timedelta(days=30))
        users = await session.scalar(select(func.count(User.id)).where(active)) or 0
    return {
        "domain": s.domain,
        "title": s.instance_title,
        "version": VERSION,
        "source_url": s.source_url or f"{s.base_url}/",
        "description": s.instance_description,
        "usage": {"users": {"active_month": users}},
        "thumbnail": {"url": f"{s.base_url}/static/header.png"},
        "icon": [],
        "languages": ["en", "fr"],
        "configuration": {
            "urls": {"streaming": _streaming_url(s), "status": None},
            "vapid": {"public_key": (await server_keys(ctx.db, s)).public_key},
            "accounts": {"max_featured_tags": MAX_FEATURED_TAGS, "max_pinned_statuses": pins.MAX_PINS},
            "statuses": _statuses_config(s),
            "media_attachments": _media_config(s),
            "polls": POLLS_CONFIG,
            "translation": {"enabled": False},
        },
        "registrations": {
            "enabled": s.registration_mode != "closed",
            "approval_required": s.registration_mode == "approval",
            "message": "Registration is by invitation." if s.registration_mode == "invite" else None,
            "url": None,
        },
        "api_versions": API_VERSIONS,
        # Unset, the contact address is "" as in Mastodon (its settings.yml default).
        "contact": {"email": s.contact_email, "account": await _contact_account(ctx)},
        "rules": [],
    }


async def _instance_v1(ctx: Ctx) -> dict[str, Any]:
    s = ctx.settings
    async with ctx.db.read() as session:
        users = await session.scalar(select(func.count(User.id))) or 0
        statuses = await session.scalar(select(func.count(Status.id))) or 0
    return {
        "uri": s.domain,
        "title": s.instance_title,
        "short_description": s.instance_description,
        "description": s.instance_description,
        "email": s.contact_email,
        "version": VERSION,
        "urls": {"streaming_api": _streaming_url(s)},
        "stats": {"user_count": users, "status_count": statuses, "domain_count": 1},
        "thumbnail": f"{s.base_url}/static/header.png",
        "languages": ["en", "fr"],
        "registrations": s.registration_mode != "closed",
        "approval_required": s.registration_mode == "approval",
        "invites_enabled": s.registration_mode == "invite",
        "configuration": {
            "accounts": {"max_featured_tags": MAX_FEATURED_TAGS},
            "statuses": _statuses_config(s),
            "media_attachments": _media_config(s),
            "polls": POLLS_CONFIG,
        },
        "contact_account": await _contact_account(ctx),
        "rules": [],
    }


routes = [
    Route("/api/v2/instance", instance_v2, methods=["GET"]),
    Route("/api/v1/instance", instance_v1, methods=["GET"]),
]
