"""Billing periods: a period is a calendar month, stored as the date of its first day."""

import re
from datetime import date

MONTH_NAMES = (
    "январь",
    "февраль",
    "март",
    "апрель",
    "май",
    "июнь",
    "июль",
    "август",
    "сентябрь",
    "октябрь",
    "ноябрь",
    "декабрь",
)

_PERIOD_RE = re.compile(r"([0-9]{4})-([0-9]{2})")


def format_date(day: date) -> str:
    """A day the Russian way: «05.03.2026» (the year padded to four digits: %Y is not)."""
    return f"{day.day:02d}.{day.month:02d}.{day.year:04d}"


def month_start(day: date) -> date:
    """The period a day belongs to: the first day of its month."""
    return day.replace(day=1)


def add_months(day: date, n: int) -> date:
    """The period n months after (or before, if n < 0) the period of `day`."""
    index = day.year * 12 + day.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def parse_period(value: str) -> date:
    """Parse «YYYY-MM» (as in URLs and forms) into a period."""
    match = _PERIOD_RE.fullmatch(value) if isinstance(value, str) else None
    if match:
        year, month = int(match[1]), int(match[2])
        if year >= 1 and 1 <= month <= 12:
            return date(year, month, 1)
    raise ValueError(f"Неверный период «{value}»: ожидается ГГГГ-ММ, например 2026-03.")


def months_between(first: date, last: date) -> list[date]:
    """All periods from the period of `first` to the period of `last`, both included."""
    months = []
    month = month_start(first)
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


def period_label(period: date) -> str:
    """The period as people say it: «март 2026»."""
    return f"{MONTH_NAMES[period.month - 1]} {period.year}"


MONTH_NAMES_GENITIVE = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)


def period_label_genitive(period: date) -> str:
    """The period after «с», «от», «до»: «с ноября 2025»."""
    return f"{MONTH_NAMES_GENITIVE[period.month - 1]} {period.year}"
