"""Reminders before a chapter's event and the thank-you after it (actions/campaign_messages.py)."""

from __future__ import annotations

from collections.abc import Callable

from cordee.actions.campaign_messages import send_due
from cordee.config import Settings
from cordee.db.engine import Database
from cordee.jobs.runner import periodic
from cordee.mail import build_sender
from cordee.web.i18n import translations


def _gettext_for(lang: str) -> Callable[[str], str]:
    return translations(lang).gettext


@periodic("campaign_messages")
async def send_campaign_messages(db: Database, settings: Settings) -> int:
    return await send_due(db, settings, build_sender(settings), _gettext_for)
