"""Cells for CSV and xlsx exports that are safe to open in a spreadsheet.

A text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read by
Excel/LibreOffice as a formula (CSV/formula injection: `=HYPERLINK(...)`, `+cmd|...`,
`@SUM(...)`). Such a cell gets a leading apostrophe, which spreadsheets show as text.
Numbers and dates are written as they are: they are values, never formulas.
"""

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """The value of one export cell, neutralized if it is text that a spreadsheet would run."""
    if value is None or isinstance(value, bool | int | float | Decimal | date):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def safe_row(values: Iterable) -> list:
    """`safe_cell` over every cell of a row."""
    return [safe_cell(v) for v in values]


def unquote_cell(text: str) -> str:
    """The text of a cell as exported: the apostrophe `safe_cell` put before a formula-like text
    is taken off again, so that an exported file loads back as it was."""
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text
