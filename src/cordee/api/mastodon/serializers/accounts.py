"""Account, CredentialAccount and Relationship entities."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, Boolean, Text, bindparam, literal, null, or_, select, union_all

from cordee.api.mastodon.serializers.common import iso, iso_day
from cordee.config import Settings
from cordee.db.hot import HotQueries, HotQuery, HotReader, slots
from cordee.db.tables import Account, AccountDomainBlock, Block, Follow, FollowRequest, Mute, User
from cordee.db.tables_personal import AccountNote, AccountPin, Preferences
from cordee.db.types import UTCDateTime, utcnow
from cordee.domain.text import plain_text_bio_html
from cordee.media.profile import DEFAULTS as PROFILE_DEFAULTS
from cordee.media.profile import urls as profile_urls

DEFAULT_AVATAR = PROFILE_DEFAULTS["avatar"]
#: Accounts per relationships request (Mastodon's ``id[]`` takes 40 at most here).
RELATIONSHIP_SLOTS = 40
DEFAULT_HEADER = PROFILE_DEFAULTS["header"]


def acct_of(username: str, domain: str | None) -> str:
    """Mastodon's ``acct``: the username, with the domain for remote accounts."""
    return username if domain is None else f"{username}@{domain}"


def acct(settings: Settings, account: Account) -> str:
    return acct_of(account.username, account.domain)


def profile_url(settings: Settings, username: str) -> str:
    return f"{settings.base_url}/@{username}"


def render_account(settings: Settings, account: Account) -> dict[str, Any]:
    url = profile_url(settings, account.username)
    avatar, avatar_static = profile_urls(settings, account.avatar_url, "avatar")
    header, header_static = profile_urls(settings, account.header_url, "header")
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
        "avatar_static": avatar_static,
        "header": header,
        "header_static": header_static,
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


_viewer: Any = bindparam("viewer", 0, type_=BigInteger())
_none_bool: Any = null().cast(Boolean)
_none_text: Any = null().cast(Text)


def _ties(width: int) -> HotQuery:
    """Every tie between the viewer and up to ``width`` accounts, in one statement: (kind,
    account, flags…)."""
    targets = slots("targets", width)
    return HotQuery(
        union_all(
            select(
                literal("f"), Follow.target_account_id, Follow.show_reblogs, Follow.notify, Follow.languages
            ).where(Follow.account_id == _viewer, Follow.target_account_id.in_(targets)),
            select(
                literal("q"),
                FollowRequest.target_account_id,
                FollowRequest.show_reblogs,
                FollowRequest.notify,
                FollowRequest.languages,
            ).where(FollowRequest.account_id == _viewer, FollowRequest.target_account_id.in_(targets)),
            select(literal("r"), FollowRequest.account_id, _none_bool, _none_bool, _none_text).where(
                FollowRequest.target_account_id == _viewer, FollowRequest.account_id.in_(targets)
            ),
            select(literal("i"), Follow.account_id, _none_bool, _none_bool, _none_text).where(
                Follow.target_account_id == _viewer, Follow.account_id.in_(targets)
            ),
            select(literal("b"), Block.target_account_id, _none_bool, _none_bool, _none_text).where(
                Block.account_id == _viewer, Block.target_account_id.in_(targets)
            ),
            select(literal("B"), Block.account_id, _none_bool, _none_bool, _none_text).where(
                Block.target_account_id == _viewer, Block.account_id.in_(targets)
            ),
            select(
                literal("m"), Mute.target_account_id, Mute.hide_notifications, _none_bool, _none_text
            ).where(
                Mute.account_id == _viewer,
                Mute.target_account_id.in_(targets),
                or_(Mute.expires_at.is_(None), Mute.expires_at > bindparam("now", type_=UTCDateTime())),
            ),
            select(literal("e"), AccountPin.target_account_id, _none_bool, _none_bool, _none_text).where(
                AccountPin.account_id == _viewer, AccountPin.target_account_id.in_(targets)
            ),
            select(
                literal("n"), AccountNote.target_account_id, _none_bool, _none_bool, AccountNote.comment
            ).where(AccountNote.account_id == _viewer, AccountNote.target_account_id.in_(targets)),
            # Accounts of a domain the viewer blocks (remote accounts only: local ones have no domain).
            select(literal("d"), Account.id, _none_bool, _none_bool, _none_text)
            .join(AccountDomainBlock, AccountDomainBlock.domain == Account.domain)
            .where(AccountDomainBlock.account_id == _viewer, Account.id.in_(targets)),
        ),
        lists={"targets": width},
    )


#: One account (the answer to a follow, a block, a mute…; a profile's relationship), or up to 40.
TIES = HotQueries(_ties, (1, RELATIONSHIP_SLOTS))


async def render_relationships(
    hot: HotReader, viewer_id: int, targets: Sequence[int]
) -> list[dict[str, Any]]:
    """Relationship entities of the viewer with each target (at most 40), in one statement."""
    ids = list(dict.fromkeys(targets))[:RELATIONSHIP_SLOTS]
    if not ids:
        return []
    ties: dict[str, dict[int, tuple[Any, ...]]] = {k: {} for k in "fqriBbmden"}
    for kind, account_id, *flags in await hot.rows(
        TIES.fitting(len(ids)), viewer=viewer_id, targets=ids, now=utcnow()
    ):
        ties[kind][account_id] = tuple(flags)
    result = []
    for target in ids:
        follow = ties["f"].get(target) or ties["q"].get(target)
        mute = ties["m"].get(target)
        result.append(
            {
                "id": str(target),
                "following": target in ties["f"],
                "showing_reblogs": bool(follow[0]) if follow else False,
                "notifying": bool(follow[1]) if follow else False,
                "languages": follow[2].split() if follow and follow[2] else None,
                "followed_by": target in ties["i"],
                "blocking": target in ties["b"],
                "blocked_by": target in ties["B"],
                "muting": mute is not None,
                "muting_notifications": bool(mute and mute[0]),
                "requested": target in ties["q"],
                "requested_by": target in ties["r"],
                "domain_blocking": target in ties["d"],
                "endorsed": target in ties["e"],
                "note": ties["n"][target][2] if target in ties["n"] else "",
            }
        )
    return result
