from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kvartplata.lib.periods import (
    add_months,
    format_date,
    month_start,
    months_between,
    parse_period,
    period_label,
)

days = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))


def test_it_takes_the_first_day_of_the_month():
    assert month_start(date(2026, 3, 17)) == date(2026, 3, 1)
    assert month_start(date(2026, 3, 1)) == date(2026, 3, 1)


def test_it_adds_months_across_years():
    assert add_months(date(2026, 11, 1), 1) == date(2026, 12, 1)
    assert add_months(date(2026, 12, 1), 1) == date(2027, 1, 1)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 1)
    assert add_months(date(2026, 1, 1), -1) == date(2025, 12, 1)
    assert add_months(date(2026, 3, 1), -15) == date(2024, 12, 1)
    assert add_months(date(2026, 3, 1), 0) == date(2026, 3, 1)


def test_it_parses_a_period():
    assert parse_period("2026-03") == date(2026, 3, 1)
    assert parse_period("1999-12") == date(1999, 12, 1)


@pytest.mark.parametrize(
    "value",
    ["2026-13", "2026-00", "0000-01", "26-03", "2026-3", "2026/03", "2026-03-01", " 2026-03", ""],
)
def test_it_refuses_a_bad_period_in_russian(value):
    with pytest.raises(ValueError, match="ГГГГ-ММ"):
        parse_period(value)


def test_it_refuses_non_ascii_digits():
    with pytest.raises(ValueError):
        parse_period("٢٠٢٦-٠٣")


def test_it_lists_months_inclusively():
    assert months_between(date(2025, 11, 20), date(2026, 2, 3)) == [
        date(2025, 11, 1),
        date(2025, 12, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
    ]
    assert months_between(date(2026, 3, 1), date(2026, 3, 31)) == [date(2026, 3, 1)]


def test_it_lists_no_months_when_the_range_is_reversed():
    assert months_between(date(2026, 4, 1), date(2026, 3, 1)) == []


def test_it_labels_periods_in_russian():
    assert period_label(date(2026, 3, 1)) == "март 2026"
    assert period_label(date(2026, 1, 1)) == "январь 2026"
    assert period_label(date(2025, 12, 1)) == "декабрь 2025"
    assert period_label(date(2026, 5, 1)) == "май 2026"


@given(days, st.integers(min_value=-1200, max_value=1200))
def test_it_adds_and_subtracts_months_back_to_the_start(day, n):
    assert add_months(add_months(day, n), -n) == month_start(day)


@given(days)
def test_it_parses_what_it_formats(day):
    assert parse_period(f"{day.year:04d}-{day.month:02d}") == month_start(day)


@given(days, st.integers(min_value=0, max_value=240))
def test_it_lists_one_period_per_month(day, n):
    months = months_between(day, add_months(day, n))
    assert len(months) == n + 1
    assert all(add_months(a, 1) == b for a, b in zip(months, months[1:], strict=False))


def test_it_formats_a_day_the_russian_way_with_a_four_digit_year():
    assert format_date(date(2026, 3, 5)) == "05.03.2026"
    assert format_date(date(226, 12, 31)) == "31.12.0226"  # %Y would print «226»
