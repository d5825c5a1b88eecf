"""Reading reports, for the moderators' tools (``cordee report list``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from cordee.db.tables import Account
from cordee.db.tables_curation import Report


@dataclass(frozen=True)
class ReportLine:
    id: int
    created_at: datetime
    reporter: str
    target: str
    category: str
    status_count: int
    comment: str


async def recent_reports(session: AsyncSession, limit: int) -> list[ReportLine]:
    """The newest reports first, with the usernames of who reported whom."""
    reporter, target = aliased(Account), aliased(Account)
    rows = await session.execute(
        select(Report, reporter.username, target.username)
        .join(reporter, reporter.id == Report.account_id)
        .join(target, target.id == Report.target_account_id)
        .order_by(Report.id.desc())
        .limit(limit)
    )
    return [
        ReportLine(r.id, r.created_at, by, about, r.category, len(r.status_ids.split()), r.comment)
        for r, by, about in rows.all()
    ]
