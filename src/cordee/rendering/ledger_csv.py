"""The ledger as CSV, one row per entry, for the API's export and the organisers' download link
on the pages (docs/campaigns.md: the columns). Amounts keep their integer minor units
(``amount_cents``) next to the decimal text in the currency's precision (``amount``: "12.50"
EUR, "1250" JPY), never a float and never a locale's formatting, so a spreadsheet reads them the
same everywhere."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from babel.numbers import get_currency_precision
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cordee.api.mastodon.serializers.common import iso
from cordee.db.tables import Account
from cordee.db.tables_campaigns import Chapter, LedgerEntry

HEADER = [
    "id",
    "recorded_at",
    "chapter_id",
    "city",
    "kind",
    "amount_cents",
    "amount",
    "currency",
    "corrects_id",
    "ticket_id",
    "provider",
    "recorded_by",
    "note",
]


def decimal_amount(cents: int, currency: str) -> str:
    """Cents as the currency's decimal text (``1234`` EUR is ``12.34``, JPY has no decimals)."""
    return str(Decimal(cents).scaleb(-get_currency_precision(currency)))


def _cell(text: str) -> str:
    # A cell a spreadsheet would run as a formula is written as text (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


async def ledger_csv(session: AsyncSession, where: Any) -> str:
    """The entries matching ``where`` (a chapter's, a campaign's), oldest first."""
    buffer = io.StringIO()
    out = csv.writer(buffer)
    out.writerow(HEADER)
    rows = await session.execute(
        select(LedgerEntry, Chapter.city, Account.username)
        .join(Chapter, Chapter.id == LedgerEntry.chapter_id)
        .outerjoin(Account, Account.id == LedgerEntry.recorded_by)
        .where(where)
        .order_by(LedgerEntry.id)
    )
    for entry, city, username in rows:
        out.writerow(
            [
                entry.id,
                iso(entry.recorded_at),
                entry.chapter_id,
                _cell(city),
                entry.kind,
                entry.amount_cents,
                decimal_amount(entry.amount_cents, entry.currency),
                entry.currency,
                entry.corrects_id or "",
                entry.ticket_id or "",
                entry.provider,
                username or "",
                _cell(entry.note),
            ]
        )
    return buffer.getvalue()
