"""What a push delivery needs to know, for a batch of deliveries in one statement: the
subscription (where, which keys, its alerts and policy, its token), the notification and its
sender, the note it is about, the recipient's language, and the follows the policy looks at."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, or_, select, tuple_
from sqlalchemy.orm import aliased

from cordee.db.engine import Database
from cordee.db.tables import AccessToken, Account, Follow, Notification, Status, User
from cordee.db.tables_push import PushSubscription


@dataclass(frozen=True)
class PushFacts:
    subscription_id: int
    notification_id: int
    endpoint: str
    key_p256dh: str
    key_auth: str
    standard: bool
    data: dict[str, Any]
    token: str
    token_revoked: bool
    locale: str
    type: str
    created_at: datetime
    from_username: str
    from_display_name: str
    from_note: str
    from_avatar_url: str
    status_text: str | None
    status_spoiler: str | None
    #: Whether the recipient follows the sender, and the sender the recipient (the policies).
    recipient_follows: bool
    follows_recipient: bool


async def push_facts(db: Database, keys: Sequence[tuple[int, int]]) -> list[PushFacts]:
    """Facts of the (subscription id, notification id) pairs that still exist."""
    if not keys:
        return []
    sender = aliased(Account)
    query = (
        select(
            PushSubscription.id,
            Notification.id,
            PushSubscription.endpoint,
            PushSubscription.key_p256dh,
            PushSubscription.key_auth,
            PushSubscription.standard,
            PushSubscription.data,
            AccessToken.token,
            AccessToken.revoked_at.is_not(None),
            User.locale,
            Notification.type,
            Notification.created_at,
            sender.username,
            sender.display_name,
            sender.note,
            sender.avatar_url,
            Status.text,
            Status.spoiler_text,
            exists().where(
                Follow.account_id == Notification.account_id,
                Follow.target_account_id == Notification.from_account_id,
            ),
            exists().where(
                Follow.account_id == Notification.from_account_id,
                Follow.target_account_id == Notification.account_id,
            ),
        )
        .select_from(PushSubscription)
        .join(Notification, Notification.account_id == PushSubscription.account_id)
        .join(AccessToken, AccessToken.id == PushSubscription.access_token_id)
        .outerjoin(User, User.id == AccessToken.user_id)
        .join(sender, sender.id == Notification.from_account_id)
        .outerjoin(Status, Status.id == Notification.status_id)
        .where(
            or_(
                *(
                    and_(PushSubscription.id == sub_id, Notification.id == notif_id)
                    for sub_id, notif_id in keys
                )
            )
            if len(keys) < 2
            else tuple_(PushSubscription.id, Notification.id).in_(list(keys))
        )
    )
    async with db.read() as session:
        rows = (await session.execute(query)).all()
    return [
        PushFacts(
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            bool(row[5]),
            row[6] or {},
            row[7],
            bool(row[8]),
            row[9] or "en",
            row[10],
            row[11],
            row[12],
            row[13],
            row[14],
            row[15],
            row[16],
            row[17],
            bool(row[18]),
            bool(row[19]),
        )
        for row in rows
    ]
