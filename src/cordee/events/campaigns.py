"""Events of campaigns (the campaigns issue): join the codec by subclassing ``Event``."""

from __future__ import annotations

from dataclasses import dataclass

from cordee.events.types import Event


@dataclass(frozen=True)
class LedgerChanged(Event):
    """An entry was added to a chapter's ledger: the campaign's live totals have moved."""

    campaign_id: int
    chapter_id: int
    kind = "campaign.ledger"


@dataclass(frozen=True)
class WallPostHidden(Event):
    """An organiser took a note off a chapter's live wall."""

    chapter_id: int
    status_id: int
    kind = "campaign.wall_hidden"


@dataclass(frozen=True)
class WallPostApproved(Event):
    """An organiser let a note onto a chapter's wall (walls moderated before notes show)."""

    chapter_id: int
    status_id: int
    kind = "campaign.wall_approved"
