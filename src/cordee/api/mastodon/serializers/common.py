"""Small formatting rules shared by every entity."""

from __future__ import annotations

from datetime import datetime


def iso(moment: datetime | None) -> str | None:
    """Mastodon's timestamps: ISO 8601 in UTC with milliseconds and a ``Z``."""
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def iso_day(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%d") if moment else None
