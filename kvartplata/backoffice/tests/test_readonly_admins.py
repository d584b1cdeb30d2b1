"""Rows written by services (ledger, charges, readings, receipts) cannot be edited by anyone."""

import pytest

from kvartplata.billing.models import AccountBalance, BillingRun, Charge, LedgerEntry
from kvartplata.meters.models import Reading
from kvartplata.payments.models import Payment, PaymentFile
from kvartplata.receipts.models import Receipt, ReceiptDelivery

from .test_admin_pages import admin_url

READ_ONLY = [
    AccountBalance,
    BillingRun,
    Charge,
    LedgerEntry,
    Reading,
    Payment,
    PaymentFile,
    Receipt,
    ReceiptDelivery,
]


@pytest.mark.parametrize("model", READ_ONLY, ids=[m._meta.label for m in READ_ONLY])
def test_it_refuses_changes_even_to_a_superuser(client, world, model):
    client.force_login(world.superuser)
    obj = world.objects[model]
    assert client.get(admin_url(model, "add")).status_code == 403
    assert client.post(admin_url(model, "change", obj.pk), {}).status_code == 403
    assert client.post(admin_url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=obj.pk).exists()


def test_it_filters_unmatched_payments(client, world):
    payment = world.a[Payment]
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.UNMATCHED, account=None)
    client.force_login(world.a.staff)
    response = client.get(admin_url(Payment, "changelist") + "?matching=unmatched")
    assert [p.pk for p in response.context["cl"].result_list] == [payment.pk]
    response = client.get(admin_url(Payment, "changelist") + "?matching=matched")
    assert list(response.context["cl"].result_list) == []


def test_it_filters_overdue_meters(client, world):
    import datetime as dt

    from django.utils import timezone

    from kvartplata.meters.models import Meter

    next_year = timezone.localdate() + dt.timedelta(days=365)
    Meter.objects.filter(serial_number="SN-100-1").update(next_verification_on=next_year)
    client.force_login(world.a.staff)
    response = client.get(admin_url(Meter, "changelist") + "?verification=overdue")
    serials = [m.serial_number for m in response.context["cl"].result_list]
    assert serials == ["ODPU-100"]


def test_it_filters_charges_by_period_and_service(client, world):
    from kvartplata.billing.models import Service
    from kvartplata.registry.models import Period

    client.force_login(world.a.staff)
    query = f"?period__id__exact={world.a[Period].pk}&service__id__exact={world.a[Service].pk}"
    response = client.get(admin_url(Charge, "changelist") + query)
    assert [c.pk for c in response.context["cl"].result_list] == [world.a[Charge].pk]
