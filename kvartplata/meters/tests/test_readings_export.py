"""The readings export is safe to open in a spreadsheet (issue #16, item 4)."""

import csv
import io
from datetime import date

import pytest

from kvartplata.meters.imports import readings_export, readings_import
from kvartplata.meters.tests.conftest import add_reading

NOV = date(2026, 11, 1)


@pytest.mark.parametrize(
    "serial",
    ['=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "-1+2", "\t=1"],
)
def test_it_neutralizes_a_serial_number_that_is_a_formula(world, serial):
    world.cold.serial_number = serial
    world.cold.save(update_fields=["serial_number"])
    add_reading(world.cold, NOV, 135)
    text = readings_export(organization=world.organization, month=NOV)
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[1][:4] == ["1000015", "'" + serial, "2026-11", "135"]
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_it_neutralizes_an_account_number_that_is_a_formula(world):
    world.account.number = "=1+1"
    world.account.save(update_fields=["number"])
    add_reading(world.cold, NOV, 135)
    text = readings_export(organization=world.organization, month=NOV)
    assert "'=1+1;CW-1;2026-11;135;;;" in text.splitlines()


def test_it_loads_back_what_it_exported_with_a_formula_like_serial(world):
    world.cold.serial_number = "=1+1"
    world.cold.save(update_fields=["serial_number"])
    add_reading(world.cold, NOV, 135)
    text = readings_export(organization=world.organization, month=NOV)
    assert "1000015;'=1+1;2026-11;135;;;" in text.splitlines()
    world.cold.readings.filter(month=NOV).delete()
    report = readings_import(
        organization=world.organization, content=text.encode(), user=None, today=date(2026, 11, 20)
    )
    assert [r.serial_number for r in report.accepted] == ["=1+1"]
