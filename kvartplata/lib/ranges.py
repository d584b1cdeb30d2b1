"""Sane bounds for numbers and dates at every entrance (imports and back-office forms).

Pure checks: each returns a Russian message (without the line number — the caller adds it) or
"" when the value is acceptable. `registry.periods.organization_bounds` is the one place that
reads the bounds of an organization from the database and the settings.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from kvartplata.lib.money import format_rub, format_volume
from kvartplata.lib.periods import format_date

# A year ahead of today is the latest date accepted anywhere.
DAYS_AHEAD = 365
# What the database columns hold (MONEY 14.2, VOLUME 18.6, PRICE 12.4 in billing.models).
VOLUME_LIMIT = Decimal(10) ** 12
TARIFF_LIMIT = Decimal(10) ** 8
DEFAULT_MAX_LINE_AMOUNT = Decimal("1000000.00")


@dataclass(frozen=True)
class Bounds:
    """The dates and the largest amount of one line that an organization accepts."""

    earliest: datetime.date
    latest: datetime.date
    max_amount: Decimal


def bounds_for(
    *, first_month: datetime.date | None, today: datetime.date, max_amount: Decimal
) -> Bounds:
    """From the organization's first period (or, without one, this month) to a year ahead."""
    earliest = first_month or today.replace(day=1)
    return Bounds(
        earliest=earliest, latest=today + datetime.timedelta(days=DAYS_AHEAD), max_amount=max_amount
    )


def date_problem(value: datetime.date, bounds: Bounds, *, what: str = "Дата") -> str:
    """A date before the organization's first period or more than a year ahead."""
    if isinstance(value, datetime.datetime):
        value = value.date()
    if value < bounds.earliest:
        return (
            f"{what} {format_date(value)} — раньше первого расчётного периода организации "
            f"({format_date(bounds.earliest)})."
        )
    if value > bounds.latest:
        latest = format_date(bounds.latest)
        return f"{what} {format_date(value)} — больше чем на год вперёд (позже {latest})."
    return ""


def amount_problem(value: Decimal, bounds: Bounds, *, what: str = "Сумма") -> str:
    """A money amount of one line: finite, not negative, at most the maximum per line."""
    if not value.is_finite():
        return f"{what} «{value}» — не число."
    if value < 0:
        return f"{what} {value} — отрицательное число."
    if value > bounds.max_amount:
        return (
            f"{what} {value} ₽ — больше допустимой для одной строки "
            f"({format_rub(bounds.max_amount)}, настройка MAX_LINE_AMOUNT)."
        )
    return ""


def quantity_problem(value: Decimal, *, limit: Decimal, what: str) -> str:
    """A volume, tariff or reading: finite, not negative, below the column's limit."""
    if not value.is_finite():
        return f"{what} «{value}» — не число."
    if value < 0:
        return f"{what} {value} — отрицательное число."
    if value >= limit:
        return (
            f"{what} {value} — слишком большое число (допустимо меньше {format_volume(limit, 0)})."
        )
    return ""
