from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kvartplata.billing.calc.ledger import MonthLedger, MonthTotals, ledger_total, roll_forward
from kvartplata.lib.periods import add_months

D = Decimal


def test_it_rolls_the_balance_forward():
    rows = roll_forward(
        D("100.00"),
        [
            MonthTotals(
                date(2026, 1, 1),
                charges=D("2000.00"),
                recalculations=D("-50.00"),
                penalties=D("1.17"),
                payments=D("1500.00"),
            ),
            MonthTotals(date(2026, 2, 1), charges=D("2000.00"), payments=D("3000.00")),
        ],
    )
    # January: 100 + 2000 − 50 + 1,17 − 1500 = 551,17 owed
    assert rows[0].start == D("100.00")
    assert rows[0].end == D("551.17")
    # February: 551,17 + 2000 − 3000 = −448,83, an overpayment
    assert rows[1].start == D("551.17")
    assert rows[1].end == D("-448.83")


def test_it_fills_a_month_without_movement():
    rows = roll_forward(
        D("10.00"),
        [
            MonthTotals(date(2026, 1, 1), charges=D("5.00")),
            MonthTotals(date(2026, 3, 1), payments=D("15.00")),
        ],
    )
    assert [row.month for row in rows] == [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
    # February carries 15,00 through unchanged; March pays it off.
    assert (rows[1].start, rows[1].end) == (D("15.00"), D("15.00"))
    assert rows[2].end == 0


def test_it_refuses_months_out_of_order():
    with pytest.raises(ValueError):
        roll_forward(D(0), [MonthTotals(date(2026, 2, 1)), MonthTotals(date(2026, 1, 1))])
    with pytest.raises(ValueError):
        roll_forward(D(0), [MonthTotals(date(2026, 2, 1)), MonthTotals(date(2026, 2, 1))])


def test_it_gives_nothing_for_no_months():
    assert roll_forward(D("5.00"), []) == []


def test_it_finds_a_stored_end_that_drifted():
    row = MonthLedger(
        month=date(2026, 1, 1),
        start=D("100.00"),
        charges=D("50.00"),
        recalculations=D("0.00"),
        penalties=D("0.00"),
        payments=D("20.00"),
        end=D("131.00"),
    )
    # 100 + 50 − 20 = 130, not the stored 131
    assert row.compute_end() == D("130.00")
    assert row.compute_end() != row.end


def test_it_totals_several_months():
    rows = roll_forward(
        D("100.00"),
        [
            MonthTotals(date(2026, 1, 1), charges=D("2000.00"), payments=D("1500.00")),
            MonthTotals(date(2026, 2, 1), charges=D("2000.00"), penalties=D("3.17")),
        ],
    )
    total = ledger_total(rows)
    # 100 + 4000 + 3,17 − 1500 = 2603,17
    assert (total.start, total.charges, total.penalties, total.payments) == (
        D("100.00"),
        D("4000.00"),
        D("3.17"),
        D("1500.00"),
    )
    assert total.end == D("2603.17") == total.compute_end()


money = st.decimals(min_value=D("-100000"), max_value=D("100000"), places=2)
month_totals = st.tuples(money, money, money, money, st.integers(min_value=1, max_value=3))


@given(money, st.lists(month_totals, max_size=24))
def test_it_keeps_the_invariant_for_any_months(start, movements):
    months, month = [], date(2025, 1, 1)
    for charges, recalculations, penalties, payments, step in movements:
        month = add_months(month, step)
        months.append(MonthTotals(month, charges, recalculations, penalties, payments))
    rows = roll_forward(start, months)
    previous_end = start
    for row in rows:
        assert row.start == previous_end
        assert row.end == row.compute_end()
        previous_end = row.end
    expected = start + sum(
        (m.charges + m.recalculations + m.penalties - m.payments for m in months), D(0)
    )
    assert previous_end == expected
    if rows:
        assert ledger_total(rows).compute_end() == expected
