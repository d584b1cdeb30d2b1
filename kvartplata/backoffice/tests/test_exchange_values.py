"""Cell values of the exchange format: what is written (or typed in a spreadsheet) reads back."""

import datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kvartplata.backoffice.exchange.files import _cell_text
from kvartplata.backoffice.exchange.load import LineError, _date, _decimal, _month

money = st.decimals(min_value=Decimal("-999999999.99"), max_value=Decimal("999999999.99"), places=2)
days = st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2100, 12, 31))


@given(money)
def test_it_reads_back_an_amount_as_exported_and_as_typed(value):
    assert _decimal(str(value), "сумма", 2) == value
    assert _decimal(str(value).replace(".", ","), "сумма", 2) == value


@given(money)
def test_it_reads_a_spreadsheets_number_cell_as_the_amount_shown(value):
    # A number cell of another tool arrives as a float: its shortest text is the amount.
    assert _decimal(_cell_text(float(value)), "сумма", 2) == value


@given(days)
def test_it_reads_a_date_in_both_spellings(day):
    assert _date(day.isoformat(), "дата") == day
    assert _date(day.strftime("%d.%m.%Y"), "дата") == day
    assert _date(_cell_text(datetime.datetime.combine(day, datetime.time())), "дата") == day


@given(days)
def test_it_reads_a_month_in_both_spellings(day):
    month = day.replace(day=1)
    assert _month(f"{day:%Y-%m}", "месяц") == month
    assert _month(f"{day:%m.%Y}", "месяц") == month
    assert _month(month.isoformat(), "месяц") == month


@pytest.mark.parametrize(
    ("text", "reason"),
    [("12,345", "не более 2 знаков"), ("1e5x", "не число"), ("NaN", "не число")],
)
def test_it_refuses_an_amount_that_is_not_one(text, reason):
    with pytest.raises(LineError, match=reason):
        _decimal(text, "сумма", 2)


@pytest.mark.parametrize("text", ["2026-13", "13.2026", "2026-02-15", "март"])
def test_it_refuses_what_is_not_a_month(text):
    with pytest.raises(LineError, match="неверный месяц"):
        _month(text, "месяц")


@pytest.mark.parametrize("text", ["31.02.2026", "2026/01/01", "1.1.26"])
def test_it_refuses_what_is_not_a_date(text):
    with pytest.raises(LineError, match="неверная дата"):
        _date(text, "дата")
