"""CSV/xlsx cells are safe to open in a spreadsheet (issue #16, item 4)."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kvartplata.lib.exports import FORMULA_STARTS, safe_cell, safe_row, unquote_cell


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("http://evil.example","x")',
        "+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(1+1)",
        "\t=1+1",
        "\r=1+1",
    ],
)
def test_it_prefixes_text_that_a_spreadsheet_would_run(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["АБ-123", "12345", "", "Иванов", "'=already"])
def test_it_leaves_plain_text_alone(text):
    assert safe_cell(text) == text


@pytest.mark.parametrize(
    "value",
    [-5, 0, Decimal("-15.00"), Decimal("12.5"), -1.5, date(2026, 1, 1), datetime(2026, 1, 1)],
)
def test_it_keeps_numbers_and_dates_as_they_are(value):
    assert safe_cell(value) is value


def test_it_keeps_none_as_an_empty_cell():
    assert safe_cell(None) is None


def test_it_neutralizes_every_cell_of_a_row():
    assert safe_row(["=1", Decimal("-1"), "ok"]) == ["'=1", Decimal("-1"), "ok"]


@given(st.text())
def test_it_never_returns_text_a_spreadsheet_would_run(text):
    cell = safe_cell(text)
    assert not cell.startswith(FORMULA_STARTS)
    assert cell in (text, "'" + text)


@given(st.text())
def test_it_gives_back_any_exported_text(text):
    assert unquote_cell(safe_cell(text)) == text


def test_it_leaves_an_apostrophe_before_plain_text():
    assert unquote_cell("'Иванов") == "'Иванов"
    assert unquote_cell("'=1") == "=1"
