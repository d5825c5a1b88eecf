"""Filter, FilterKeyword, FilterStatus and FilterResult entities, and filtering a page of statuses
for the context it is shown in (used by ``render_statuses``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cordee.api.mastodon.serializers.common import iso
from cordee.db.tables import Status
from cordee.db.tables_curation import Filter, FilterKeyword, FilterStatus
from cordee.queries.filters import FilterMatch, contexts_of, judge_page


def render_keyword(keyword: FilterKeyword) -> dict[str, Any]:
    return {"id": str(keyword.id), "keyword": keyword.keyword, "whole_word": keyword.whole_word}


def render_filter_status(row: FilterStatus) -> dict[str, Any]:
    return {"id": str(row.id), "status_id": str(row.status_id)}


def render_filter(
    row: Filter,
    keywords: Sequence[FilterKeyword] | None = None,
    statuses: Sequence[FilterStatus] | None = None,
) -> dict[str, Any]:
    """A Filter; without ``keywords``/``statuses`` (as inside a FilterResult) those are left out."""
    entity: dict[str, Any] = {
        "id": str(row.id),
        "title": row.title,
        "context": contexts_of(row),
        "filter_action": row.action,
        "expires_at": iso(row.expires_at),
    }
    if keywords is not None:
        entity["keywords"] = [render_keyword(k) for k in keywords]
    if statuses is not None:
        entity["statuses"] = [render_filter_status(s) for s in statuses]
    return entity


def render_filter_result(found: FilterMatch) -> dict[str, Any]:
    return {
        "filter": render_filter(found.filter),
        "keyword_matches": list(found.keyword_matches) or None,
        "status_matches": [str(i) for i in found.status_matches] or None,
    }


async def apply_filters(
    session: AsyncSession, viewer_id: int, statuses: Sequence[Status], context: str
) -> tuple[list[Status], dict[int, list[dict[str, Any]]]]:
    """The statuses left once ``hide`` filters removed theirs, and the FilterResults of the others
    by status id (a reblog's and its original's)."""
    verdict = await judge_page(session, viewer_id, statuses, context)
    return verdict.kept, {
        status_id: [render_filter_result(m) for m in found] for status_id, found in verdict.matches.items()
    }
