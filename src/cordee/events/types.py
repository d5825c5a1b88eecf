"""Domain events: what actions tell the rest of the system after their transaction commits.

Each event carries ids and the few facts a consumer needs to route it (who wrote it, its
visibility, who is mentioned) so that the streaming layer can decide audiences without a query per
connection, and render each payload once per audience.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    """Base class; ``kind`` names the event on the wire of the Redis bus."""

    kind = "event"


@dataclass(frozen=True)
class StatusCreated(Event):
    status_id: int
    account_id: int
    visibility: str
    local: bool
    reblog_of_id: int | None
    in_reply_to_id: int | None
    mentioned_account_ids: tuple[int, ...]
    tags: tuple[str, ...]
    kind = "status.created"


@dataclass(frozen=True)
class StatusDeleted(Event):
    status_id: int
    account_id: int
    visibility: str
    mentioned_account_ids: tuple[int, ...]
    kind = "status.deleted"


@dataclass(frozen=True)
class NotificationCreated(Event):
    notification_id: int
    account_id: int
    type: str
    kind = "notification.created"


@dataclass(frozen=True)
class FollowChanged(Event):
    account_id: int
    target_account_id: int
    following: bool
    kind = "follow.changed"


@dataclass(frozen=True)
class AccountUpdated(Event):
    account_id: int
    kind = "account.updated"


@dataclass(frozen=True)
class BlockChanged(Event):
    """``account_id`` blocked (or unblocked) ``target_account_id``; follows both ways are gone."""

    account_id: int
    target_account_id: int
    blocking: bool
    kind = "block.changed"


@dataclass(frozen=True)
class MuteChanged(Event):
    account_id: int
    target_account_id: int
    muting: bool
    kind = "mute.changed"


@dataclass(frozen=True)
class FiltersChanged(Event):
    """One of the account's filters was created, changed or deleted (streamed as ``filters_changed``)."""

    account_id: int
    kind = "filters.changed"


@dataclass(frozen=True)
class StatusUpdated(Event):
    """A note was edited by its author (streamed as ``status.update``); the routing facts are those
    of the note after the edit, ``mentioned_account_ids`` included."""

    status_id: int
    account_id: int
    visibility: str
    local: bool
    in_reply_to_id: int | None
    mentioned_account_ids: tuple[int, ...]
    tags: tuple[str, ...]
    kind = "status.updated"


@dataclass(frozen=True)
class TokensRevoked(Event):
    """Access tokens stopped working: ``token_ids`` revoked (``/oauth/revoke``, refresh rotation), or
    every token of ``user_id`` (password changed or reset, account disabled), or the web sessions
    ``web_session_ids`` ended (signed out; the web app's stream is opened with its session, not a
    token). Every process closes the streams opened with them at once: a stream is authorised when
    it opens, never again after."""

    token_ids: tuple[int, ...] = ()
    user_id: int | None = None
    web_session_ids: tuple[int, ...] = ()
    kind = "tokens.revoked"
