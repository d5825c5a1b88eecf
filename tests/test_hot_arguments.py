"""Every statement of the hot read path (``db/hot.py``) gets the same arguments whichever way they
are laid out: the one-step gather (each named parameter processed once) or the plan's steps."""

from __future__ import annotations

import gc
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import DateTime

import cordee.app
from cordee.db.hot import HotQuery
from cordee.db.types import UTCDateTime, utcnow
from cordee.queries.timelines import HOME_CHECK


def _every_hot_query() -> list[HotQuery]:
    cordee.app.build_app  # noqa: B018 — importing the app imports every module that builds one
    return [o for o in gc.get_objects() if isinstance(o, HotQuery)]


def _arguments(query: HotQuery, dialect: str, params: dict[str, Any], gathered: bool) -> list[Any]:
    compiled = query.compiled(dialect)
    kept = compiled.gather
    if not gathered:
        compiled.gather = None
    try:
        return list(query.arguments(dialect, params)[1])
    finally:
        compiled.gather = kept


def _params(query: HotQuery, dialect: str, now: datetime) -> dict[str, Any]:
    """Values for the statement's parameters: ids for lists, the time for dates, else a number."""
    binds = query.statement.compile().binds
    params: dict[str, Any] = {}
    for name in query.compiled(dialect).required:
        if name in query.lists:
            params[name] = list(range(11, 11 + min(3, query.lists[name])))
        else:
            params[name] = now if isinstance(binds[name].type, UTCDateTime | DateTime) else 7
    return params


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_gathered_arguments_are_the_plans_own(dialect: str) -> None:
    queries = _every_hot_query()
    assert len(queries) > 20
    now = utcnow()
    for query in queries:
        params = _params(query, dialect, now)
        assert _arguments(query, dialect, params, True) == _arguments(query, dialect, params, False), str(
            query.statement
        )
    assert HOME_CHECK.fitting(8).compiled(dialect).gather is not None  # the reader named ~20 times
