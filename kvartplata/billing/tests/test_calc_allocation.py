"""The allocation rule: debts per payee, a payment split among months and payees."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kvartplata.billing.calc.allocation import (
    Allocation,
    PaymentIn,
    allocate_payment,
    allocate_payments,
    debt_month,
    open_debts,
    payee_due,
    split,
)

D = Decimal
JAN, FEB, MAR, MAY = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1), date(2026, 5, 1)
UK, WATER, POWER = 1, 2, 3


def test_it_makes_a_raising_recalculation_a_debt_of_the_month_it_is_booked_in():
    # +1 000 correcting February, booked in May: due with May's receipt
    assert debt_month(FEB, MAY, raising_recalculation=True) == MAY
    # a lowering recalculation, a payment of February: February's
    assert debt_month(FEB, MAY, raising_recalculation=False) == FEB
    assert debt_month(None, MAY, raising_recalculation=False) is None  # an advance


def test_it_splits_in_proportion_to_what_is_due():
    # 1000 × 1500 / 2000 = 750; 1000 × 500 / 2000 = 250
    assert split(D("1000.00"), {UK: D("1500.00"), WATER: D("500.00")}) == {
        UK: D("750.00"),
        WATER: D("250.00"),
    }


def test_it_gives_the_remainder_kopeck_to_the_largest():
    # 100 / 3 = 33.333… → 33.33 each, 99.99 in all: the kopeck left goes to the largest debt
    # (a tie: the lower payee id)
    assert split(D("100.00"), {UK: D("100"), WATER: D("100"), POWER: D("100")}) == {
        UK: D("33.34"),
        WATER: D("33.33"),
        POWER: D("33.33"),
    }
    # 100 × 200/350 = 57.142… → 57.14; 100 × 150/350 = 42.857… → 42.86: 100.00, nothing left
    assert split(D("100.00"), {UK: D("150"), WATER: D("200")}) == {
        UK: D("42.86"),
        WATER: D("57.14"),
    }
    # 0.01 × 1/2 = 0.005 → 0.01 each, 0.02 in all: the extra kopeck is taken from the first
    assert split(D("0.01"), {UK: D("1.00"), WATER: D("1.00")}) == {WATER: D("0.01")}


def test_it_keeps_each_payees_advance_to_itself():
    nets = {
        (None, UK): D("-100.00"),  # an advance of the management company
        (JAN, UK): D("300.00"),
        (JAN, WATER): D("100.00"),
        (FEB, WATER): D("-30.00"),  # overpaid: pays the water company's later months
        (MAR, WATER): D("50.00"),
    }
    assert open_debts(nets) == {
        (JAN, UK): D("200.00"),  # 300 − 100
        (JAN, WATER): D("100.00"),  # not paid by the other payee's advance
        (MAR, WATER): D("20.00"),  # 50 − 30
    }


DEBTS = {
    (JAN, UK): D("300.00"),
    (JAN, WATER): D("100.00"),
    (FEB, UK): D("600.00"),
    (FEB, WATER): D("200.00"),
}


def test_it_pays_the_oldest_month_then_splits_the_next_in_proportion():
    # January (400) in full; 200 left for February: 200 × 600/800 = 150, 200 × 200/800 = 50
    assert allocate_payment(D("600.00"), DEBTS) == [
        Allocation(JAN, UK, D("300.00")),
        Allocation(JAN, WATER, D("100.00")),
        Allocation(FEB, UK, D("150.00")),
        Allocation(FEB, WATER, D("50.00")),
    ]


def test_it_pays_the_named_month_first():
    # February first (800), the 100 left goes to January: 100 × 300/400 = 75, 100 × 100/400 = 25
    assert allocate_payment(D("900.00"), DEBTS, named_month=FEB) == [
        Allocation(FEB, UK, D("600.00")),
        Allocation(FEB, WATER, D("200.00")),
        Allocation(JAN, UK, D("75.00")),
        Allocation(JAN, WATER, D("25.00")),
    ]


def test_it_pays_only_the_named_payee_and_keeps_its_overpayment_as_its_advance():
    # the water company's 100 + 200, then 200 of advance, all the water company's
    assert allocate_payment(D("500.00"), DEBTS, named_payee=WATER) == [
        Allocation(JAN, WATER, D("100.00")),
        Allocation(FEB, WATER, D("200.00")),
        Allocation(None, WATER, D("200.00")),
    ]


def test_it_splits_an_unnamed_overpayment_in_proportion_to_the_months_charges():
    # 1500 − 1200 of debts = 300 of advance: 300 × 600/800 = 225, 300 × 200/800 = 75
    weights = {UK: D("600.00"), WATER: D("200.00")}
    parts = allocate_payment(D("1500.00"), DEBTS, advance_weights=weights)
    assert parts[-2:] == [Allocation(None, UK, D("225.00")), Allocation(None, WATER, D("75.00"))]
    # no charges in the month: the advance is the organization's own
    assert allocate_payment(D("50.00"), {}) == [Allocation(None, None, D("50.00"))]


def test_it_allocates_payments_in_order_of_day_and_id():
    later = PaymentIn(id=1, paid_on=date(2026, 3, 20), amount=D("400.00"))
    earlier = PaymentIn(id=2, paid_on=date(2026, 3, 5), amount=D("200.00"))
    result = allocate_payments(DEBTS, [later, earlier])
    # 200 first: January 200 × 300/400 = 150, 200 × 100/400 = 50; then 400: January's 150 + 50
    # left, and 200 of February: 200 × 600/800 = 150, 200 × 200/800 = 50
    assert [(p.id, part) for p, part in result] == [
        (2, Allocation(JAN, UK, D("150.00"))),
        (2, Allocation(JAN, WATER, D("50.00"))),
        (1, Allocation(JAN, UK, D("150.00"))),
        (1, Allocation(JAN, WATER, D("50.00"))),
        (1, Allocation(FEB, UK, D("150.00"))),
        (1, Allocation(FEB, WATER, D("50.00"))),
    ]


def test_it_asks_each_payee_its_own_debt_or_nothing():
    # old debt 1 000 + month 500 = 1 500
    assert payee_due(D("1000.00"), D("500.00")) == (D("1000.00"), 0, D("500.00"), D("1500.00"))
    # advance 800 > month 500: nothing to pay, never a negative Sum
    assert payee_due(D("-800.00"), D("500.00")) == (0, D("800.00"), D("500.00"), 0)
    # advance 300 < month 500: 200
    assert payee_due(D("-300.00"), D("500.00")).amount == D("200.00")


def test_it_refuses_a_negative_payment():
    with pytest.raises(ValueError):
        allocate_payment(D("-1"), DEBTS)


money = st.decimals(min_value=D("0.01"), max_value=D("100000"), places=2)
months = st.sampled_from([date(2025, m, 1) for m in range(1, 13)])
payees = st.sampled_from([None, UK, WATER, POWER])
debts = st.dictionaries(st.tuples(months, payees), money, max_size=12)


@given(money, debts, st.none() | months, st.none() | payees, st.dictionaries(payees, money))
def test_it_splits_the_whole_payment_and_never_pays_more_than_is_due(
    amount, debts, month, payee, weights
):
    parts = allocate_payment(
        amount, debts, named_month=month, named_payee=payee, advance_weights=weights
    )
    # the sum over payees is the account's total: the whole payment, nothing more
    assert sum(p.amount for p in parts) == amount
    assert all(p.amount > 0 for p in parts)
    for p in parts:
        if p.month is not None:
            assert p.amount <= debts[(p.month, p.payee)]
            assert payee is None or p.payee == payee
    # a month is split only when the payment ends in it: every earlier month is paid in full
    paid_months = list(dict.fromkeys(p.month for p in parts if p.month is not None))
    for m in paid_months[:-1]:
        due = sum(v for (k, q), v in debts.items() if k == m and payee in (None, q))
        assert sum(p.amount for p in parts if p.month == m) == due


@given(money, st.dictionaries(payees, money, min_size=1, max_size=4))
def test_it_splits_into_shares_that_add_up(amount, weights):
    shares = split(amount, weights)
    assert sum(shares.values()) == amount
    assert all(v > 0 for v in shares.values())
    total = sum(weights.values())
    for p, v in shares.items():  # each share within a kopeck per payee of its exact part
        assert abs(v - amount * weights[p] / total) <= D("0.01") * len(weights)


@given(
    debts,
    st.lists(st.tuples(st.integers(1, 28), money, st.none() | payees), max_size=6),
)
def test_it_keeps_debts_plus_advances_equal_to_the_account_total(debts, paid):
    payments = [
        PaymentIn(id=i, paid_on=date(2026, 1, day), amount=amount, payee=payee)
        for i, (day, amount, payee) in enumerate(paid)
    ]
    result = allocate_payments(debts, payments, {UK: D("1"), WATER: D("3")})
    left = dict(debts)
    advances = D(0)
    for _, part in result:
        if part.month is None:
            advances += part.amount
        else:
            left[(part.month, part.payee)] -= part.amount
            assert left[(part.month, part.payee)] >= 0
    # per payee, what is still owed minus what is paid ahead adds up to the account's total
    assert sum(left.values()) - advances == sum(debts.values()) - sum(p.amount for p in payments)
