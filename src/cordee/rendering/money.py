"""Amounts for people: integer minor units formatted by Babel in a currency and a locale
(« 1 500,00 € » in fr_FR, "£1,500.00" in en_GB), through ``Decimal``: no float."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency, get_currency_precision


def money(cents: int, currency: str, locale: str) -> str:
    return format_currency(Decimal(cents).scaleb(-get_currency_precision(currency)), currency, locale=locale)


def percent(raised: int, goal: int) -> int:
    """Whole percent of the goal reached, for a thermometer (integer division), at most 100."""
    return min(100, raised * 100 // goal) if goal > 0 else 0
