import math
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kvartplata.billing.calc.penalties import (
    DEFAULT_KEY_RATES,
    DEFAULT_MORATORIA,
    Debt,
    Moratorium,
    Payment,
    PenaltyLine,
    RateTable,
    RateUnknown,
    allocate_payment,
    apply_payments,
    penalties_for_month,
    penalty_for_debt,
)

D = Decimal
DUE = date(2025, 1, 10)  # day 30 is 09.02, day 31 is 10.02, day 90 is 10.04, day 91 is 11.04
OLD_RATES = RateTable(entries=((date(2019, 1, 1), D("6")),))


AMOUNT = D("10000")


def penalty(start, end, *, amount=AMOUNT, due_date=DUE, **kwargs):
    return penalty_for_debt(amount=amount, due_date=due_date, start=start, end=end, **kwargs)


def test_it_charges_nothing_for_the_first_30_days():
    assert penalty(date(2025, 1, 11), date(2025, 2, 9)) == 0


def test_it_starts_on_the_31st_day_at_one_300th():
    # 10000 × 9,5 % / 300 = 3,1666… → 3,17
    assert penalty(date(2025, 2, 10), date(2025, 2, 10)) == D("3.17")


def test_it_charges_one_300th_up_to_the_90th_day():
    # days 31..90 = 60 days: 10000 × 0,095 × 60 / 300 = 190,00
    assert penalty(date(2025, 1, 11), date(2025, 4, 10)) == D("190.00")


def test_it_charges_one_130th_from_the_91st_day():
    # 10000 × 0,095 / 130 = 7,3076… → 7,31
    assert penalty(date(2025, 4, 11), date(2025, 4, 11)) == D("7.31")


def test_it_rounds_once_per_line_not_per_day():
    # days 31..91: 190 + 7,3076923… = 197,3076923… → 197,31
    # (rounding each day would give 60 × 3,17 + 7,31 = 197,51)
    assert penalty(date(2025, 2, 10), date(2025, 4, 11)) == D("197.31")


def test_it_counts_a_month_window_inclusively():
    # March 2025 is days 50..80 of the debt, 31 days: 10000 × 0,095 × 31 / 300 = 98,1666… → 98,17
    assert penalty(date(2025, 3, 1), date(2025, 3, 31)) == D("98.17")


def test_it_charges_nothing_for_nothing_owed():
    assert penalty(date(2025, 3, 1), date(2025, 3, 31), amount=D("0")) == 0
    assert penalty(date(2025, 3, 1), date(2025, 3, 31), amount=D("-5")) == 0


def test_it_skips_moratorium_days():
    # due 10.02.2020; 01.04.2020 is day 51. 1–5 April accrue, 6–10 April are in the moratorium:
    # 10000 × 6 % / 300 = 2,00 a day × 5 = 10,00
    amount = penalty(
        date(2020, 4, 1), date(2020, 4, 10), due_date=date(2020, 2, 10), rates=OLD_RATES
    )
    assert amount == D("10.00")


def test_it_resumes_the_day_after_the_moratorium_ends():
    # 31.12.2020 is the last moratorium day; 01.01.2021 is day 326:
    # 10000 × 0,06 / 130 = 4,615… → 4,62
    amount = penalty(
        date(2020, 12, 31), date(2021, 1, 1), due_date=date(2020, 2, 10), rates=OLD_RATES
    )
    assert amount == D("4.62")


def test_it_limits_the_2022_moratorium_to_debts_that_existed_before():
    # due 10.03.2022: covered, nothing accrues on 20.04.2022
    assert penalty(date(2022, 4, 20), date(2022, 4, 20), due_date=date(2022, 3, 10)) == 0
    # due 10.04.2022: not covered; 11.05.2022 is day 31: 10000 × 0,095 / 300 = 3,17
    assert penalty(date(2022, 5, 11), date(2022, 5, 11), due_date=date(2022, 4, 10)) == D("3.17")


def test_it_keeps_the_last_day_of_the_2022_moratorium():
    due = date(2022, 3, 10)
    assert penalty(date(2022, 10, 1), date(2022, 10, 1), due_date=due) == 0
    # 02.10.2022 is day 206: 10000 × 0,095 / 130 = 7,31
    assert penalty(date(2022, 10, 2), date(2022, 10, 2), due_date=due) == D("7.31")


def test_it_takes_the_rate_of_each_day():
    rates = RateTable(entries=((date(2025, 3, 1), D("20")), (date(2025, 1, 1), D("10"))))
    # 27–28 Feb at 10 %, 1–2 March at 20 %: 10000 × (0,10 × 2 + 0,20 × 2) / 300 = 20,00
    assert penalty(date(2025, 2, 27), date(2025, 3, 2), rates=rates) == D("20.00")


def test_it_fails_loudly_without_a_rate():
    # 9,5 % is fixed until 01.01.2027 only; a later rate has to be added to the table.
    with pytest.raises(RateUnknown):
        penalty(date(2027, 1, 1), date(2027, 1, 1), due_date=date(2026, 10, 15))
    with pytest.raises(RateUnknown, match="ставка"):
        penalty(date(2021, 6, 1), date(2021, 6, 1), due_date=date(2021, 1, 10))


def test_it_needs_no_rate_on_days_without_accrual():
    assert penalty(date(2027, 1, 1), date(2027, 1, 10), due_date=date(2026, 12, 15)) == 0


def test_it_keeps_the_rules_default_tables():
    assert DEFAULT_KEY_RATES.rate_on(date(2022, 2, 28)) == D("9.5")
    assert DEFAULT_KEY_RATES.rate_on(date(2026, 12, 31)) == D("9.5")
    assert [(m.start, m.end) for m in DEFAULT_MORATORIA] == [
        (date(2020, 4, 6), date(2020, 12, 31)),
        (date(2022, 4, 1), date(2022, 10, 1)),
    ]


def test_it_refuses_a_rate_table_with_a_repeated_date():
    with pytest.raises(ValueError):
        RateTable(entries=((date(2025, 1, 1), D("9")), (date(2025, 1, 1), D("10"))))


def test_it_allocates_a_payment_to_the_oldest_debt_first():
    debts = {date(2025, 2, 1): D("2000"), date(2025, 1, 1): D("1000")}
    assert allocate_payment(D("1500"), debts) == [
        (date(2025, 1, 1), D("1000")),
        (date(2025, 2, 1), D("500")),
    ]


def test_it_allocates_to_the_named_month_first_and_the_rest_oldest_first():
    debts = {date(2025, 1, 1): D("1000"), date(2025, 2, 1): D("2000"), date(2025, 3, 1): D("300")}
    assert allocate_payment(D("2500"), debts, named_month=date(2025, 2, 1)) == [
        (date(2025, 2, 1), D("2000")),
        (date(2025, 1, 1), D("500")),
    ]


def test_it_keeps_an_overpayment_as_an_advance():
    assert allocate_payment(D("1200"), {date(2025, 1, 1): D("1000")}) == [
        (date(2025, 1, 1), D("1000")),
        (None, D("200")),
    ]
    assert allocate_payment(D("300"), {}) == [(None, D("300"))]


def test_it_treats_a_named_month_without_debt_like_no_name():
    debts = {date(2025, 1, 1): D("1000")}
    assert allocate_payment(D("400"), debts, named_month=date(2025, 6, 1)) == [
        (date(2025, 1, 1), D("400"))
    ]


def test_it_refuses_a_negative_payment():
    with pytest.raises(ValueError):
        allocate_payment(D("-1"), {})


def test_it_computes_the_penalties_of_a_month_with_a_payment():
    january = Debt(month=date(2025, 1, 1), due_date=date(2025, 2, 10), amount=D("1000"))
    february = Debt(month=date(2025, 2, 1), due_date=date(2025, 3, 10), amount=D("2000"))
    # 1500 paid on 15.05: 1000 to January, 500 to February; the debt falls from 16.05.
    debts, advance = apply_payments([january, february], [Payment(date(2025, 5, 15), D("1500"))])
    assert advance == 0
    lines = penalties_for_month(debts, month_start=date(2025, 5, 1), month_end=date(2025, 5, 31))
    # January: 01.05 is day 80; 1–11 May are days 80..90, 12–15 May days 91..94:
    #   1000 × 9,5 × 11 / 30000 + 1000 × 9,5 × 4 / 13000 = 3,48333… + 2,92307… = 6,4064… → 6,41
    # February: 01.05 is day 52, 31.05 day 82, all at 1/300; 2000 for 1–15 May, 1500 for 16–31:
    #   9,5 × (2000 × 15 + 1500 × 16) / 30000 = 9,5 × 54000 / 30000 = 17,10
    assert lines == [
        PenaltyLine(month=date(2025, 1, 1), amount=D("6.41")),
        PenaltyLine(month=date(2025, 2, 1), amount=D("17.10")),
    ]


def test_it_leaves_out_debts_without_penalty():
    # due 10.05.2025: May is within the first 30 days.
    debt = Debt(month=date(2025, 4, 1), due_date=date(2025, 5, 10), amount=D("1000"))
    assert (
        penalties_for_month([debt], month_start=date(2025, 5, 1), month_end=date(2025, 5, 31)) == []
    )


def test_it_counts_repayments_made_before_the_month():
    # 600 of 1000 paid back in April: May accrues on 400 for 31 days, days 52..82 at 1/300:
    # 400 × 9,5 × 31 / 30000 = 3,92666… → 3,93
    debt = Debt(
        month=date(2025, 2, 1),
        due_date=date(2025, 3, 10),
        amount=D("1000"),
        repayments=((date(2025, 4, 20), D("600")),),
    )
    lines = penalties_for_month([debt], month_start=date(2025, 5, 1), month_end=date(2025, 5, 31))
    assert lines == [PenaltyLine(month=date(2025, 2, 1), amount=D("3.93"))]


def test_it_applies_a_named_payment_to_its_month():
    january = Debt(month=date(2025, 1, 1), due_date=date(2025, 2, 10), amount=D("1000"))
    february = Debt(month=date(2025, 2, 1), due_date=date(2025, 3, 10), amount=D("2000"))
    payment = Payment(date(2025, 5, 15), D("2500"), month=date(2025, 2, 1))
    debts, advance = apply_payments([january, february], [payment])
    assert advance == 0
    assert debts[0].repayments == ((date(2025, 5, 15), D("500")),)
    assert debts[1].repayments == ((date(2025, 5, 15), D("2000")),)


def test_it_pays_later_payments_from_what_earlier_ones_left():
    january = Debt(month=date(2025, 1, 1), due_date=date(2025, 2, 10), amount=D("1000"))
    payments = [Payment(date(2025, 5, 20), D("700")), Payment(date(2025, 5, 2), D("600"))]
    debts, advance = apply_payments([january], payments)
    assert debts[0].repayments == ((date(2025, 5, 2), D("600")), (date(2025, 5, 20), D("400")))
    assert advance == D("300")
    assert debts[0].outstanding_on(date(2025, 5, 20)) == D("400")
    assert debts[0].outstanding_on(date(2025, 5, 21)) == 0


money = st.decimals(min_value=D("0.01"), max_value=D("100000"), places=2)
months = st.dates(min_value=date(2020, 1, 1), max_value=date(2026, 12, 1)).map(
    lambda d: d.replace(day=1)
)


@given(money, st.dictionaries(months, money, max_size=12), st.none() | months)
def test_it_allocates_the_whole_payment(amount, debts, named):
    allocations = allocate_payment(amount, debts, named_month=named)
    assert sum(part for _, part in allocations) == amount
    assert all(part > 0 for _, part in allocations)
    for month, part in allocations:
        if month is not None:
            assert part <= debts[month]


@given(money, st.dictionaries(months, money, min_size=1, max_size=12))
def test_it_pays_the_oldest_debts_first(amount, debts):
    allocations = allocate_payment(amount, debts)
    paid = [month for month, _ in allocations if month is not None]
    assert paid == sorted(paid)
    # every month older than the last one touched is paid in full
    for month, part in allocations[:-1]:
        if month is not None:
            assert part == debts[month]
    if paid:
        assert paid == sorted(debts)[: len(paid)]


# Due dates whose windows below stay within the 9,5 % table (until 01.01.2027).
penalty_days = st.dates(min_value=date(2022, 10, 2), max_value=date(2025, 6, 1))


@given(
    money,
    penalty_days,
    st.integers(min_value=0, max_value=400),
    st.integers(min_value=0, max_value=100),
    st.integers(min_value=0, max_value=100),
)
def test_it_grows_with_the_days(amount, due_date, offset, length, more):
    start = due_date + timedelta(days=offset)
    shorter = penalty(start, start + timedelta(days=length), amount=amount, due_date=due_date)
    longer = penalty(start, start + timedelta(days=length + more), amount=amount, due_date=due_date)
    assert 0 <= shorter <= longer


@given(money, penalty_days, st.integers(min_value=0, max_value=30))
def test_it_charges_nothing_within_30_days(amount, due_date, days):
    end = due_date + timedelta(days=days)
    assert penalty(due_date - timedelta(days=5), end, amount=amount, due_date=due_date) == 0


@given(
    money,
    st.dates(min_value=date(2019, 1, 1), max_value=date(2020, 4, 5)),
    st.dates(min_value=date(2020, 4, 6), max_value=date(2020, 12, 31)),
    st.dates(min_value=date(2020, 4, 6), max_value=date(2020, 12, 31)),
)
def test_it_charges_nothing_on_moratorium_days(amount, due_date, first, second):
    start, end = sorted((first, second))
    assert penalty(start, end, amount=amount, due_date=due_date, rates=OLD_RATES) == 0


@given(
    money,
    st.dates(min_value=date(2019, 1, 1), max_value=date(2020, 3, 31)),
    st.dates(min_value=date(2020, 1, 1), max_value=date(2021, 6, 30)),
    st.integers(min_value=1, max_value=400),
)
def test_it_equals_the_same_window_without_moratorium_days(amount, due_date, start, length):
    # Splitting a window at moratorium bounds must not change what accrues outside them.
    end = start + timedelta(days=length)
    moratorium = Moratorium(date(2020, 4, 6), date(2020, 12, 31))
    with_moratorium = penalty(
        start, end, amount=amount, due_date=due_date, rates=OLD_RATES, moratoria=[moratorium]
    )
    outside = [
        (start, min(end, date(2020, 4, 5))),
        (max(start, date(2021, 1, 1)), end),
    ]
    exact = sum((_exact(amount, due_date, a, b) for a, b in outside if a <= b), Fraction(0))
    assert with_moratorium == D(math.floor(exact * 100 + Fraction(1, 2))) / 100


def _exact(amount, due_date, start, end):
    # Day by day in exact fractions: amount × 6 % × 1/300 (days 31..90) or × 1/130 (day 91 on).
    total = Fraction(0)
    day = start
    while day <= end:
        k = (day - due_date).days
        if k >= 31:
            total += Fraction(amount) * Fraction(6, 100) / (300 if k <= 90 else 130)
        day += timedelta(days=1)
    return total


def test_it_accrues_a_raising_recalculation_from_the_due_date_of_its_receipt():
    # +1 000 correcting February, booked in May: a debt of May, due 15.06, day 31 is 16.07:
    # July accrues 16 days (16–31.07): 1000 × 9,5 × 16 / 30000 = 5,0666… → 5,07
    # (as a debt of February, due 15.03, it would have accrued on every day of May already)
    debt = Debt(month=date(2026, 5, 1), due_date=date(2026, 6, 15), amount=D("1000"))
    may = penalties_for_month([debt], month_start=date(2026, 5, 1), month_end=date(2026, 5, 31))
    july = penalties_for_month([debt], month_start=date(2026, 7, 1), month_end=date(2026, 7, 31))
    assert may == []
    assert july == [PenaltyLine(month=date(2026, 5, 1), amount=D("5.07"))]


def test_it_accrues_on_an_old_debt_without_a_charge_in_the_month():
    # a closed account owing 2 000 of January (due 15.02): April is days 45..74, all at 1/300,
    # though nothing is billed in April: 2000 × 9,5 × 30 / 30000 = 19,00; the line keeps the
    # debt's payee
    debt = Debt(month=date(2026, 1, 1), due_date=date(2026, 2, 15), amount=D("2000"), payee=7)
    lines = penalties_for_month([debt], month_start=date(2026, 4, 1), month_end=date(2026, 4, 30))
    assert lines == [PenaltyLine(month=date(2026, 1, 1), amount=D("19.00"), payee=7)]
