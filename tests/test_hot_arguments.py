"""Every statement of the hot paths (``db/hot.py``, ``db/hot_writes.py``) gets the same arguments
whichever way they are laid out: the one-step gather (each named parameter processed once) or the
plan's steps."""

from __future__ import annotations

import gc
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Boolean, DateTime, String

import cordee.app
from cordee.db.hot import _DIALECTS, HotQuery
from cordee.db.types import UTCDateTime, utcnow
from cordee.queries.timelines import HOME_CHECK


def _every_hot_query() -> list[HotQuery]:
    cordee.app.build_app  # noqa: B018 — importing the app imports every module that builds one
    # ``type``, not ``isinstance``: a weak proxy whose object died (another test's, in this worker)
    # raises ReferenceError when asked for its class.
    return [o for o in gc.get_objects() if issubclass(type(o), HotQuery)]


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
    """Values for the statement's parameters: ids for lists, the time for dates, a truth for
    booleans, a word for text, else a number."""
    binds = query.statement.compile(dialect=_DIALECTS[dialect]).binds
    params: dict[str, Any] = {}
    for name in query.compiled(dialect).required:
        if name in query.lists:
            params[name] = list(range(11, 11 + min(3, query.lists[name])))
            continue
        kind = binds[name].type
        if isinstance(kind, UTCDateTime | DateTime):
            params[name] = now
        else:
            params[name] = True if isinstance(kind, Boolean) else "x" if isinstance(kind, String) else 7
    return params


def _of_dialect(query: HotQuery, dialect: str) -> bool:
    """Whether the statement can run on ``dialect``: not another's own construct (a hot write's
    ``INSERT … ON CONFLICT`` is built once per database)."""
    module = type(query.statement).__module__
    return ".dialects." not in module or f".dialects.{dialect}." in module


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_gathered_arguments_are_the_plans_own(dialect: str) -> None:
    queries = _every_hot_query()
    assert len(queries) > 20
    now = utcnow()
    for query in (q for q in queries if _of_dialect(q, dialect)):
        params = _params(query, dialect, now)
        assert _arguments(query, dialect, params, True) == _arguments(query, dialect, params, False), str(
            query.statement
        )
    assert HOME_CHECK.fitting(8).compiled(dialect).gather is not None  # the reader named ~20 times
