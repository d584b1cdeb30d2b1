"""Bounds of numbers and dates at every entrance (issue #16, item 3): kvartplata.lib.ranges."""

import datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kvartplata.lib.ranges import (
    TARIFF_LIMIT,
    VOLUME_LIMIT,
    amount_problem,
    bounds_for,
    date_problem,
    quantity_problem,
)

TODAY = datetime.date(2026, 12, 5)
BOUNDS = bounds_for(
    first_month=datetime.date(2026, 8, 1), today=TODAY, max_amount=Decimal("1000000.00")
)


def test_it_spans_the_first_period_to_a_year_ahead():
    # 5 December 2026 + 365 days = 5 December 2027 (no 29 February in between).
    assert (BOUNDS.earliest, BOUNDS.latest) == (
        datetime.date(2026, 8, 1),
        datetime.date(2027, 12, 5),
    )


def test_it_starts_at_this_month_without_any_period():
    bounds = bounds_for(first_month=None, today=TODAY, max_amount=Decimal(1))
    assert bounds.earliest == datetime.date(2026, 12, 1)


@pytest.mark.parametrize(
    ("day", "message"),
    [
        (datetime.date(2026, 8, 1), ""),
        (datetime.date(2027, 12, 5), ""),
        (
            datetime.date(2026, 7, 31),
            "Дата 31.07.2026 — раньше первого расчётного периода организации (01.08.2026).",
        ),
        (
            datetime.date(2027, 12, 6),
            "Дата 06.12.2027 — больше чем на год вперёд (позже 05.12.2027).",
        ),
        (
            datetime.date(226, 12, 3),
            "Дата 03.12.0226 — раньше первого расчётного периода организации (01.08.2026).",
        ),
        (
            datetime.datetime(2099, 1, 1, 10, 0),
            "Дата 01.01.2099 — больше чем на год вперёд (позже 05.12.2027).",
        ),
    ],
)
def test_it_names_a_date_out_of_range(day, message):
    assert date_problem(day, BOUNDS) == message


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (Decimal("1000000.00"), ""),
        (Decimal("0"), ""),
        (
            Decimal("1000000.01"),
            "Сумма 1000000.01 ₽ — больше допустимой для одной строки "
            "(1\u00a0000\u00a0000,00\u00a0₽, настройка MAX_LINE_AMOUNT).",
        ),
        (Decimal("-1"), "Сумма -1 — отрицательное число."),
        (Decimal("Infinity"), "Сумма «Infinity» — не число."),
        (Decimal("NaN"), "Сумма «NaN» — не число."),
    ],
)
def test_it_names_an_amount_out_of_range(amount, message):
    assert amount_problem(amount, BOUNDS) == message


def test_it_bounds_volumes_and_tariffs_by_their_columns():
    assert quantity_problem(Decimal("999999999999.999999"), limit=VOLUME_LIMIT, what="Объём") == ""
    assert "слишком большое" in quantity_problem(Decimal("1e12"), limit=VOLUME_LIMIT, what="Объём")
    assert "слишком большое" in quantity_problem(Decimal("1e400"), limit=VOLUME_LIMIT, what="Объём")
    assert "отрицательное" in quantity_problem(
        Decimal("-0.000001"), limit=TARIFF_LIMIT, what="Тариф"
    )


@given(st.decimals(allow_nan=True, allow_infinity=True))
def test_it_accepts_only_finite_amounts_within_the_line_maximum(amount):
    ok = amount_problem(amount, BOUNDS) == ""
    assert ok == (amount.is_finite() and Decimal(0) <= amount <= Decimal("1000000.00"))
