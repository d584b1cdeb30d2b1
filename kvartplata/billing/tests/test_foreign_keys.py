"""The money tables keep FOREIGN KEY constraints in the database (issue 13, item 5)."""

import datetime

import pytest
from django.db import IntegrityError, connection, transaction

from kvartplata.billing.models import Charge, MeterState
from kvartplata.billing.services import billing_run
from kvartplata.billing.tests import factories as f

MARCH = datetime.date(2026, 3, 1)
pytestmark = pytest.mark.django_db
MISSING = 987_654_321


@pytest.fixture
def billed():
    org, acc, svc = f.area_world(MARCH)
    water = f.service(org, svc.provider, "cold", method="meter", resource="cold_water", price="9")
    f.reading(f.meter(account=acc), MARCH, "7")
    billing_run(organization=org)
    return acc, svc, water


@pytest.mark.parametrize("column", ["account_id", "period_id", "service_id", "run_id"])
def test_it_refuses_a_charge_line_that_names_nothing(billed, column):
    _acc, svc, _water = billed
    line = Charge.objects.get(service=svc)
    with pytest.raises(IntegrityError), transaction.atomic():
        Charge.objects.filter(id=line.id).update(**{column: MISSING})
        connection.check_constraints(table_names=["billing_charge"])


@pytest.mark.parametrize("column", ["account_id", "period_id", "meter_id"])
def test_it_refuses_a_meter_state_that_names_nothing(billed, column):
    state = MeterState.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        MeterState.objects.filter(id=state.id).update(**{column: MISSING})
        connection.check_constraints(table_names=["billing_meterstate"])


def test_the_run_writes_lines_and_states_that_name_what_exists(billed):
    connection.check_constraints(table_names=["billing_charge", "billing_meterstate"])
    assert Charge.objects.count() == 2 and MeterState.objects.count() == 1


@pytest.mark.parametrize("column", ["account_id", "period_id", "provider_id"])
def test_it_refuses_a_ledger_entry_that_names_nothing(billed, column):
    from kvartplata.billing.models import LedgerEntry

    entry = LedgerEntry.objects.filter(kind="charge").first()
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.filter(id=entry.id).update(**{column: MISSING})
        connection.check_constraints(table_names=["billing_ledgerentry"])


@pytest.mark.parametrize("column", ["account_id", "period_id"])
def test_it_refuses_a_balance_that_names_nothing(billed, column):
    from kvartplata.billing.models import AccountBalance

    balance = AccountBalance.objects.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        AccountBalance.objects.filter(id=balance.id).update(**{column: MISSING})
        connection.check_constraints(table_names=["billing_accountbalance"])


@pytest.mark.parametrize("column", ["account_id", "period_id", "organization_id"])
def test_it_refuses_a_payment_that_names_nothing(billed, column):
    from django.utils import timezone

    from kvartplata.payments.models import Payment

    acc, _svc, _water = billed
    payment = Payment.objects.create(
        organization_id=acc.organization_id,
        natural_key="fk-test",
        account=acc,
        account_number=acc.number,
        paid_at=timezone.now(),
        amount="10.00",
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(id=payment.id).update(**{column: MISSING})
        connection.check_constraints(table_names=["payments_payment"])
