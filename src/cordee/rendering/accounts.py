"""Account entities on the hot read path: each account's body kept (``rendering/cache.py``, dropped
when the account changes), its counters read fresh with one statement for them all — as the
accounts inside notes are rendered."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cordee.config import Settings
from cordee.db.engine import Database
from cordee.queries.pages import live_rows
from cordee.queries.timelines import ACCOUNT_LIVE
from cordee.rendering.statuses import account_bodies, with_counters


async def account_entities(db: Database, settings: Settings, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The Account entities of those of ``ids`` that exist, by id."""
    wanted = list(dict.fromkeys(ids))
    hot = db.hot_replica
    bodies = await account_bodies(hot, settings, db.entities, wanted)
    return {
        account_id: with_counters(bodies[account_id], *counters)
        for account_id, *counters in await live_rows(hot, wanted, ACCOUNT_LIVE, {})
        if account_id in bodies  # an account gone between the two reads is left out
    }
