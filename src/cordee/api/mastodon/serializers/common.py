"""Small formatting rules shared by every entity."""

from __future__ import annotations

from datetime import datetime


def iso(moment: datetime | None) -> str | None:
    """Mastodon's timestamps: ISO 8601 in UTC with milliseconds and a ``Z``."""
    if moment is None:
        return None
    # isoformat, not strftime: the same text, ~6x faster (a page formats ~60 of these).
    return moment.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def iso_day(moment: datetime | None) -> str | None:
    return moment.date().isoformat() if moment else None
