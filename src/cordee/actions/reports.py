"""Reporting an account (and some of its notes) to the moderators; stored for moderation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select

from cordee.actions.errors import NotFound, ValidationFailed
from cordee.db.engine import Database
from cordee.db.tables import Account, Status
from cordee.db.tables_curation import Report
from cordee.queries.visibility import visible_to

CATEGORIES = ("spam", "legal", "violation", "other")
MAX_COMMENT = 1000
MAX_STATUSES = 100
#: The instance's rules, by id (the instance publishes none yet, so no rule can be cited).
RULE_IDS: frozenset[int] = frozenset()


@dataclass(frozen=True)
class NewReport:
    account_id: int
    status_ids: Sequence[int] = ()
    comment: str = ""
    category: str | None = None
    rule_ids: Sequence[int] = field(default_factory=tuple)
    forward: bool = False


async def file_report(db: Database, reporter_id: int, new: NewReport) -> int:
    """File a report; returns its id. The notes must be the reported account's, and ones the
    reporter can see; the cited rules must exist. Nothing is stored when anything is wrong."""
    category = new.category or ("violation" if new.rule_ids else "other")
    if category not in CATEGORIES:
        raise ValidationFailed(f"Validation failed: Category must be one of {', '.join(CATEGORIES)}")
    comment = new.comment.strip()
    if len(comment) > MAX_COMMENT:
        raise ValidationFailed(
            f"Validation failed: Comment is too long (maximum is {MAX_COMMENT} characters)"
        )
    unknown_rules = sorted(set(new.rule_ids) - RULE_IDS)
    if unknown_rules:
        raise ValidationFailed(f"Validation failed: Rule {', '.join(map(str, unknown_rules))} does not exist")
    status_ids = list(dict.fromkeys(new.status_ids))
    if len(status_ids) > MAX_STATUSES:
        raise ValidationFailed(f"Validation failed: at most {MAX_STATUSES} statuses per report")
    if new.account_id == reporter_id:
        raise ValidationFailed("Validation failed: You cannot report yourself")
    async with db.write() as tx:
        if await tx.session.get(Account, new.account_id) is None:
            raise NotFound()
        found = (
            set(
                await tx.session.scalars(
                    select(Status.id).where(
                        Status.id.in_(status_ids),
                        Status.account_id == new.account_id,
                        visible_to(reporter_id),
                    )
                )
            )
            if status_ids
            else set()
        )
        if len(found) != len(status_ids):
            raise NotFound("Record not found: the statuses must be the reported account's")
        report = Report(
            account_id=reporter_id,
            target_account_id=new.account_id,
            status_ids=" ".join(map(str, status_ids)),
            rule_ids=" ".join(map(str, dict.fromkeys(new.rule_ids))),
            comment=comment,
            category=category,
            forward=new.forward,
        )
        tx.session.add(report)
        await tx.session.flush()
        return report.id
