"""The exports of tracked-search analytics: one record per note, as JSON and as CSV (RFC 4180,
UTF-8, a header row): the CSV reads back to exactly the JSON records (``corrected`` as
``true``/``false``, hashtags separated by spaces)."""

from __future__ import annotations

import csv
import io
from typing import Any

from cordee.api.mastodon.serializers.accounts import acct
from cordee.api.mastodon.serializers.common import iso
from cordee.config import Settings

#: The columns of the CSV export, in order (the JSON export has the same keys).
CSV_FIELDS = (
    "status_id",
    "created_at",
    "acct",
    "followers_count",
    "language",
    "sentiment",
    "sentiment_score",
    "corrected",
    "hashtags",
    "url",
    "text",
)


def export_record(settings: Settings, r: dict[str, Any]) -> dict[str, Any]:
    return {
        "status_id": str(r["status_id"]),
        "created_at": iso(r["created_at"]),
        "acct": acct(settings, r["account"]),
        "followers_count": r["followers_count"],
        "language": r["language"] or "",
        "sentiment": r["sentiment"],
        "sentiment_score": r["sentiment_score"],
        "corrected": r["corrected"],
        "hashtags": " ".join(r["hashtags"]),
        "url": f"{settings.base_url}/@{r['account'].username}/{r['status_id']}",
        "text": r["text"],
    }


def to_csv(records: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\r\n")
    writer.writeheader()
    for record in records:
        writer.writerow({**record, "corrected": "true" if record["corrected"] else "false"})
    return out.getvalue()
