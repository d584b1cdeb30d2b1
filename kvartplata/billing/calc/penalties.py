"""Penalties for late payment of housing and utility charges («пени», ЖК РФ ст. 155 ч. 14).

Conventions used throughout:

* Day k of a debt is `day - due_date` in days; the due date itself is day 0. Days 1–30 accrue
  nothing, days 31–90 accrue rate × 1/300 per day, day 91 onwards rate × 1/130.
* Windows of days are inclusive at both ends: [start, end].
* A payment reduces the debt from the day after its date: the day of payment still accrues
  (penalties run «по день фактической оплаты»).
* The rate of each day is the rate the table gives for that day. The Code names the rate on the
  day of payment, but the rate has been fixed by regulation since 2022, and a monthly billing
  cannot know the day of a future payment.
* Sums are kept exact and rounded half-up to kopecks once per debt line.
"""

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

from kvartplata.billing.calc import allocation
from kvartplata.lib.money import round_money

GRACE_DAYS = 30
LOW_RATE_LAST_DAY = 90
_ONE_DAY = timedelta(days=1)
ZERO = Decimal(0)


class RateUnknown(LookupError):
    """The rate table has no rate for a day on which a penalty accrues."""


@dataclass(frozen=True)
class RateTable:
    """Rates in percent per year by date: each rate holds from its date until the next one.

    `until` (exclusive) ends the last rate when the regulation that sets it has an end date;
    a penalty on a later day then fails loudly instead of using a stale rate.
    """

    entries: tuple[tuple[date, Decimal], ...]
    until: date | None = None

    def __post_init__(self) -> None:
        entries = tuple(sorted(self.entries))
        if not entries:
            raise ValueError("Таблица ставок пуста.")
        if len({valid_from for valid_from, _ in entries}) != len(entries):
            raise ValueError("В таблице ставок повторяется дата начала действия.")
        object.__setattr__(self, "entries", entries)

    def rate_on(self, day: date) -> Decimal:
        index = bisect_right([valid_from for valid_from, _ in self.entries], day)
        if index == 0 or (self.until is not None and day >= self.until):
            raise RateUnknown(f"Не задана ставка для расчёта пеней на {day:%d.%m.%Y}.")
        return self.entries[index - 1][1]

    def change_dates(self) -> list[date]:
        dates = [valid_from for valid_from, _ in self.entries]
        return dates + [self.until] if self.until is not None else dates


@dataclass(frozen=True)
class Moratorium:
    """Days on which no penalty accrues, `start` and `end` both included.

    `debts_due_before` limits a moratorium to debts whose due date came before that day, as the
    2022 one covered only debts that existed when it began; None means every debt.
    """

    start: date
    end: date
    debts_due_before: date | None = None

    def applies_to(self, due_date: date) -> bool:
        return self.debts_due_before is None or due_date < self.debts_due_before


# ПП № 474 of 26.03.2022, extended up to ПП № 329 of 18.03.2025: the key rate of 27.02.2022
# (9.5 %) until 1 January 2027. What comes after is not known yet and must be added. Its 2023–2024
# wording takes the lesser of 9.5 % and the key rate on the day of payment; the key rate has been
# above 9.5 % since 15.08.2023, so that only matters for payments between 25.07.2022 and then.
DEFAULT_KEY_RATES = RateTable(
    entries=((date(2022, 2, 28), Decimal("9.5")),),
    until=date(2027, 1, 1),
)

DEFAULT_MORATORIA = (
    # ПП № 424 of 02.04.2020: from its entry into force until 1 January 2021.
    Moratorium(date(2020, 4, 6), date(2020, 12, 31)),
    # ПП № 497 of 28.03.2022: six months from 1 April 2022, for debts that existed before it.
    Moratorium(date(2022, 4, 1), date(2022, 10, 1), debts_due_before=date(2022, 4, 1)),
)


@dataclass(frozen=True)
class Debt:
    """A charge of one month («долг за месяц») and the dated repayments allocated to it."""

    month: date
    due_date: date
    amount: Decimal
    repayments: tuple[tuple[date, Decimal], ...] = ()
    payee: int | None = None  # the provider it is due to (see calc.allocation)

    def outstanding_on(self, day: date) -> Decimal:
        """What is still unpaid on a day: payments count from the day after their date."""
        paid = sum((amount for paid_on, amount in self.repayments if paid_on < day), ZERO)
        return max(self.amount - paid, ZERO)


class Payment(NamedTuple):
    paid_on: date
    amount: Decimal
    month: date | None = None  # the period the payer named, if any


@dataclass(frozen=True)
class PenaltyLine:
    month: date
    amount: Decimal
    payee: int | None = None  # that of the debt it accrues on


def penalty_for_debt(
    *,
    amount: Decimal,
    due_date: date,
    start: date,
    end: date,
    rates: RateTable = DEFAULT_KEY_RATES,
    moratoria: Sequence[Moratorium] = DEFAULT_MORATORIA,
) -> Decimal:
    """Penalty accrued on the days [start, end] on an unchanging debt that was due on due_date."""
    accrual = _Accrual()
    accrual.add(amount, due_date, start, end, rates, moratoria)
    return accrual.total()


def penalties_for_month(
    debts: Sequence[Debt],
    *,
    month_start: date,
    month_end: date,
    rates: RateTable = DEFAULT_KEY_RATES,
    moratoria: Sequence[Moratorium] = DEFAULT_MORATORIA,
) -> list[PenaltyLine]:
    """Penalties accrued in the days [month_start, month_end], one line per debt that has one.

    `debts` are all charges not paid off before the month, including ones not yet due; their
    repayments come from the recorded allocation of payments (see `allocate_payment`).
    """
    lines = []
    for debt in debts:
        accrual = _Accrual()
        # The debt only changes on the day after a payment, so accrue piece by piece.
        cuts = [paid_on + _ONE_DAY for paid_on, _ in debt.repayments]
        for piece_start, piece_end in _pieces(month_start, month_end, cuts):
            accrual.add(
                debt.outstanding_on(piece_start),
                debt.due_date,
                piece_start,
                piece_end,
                rates,
                moratoria,
            )
        total = accrual.total()
        if total > 0:
            lines.append(PenaltyLine(month=debt.month, amount=total, payee=debt.payee))
    return lines


def allocate_payment(
    amount: Decimal, open_debts: Mapping[date, Decimal], named_month: date | None = None
) -> list[tuple[date | None, Decimal]]:
    """Split a payment over the open debts of one payee by month: the named month first, then
    oldest first (`calc.allocation.allocate_payment`, the one rule, with a single payee).

    What exceeds the named month's debt (or all of it, when that month owes nothing) goes to
    the other months oldest first, as money without a named period would (ГК РФ ст. 319.1).
    What is left after every debt is paid becomes an advance, the entry with month None.
    """
    parts = allocation.allocate_payment(
        amount, {(month, None): due for month, due in open_debts.items()}, named_month=named_month
    )
    return [(part.month, part.amount) for part in parts]


def apply_payments(
    debts: Sequence[Debt], payments: Iterable[Payment]
) -> tuple[list[Debt], Decimal]:
    """Allocate dated payments over the debts in date order; returns the debts and the advance.

    For when the allocation has not been recorded yet; once it has, build the debts' repayments
    from the records instead, so that penalties follow what the payer was told.
    """
    by_month = {debt.month: debt for debt in debts}
    if len(by_month) != len(debts):
        raise ValueError("Долг за каждый месяц должен быть указан один раз.")
    advance = ZERO
    for payment in sorted(payments, key=lambda p: p.paid_on):
        open_debts = {
            month: debt.outstanding_on(payment.paid_on + _ONE_DAY)
            for month, debt in by_month.items()
        }
        for month, part in allocate_payment(payment.amount, open_debts, payment.month):
            if month is None:
                advance += part
            else:
                debt = by_month[month]
                by_month[month] = replace(
                    debt, repayments=(*debt.repayments, (payment.paid_on, part))
                )
    return [by_month[debt.month] for debt in debts], advance


class _Accrual:
    """Exact running sum of a penalty: Σ amount × rate × days, kept apart by divisor."""

    def __init__(self) -> None:
        self.at_300 = ZERO
        self.at_130 = ZERO

    def add(
        self,
        amount: Decimal,
        due_date: date,
        start: date,
        end: date,
        rates: RateTable,
        moratoria: Sequence[Moratorium],
    ) -> None:
        if amount <= 0:
            return
        first_day = max(start, due_date + timedelta(days=GRACE_DAYS + 1))
        high_from = due_date + timedelta(days=LOW_RATE_LAST_DAY + 1)
        applicable = [m for m in moratoria if m.applies_to(due_date)]
        # Cut the window wherever the divisor, the rate or a moratorium changes.
        changes = {high_from, *rates.change_dates()}
        changes.update(day for m in applicable for day in (m.start, m.end + _ONE_DAY))
        for piece_start, piece_end in _pieces(first_day, end, changes):
            if any(m.start <= piece_start <= m.end for m in applicable):
                continue
            weighted = amount * rates.rate_on(piece_start) * ((piece_end - piece_start).days + 1)
            if piece_start < high_from:
                self.at_300 += weighted
            else:
                self.at_130 += weighted

    def total(self) -> Decimal:
        # Σ/(100 × 300) + Σ/(100 × 130) over one common denominator: a single division, so a
        # half-kopeck tie is seen as one.
        return round_money((self.at_300 * 13 + self.at_130 * 30) / 390000)


def _pieces(start: date, end: date, cuts: Iterable[date]) -> list[tuple[date, date]]:
    """Split [start, end] into consecutive inclusive pieces, a new piece beginning at each cut."""
    if start > end:
        return []
    bounds = [start, *sorted({cut for cut in cuts if start < cut <= end}), end + _ONE_DAY]
    return [(bounds[i], bounds[i + 1] - _ONE_DAY) for i in range(len(bounds) - 1)]
