"""Account, CredentialAccount and Relationship entities."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.api.mastodon.serializers.common import iso, iso_day
from cordee.config import Settings
from cordee.db.tables import Account, Block, Follow, FollowRequest, Mute, User
from cordee.db.tables_personal import Preferences
from cordee.db.types import utcnow
from cordee.domain.text import plain_text_bio_html

DEFAULT_AVATAR = "/static/avatar.png"
DEFAULT_HEADER = "/static/header.png"


def acct(settings: Settings, account: Account) -> str:
    return account.username if account.domain is None else f"{account.username}@{account.domain}"


def render_account(settings: Settings, account: Account) -> dict[str, Any]:
    url = f"{settings.base_url}/@{account.username}"
    avatar = account.avatar_url or settings.base_url + DEFAULT_AVATAR
    header = account.header_url or settings.base_url + DEFAULT_HEADER
    # Mastodon rounds created_at down to midnight UTC, to not reveal the exact moment.
    created = account.created_at.replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "id": str(account.id),
        "username": account.username,
        "acct": acct(settings, account),
        "display_name": account.display_name,
        "locked": account.locked,
        "bot": account.bot,
        "discoverable": account.discoverable,
        "indexable": account.discoverable,
        "group": False,
        "hide_collections": False,
        "noindex": False,
        "created_at": iso(created),
        "note": plain_text_bio_html(account.note) if account.note else "",
        "url": url,
        "uri": f"{settings.base_url}/users/{account.username}",
        "avatar": avatar,
        "avatar_static": avatar,
        "header": header,
        "header_static": header,
        "followers_count": account.followers_count,
        "following_count": account.following_count,
        "statuses_count": account.statuses_count,
        "last_status_at": iso_day(account.last_status_at),
        "emojis": [],
        "fields": [],
        "roles": [],
    }


def render_credential_account(
    settings: Settings, account: Account, user: User, prefs: Preferences | None = None
) -> dict[str, Any]:
    entity = render_account(settings, account)
    entity["source"] = {
        "privacy": prefs.default_visibility if prefs else "public",
        "sensitive": prefs.default_sensitive if prefs else False,
        "language": (prefs.default_language if prefs else None) or user.locale,
        "note": account.note,
        "fields": [],
        "follow_requests_count": 0,
        "discoverable": account.discoverable,
        "hide_collections": False,
        "indexable": account.discoverable,
        "attribution_domains": [],
    }
    entity["role"] = {
        "id": "3" if user.admin else "-99",
        "name": "Admin" if user.admin else "",
        "permissions": "1" if user.admin else "0",
        "color": "",
        "highlighted": user.admin,
    }
    return entity


async def render_relationships(
    session: AsyncSession, viewer_id: int, targets: Sequence[int]
) -> list[dict[str, Any]]:
    ids = list(dict.fromkeys(targets))
    if not ids:
        return []
    outgoing = {
        f.target_account_id: f
        for f in await session.scalars(
            select(Follow).where(Follow.account_id == viewer_id, Follow.target_account_id.in_(ids))
        )
    }
    requested = {
        r.target_account_id: r
        for r in await session.scalars(
            select(FollowRequest).where(
                FollowRequest.account_id == viewer_id, FollowRequest.target_account_id.in_(ids)
            )
        )
    }
    requested_by = set(
        await session.scalars(
            select(FollowRequest.account_id).where(
                FollowRequest.target_account_id == viewer_id, FollowRequest.account_id.in_(ids)
            )
        )
    )
    incoming = set(
        await session.scalars(
            select(Follow.account_id).where(Follow.target_account_id == viewer_id, Follow.account_id.in_(ids))
        )
    )
    blocking = set(
        await session.scalars(
            select(Block.target_account_id).where(
                Block.account_id == viewer_id, Block.target_account_id.in_(ids)
            )
        )
    )
    blocked_by = set(
        await session.scalars(
            select(Block.account_id).where(Block.target_account_id == viewer_id, Block.account_id.in_(ids))
        )
    )
    mutes = {
        m.target_account_id: m
        for m in await session.scalars(
            select(Mute).where(
                Mute.account_id == viewer_id,
                Mute.target_account_id.in_(ids),
                or_(Mute.expires_at.is_(None), Mute.expires_at > utcnow()),
            )
        )
    }
    result = []
    for target in ids:
        follow = outgoing.get(target) or requested.get(target)
        mute = mutes.get(target)
        result.append(
            {
                "id": str(target),
                "following": target in outgoing,
                "showing_reblogs": follow.show_reblogs if follow else False,
                "notifying": follow.notify if follow else False,
                "languages": follow.languages.split() if follow and follow.languages else None,
                "followed_by": target in incoming,
                "blocking": target in blocking,
                "blocked_by": target in blocked_by,
                "muting": mute is not None,
                "muting_notifications": bool(mute and mute.hide_notifications),
                "requested": target in requested,
                "requested_by": target in requested_by,
                "domain_blocking": False,
                "endorsed": False,
                "note": "",
            }
        )
    return result
