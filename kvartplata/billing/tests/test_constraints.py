"""Invariants the database itself keeps: one charge line, nothing changes in a closed period."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from kvartplata.billing.models import Charge, LedgerEntry
from kvartplata.billing.services import billing_run, period_close
from kvartplata.billing.tests import factories as f
from kvartplata.registry.models import Period, PersonalAccount

MARCH = datetime.date(2026, 3, 1)
pytestmark = pytest.mark.django_db


@pytest.fixture
def billed():
    org, acc, svc = f.area_world(MARCH)
    billing_run(organization=org)
    return org, acc, svc


def test_it_refuses_a_duplicate_account_number(billed):
    org, acc, _ = billed
    with pytest.raises(IntegrityError), transaction.atomic():
        PersonalAccount.objects.create(
            organization=org,
            number=acc.number,
            premises=acc.premises,
            holder_last_name="Петров",
            holder_first_name="Пётр",
            opened_on=datetime.date(2020, 1, 1),
        )


def test_it_refuses_a_second_charge_line(billed):
    _, acc, svc = billed
    existing = Charge.objects.get(account=acc, service=svc)
    with pytest.raises(IntegrityError), transaction.atomic():
        Charge.objects.create(
            account=acc,
            period=existing.period,
            service=svc,
            method="area",
            volume=1,
            tariff=1,
            amount=1,
        )


def test_it_refuses_changes_to_a_closed_period(billed):
    org, acc, svc = billed
    period_close(organization=org)
    closed = Period.objects.get(month=MARCH)
    charge = Charge.objects.get(account=acc, period=closed)
    with pytest.raises(IntegrityError), transaction.atomic():
        Charge.objects.filter(id=charge.id).update(amount=Decimal("1.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            account=acc, period=closed, kind="correction", amount=1, entry_date=MARCH
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Period.objects.filter(id=closed.id).update(state="open")
    charge.refresh_from_db()
    assert charge.amount == Decimal("1500.00")


def test_it_allows_one_open_period_per_organization(billed):
    org, _, _ = billed
    with pytest.raises(IntegrityError), transaction.atomic():
        Period.objects.create(
            organization=org, month=datetime.date(2026, 4, 1), due_date=datetime.date(2026, 5, 15)
        )
