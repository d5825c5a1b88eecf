"""List entities."""

from __future__ import annotations

from typing import Any

from cordee.db.tables_curation import TimelineList


def render_list(row: TimelineList) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "title": row.title,
        "replies_policy": row.replies_policy,
        "exclusive": row.exclusive,
    }
