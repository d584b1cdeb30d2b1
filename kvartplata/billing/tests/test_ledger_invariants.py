"""Property test: random months of readings, payments, recalculations, tariff changes and closings
keep the ledger consistent on every account."""

import datetime
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kvartplata.billing import ledger
from kvartplata.billing.models import AccountBalance, Charge, LedgerEntry, Norm, Tariff
from kvartplata.billing.services import billing_run, current_period, period_close, recalculation_add
from kvartplata.billing.tests import factories as f
from kvartplata.lib.periods import add_months
from kvartplata.payments.models import Payment

START = datetime.date(2026, 1, 1)
money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9000"), places=2)
account_month = st.fixed_dictionaries(
    {
        "reading": st.one_of(st.none(), st.integers(min_value=0, max_value=40)),
        "payment": st.one_of(st.none(), st.tuples(money, st.integers(1, 28), st.booleans())),
        "recalc": st.one_of(st.none(), money.map(lambda m: -m), money),
    }
)
month_plan = st.fixed_dictionaries(
    {"accounts": st.lists(account_month, min_size=2, max_size=2), "new_tariff": st.booleans()}
)


@pytest.mark.django_db
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=st.lists(month_plan, min_size=2, max_size=5))
def test_it_keeps_the_ledger_consistent(plan):
    sid = transaction.savepoint()
    try:
        check_plan(plan)
    finally:
        transaction.savepoint_rollback(sid)


def check_plan(plan):
    org = f.organization()
    prov = f.provider(org)
    bld = f.building(org, total_area="200", common_area="40")
    accounts = [f.account(org, bld, str(i + 1), area="50", residents=2) for i in range(2)]
    water = f.service(
        org,
        prov,
        "cold",
        method="meter",
        resource="cold_water",
        price="45.67",
        has_common_house=True,
    )
    f.norm(water, Norm.Kind.PER_PERSON, "4.745")
    f.norm(water, Norm.Kind.COMMON_AREA, "0.03")
    f.service(org, prov, "maint", method="area", price="28.50", unit="m2")
    meters = [f.meter(account=a) for a in accounts]
    values = [Decimal(0), Decimal(0)]
    f.open_month(org, START)
    payment_no = 0
    for index, month_data in enumerate(plan):
        month = add_months(START, index)
        period = current_period(org)
        assert period.month == month
        if month_data["new_tariff"]:
            Tariff.objects.create(
                service=water, zone=0, valid_from=month, price=Decimal(50 + index)
            )
        posts = []
        for i, acc in enumerate(accounts):
            step = month_data["accounts"][i]
            if step["reading"] is not None:
                values[i] += step["reading"]
                f.reading(meters[i], month, values[i])
            if step["payment"] is not None:
                amount, day, named = step["payment"]
                payment_no += 1
                p = Payment.objects.create(
                    organization=org,
                    natural_key=f"p{payment_no}",
                    account=acc,
                    account_number=acc.number,
                    amount=amount,
                    paid_at=datetime.datetime(
                        month.year, month.month, day, 12, tzinfo=datetime.UTC
                    ),
                    period=period,
                )
                posts.append(
                    {
                        "id": p.id,
                        "account_id": acc.id,
                        "amount": amount,
                        "paid_on": p.paid_at.date(),
                        "for_month": add_months(month, -1) if named else None,
                    }
                )
            if step["recalc"] is not None:
                recalculation_add(
                    account=acc,
                    concerns_month=add_months(month, -1),
                    amount=step["recalc"],
                    reason="проверка",
                )
        ledger.post_payments(period, posts)
        billing_run(organization=org)
        period_close(organization=org)

    for acc in accounts:
        rows = list(AccountBalance.objects.filter(account=acc).order_by("month"))
        assert len(rows) == len(plan)
        previous_closing = Decimal("0.00")
        for row in rows:
            assert row.opening == previous_closing
            assert row.closing == (
                row.opening + row.charges + row.recalculations + row.penalties - row.payments
            )
            charged = sum(
                Charge.objects.filter(account=acc, period=row.period).values_list(
                    "amount", flat=True
                ),
                Decimal(0),
            )
            assert row.charges == charged
            journal = defaultdict(Decimal)
            for kind, amount in LedgerEntry.objects.filter(
                account=acc, period=row.period
            ).values_list("kind", "amount"):
                journal[kind] += amount
            assert row.payments == -journal["payment"]
            assert row.penalties == journal["penalty"]
            previous_closing = row.closing
        total = sum(
            LedgerEntry.objects.filter(account=acc).values_list("amount", flat=True), Decimal(0)
        )
        assert rows[-1].closing == total
        assert not Charge.objects.filter(account=acc, volume__lt=0).exists()
