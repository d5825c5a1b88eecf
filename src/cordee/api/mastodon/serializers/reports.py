"""Report entities."""

from __future__ import annotations

from typing import Any

from cordee.api.mastodon.serializers.accounts import render_account
from cordee.api.mastodon.serializers.common import iso
from cordee.config import Settings
from cordee.db.tables import Account
from cordee.db.tables_curation import Report


def render_report(settings: Settings, report: Report, target: Account) -> dict[str, Any]:
    return {
        "id": str(report.id),
        "action_taken": report.action_taken_at is not None,
        "action_taken_at": iso(report.action_taken_at),
        "category": report.category,
        "comment": report.comment,
        # Nothing federates yet: a report is never forwarded to another server.
        "forwarded": False,
        "created_at": iso(report.created_at),
        "status_ids": report.status_ids.split() or None,
        "rule_ids": report.rule_ids.split() or None,
        "target_account": render_account(settings, target),
    }
