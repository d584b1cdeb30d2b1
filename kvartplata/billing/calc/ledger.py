"""Money movement of a personal account month by month, each month starting where the last ended."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from kvartplata.lib.periods import add_months

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class MonthTotals:
    """The sums of one month's journal entries by kind, as a query over the ledger gives them."""

    month: date
    charges: Decimal = ZERO
    recalculations: Decimal = ZERO
    penalties: Decimal = ZERO
    payments: Decimal = ZERO


@dataclass(frozen=True)
class MonthLedger:
    """One month of an account's movement: start + charges + recalculations + penalties − payments.

    A positive balance is a debt («долг»), a negative one an overpayment («переплата»).
    """

    month: date
    start: Decimal
    charges: Decimal
    recalculations: Decimal
    penalties: Decimal
    payments: Decimal
    end: Decimal

    def compute_end(self) -> Decimal:
        """The end balance the movement implies; equals `end` unless a stored figure drifted."""
        return self.start + self.charges + self.recalculations + self.penalties - self.payments


def roll_forward(start: Decimal, months: Sequence[MonthTotals]) -> list[MonthLedger]:
    """Chain months so that each month starts with the previous month's end.

    `months` are in order; a month missing between two given ones (no entries) gets a row of
    zeros, so that the rows are consecutive and no movement can hide in a gap.
    """
    rows: list[MonthLedger] = []
    balance = start
    for totals in months:
        if rows and totals.month <= rows[-1].month:
            raise ValueError("Месяцы должны идти по порядку и не повторяться.")
        while rows and add_months(rows[-1].month, 1) < totals.month:
            rows.append(_row(MonthTotals(add_months(rows[-1].month, 1)), balance))
        rows.append(_row(totals, balance))
        balance = rows[-1].end
    return rows


def ledger_total(rows: Sequence[MonthLedger]) -> MonthLedger:
    """The movement over several consecutive months, as one row dated by the first month."""
    if not rows:
        raise ValueError("Нет месяцев для итога.")
    return MonthLedger(
        month=rows[0].month,
        start=rows[0].start,
        charges=sum((row.charges for row in rows), ZERO),
        recalculations=sum((row.recalculations for row in rows), ZERO),
        penalties=sum((row.penalties for row in rows), ZERO),
        payments=sum((row.payments for row in rows), ZERO),
        end=rows[-1].end,
    )


def _row(totals: MonthTotals, start: Decimal) -> MonthLedger:
    end = start + totals.charges + totals.recalculations + totals.penalties - totals.payments
    return MonthLedger(
        month=totals.month,
        start=start,
        charges=totals.charges,
        recalculations=totals.recalculations,
        penalties=totals.penalties,
        payments=totals.payments,
        end=end,
    )
