"""Denormalised counters, changed in SQL (``x = x + 1``) so concurrent writers never lose a count."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, case


def shifted(column: Any, delta: Any) -> ColumnElement[int]:
    """``column + delta``, never below zero (portable: no GREATEST on SQLite, no 2-arg MAX on PG).
    ``delta`` may be a bind parameter, in statements built once."""
    return case((column + delta < 0, 0), else_=column + delta)
