"""The account desk's «отправить снова»: a receipt goes to the resident's e-mail once more,
whatever became of its earlier deliveries; a confirmation first, and a double click sends once."""

import datetime
import logging

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from kvartplata.demo.world import build
from kvartplata.receipts.models import Receipt, ReceiptDelivery
from kvartplata.receipts.services import ReceiptError, delivery_resend, delivery_send
from kvartplata.users.models import AccountLink

MSK = datetime.timezone(datetime.timedelta(hours=3))
OCTOBER = datetime.date(2026, 10, 1)


@pytest.fixture
def world(db):
    with time_machine.travel(datetime.datetime(2026, 11, 25, 12, 0, tzinfo=MSK), tick=False):
        yield build(accounts=20, months=4, today=datetime.date(2026, 11, 25))


@pytest.fixture
def resident(world):
    return get_user_model().objects.get(username="demo")


@pytest.fixture
def receipt(resident):
    link = AccountLink.objects.filter(user=resident).order_by("id").first()
    return Receipt.objects.get(account=link.account, month=OCTOBER)


@pytest.fixture
def office(client, world):
    client.force_login(get_user_model().objects.get(username="operator"))
    return client


def _sent(receipt) -> ReceiptDelivery:
    """The resident's delivery of the receipt, sent already."""
    delivery, _ = ReceiptDelivery.objects.get_or_create(
        receipt=receipt,
        user=get_user_model().objects.get(username="demo"),
        defaults={"email": "demo@example.ru"},
    )
    ReceiptDelivery.objects.filter(pk=delivery.pk).update(status="sent", attempts=1)
    return delivery


def test_it_sends_a_sent_receipt_again_once_after_a_confirmation(
    office, world, receipt, resident, django_capture_on_commit_callbacks, caplog
):
    delivery = _sent(receipt)
    page = office.get(reverse("office_desk:account", args=[receipt.account_id]))
    url = reverse("office_desk:resend", args=[receipt.account_id, receipt.id])
    assert url in page.content.decode()
    confirm = office.get(url)
    assert confirm.status_code == 200
    assert resident.email not in confirm.content.decode()  # shown masked
    post = {"recipients": [str(resident.id)], "token": confirm.context["token"]}
    response = office.post(url, post)
    assert response.status_code == 400
    assert "Подтвердите отправку" in response.content.decode()
    assert ReceiptDelivery.objects.get(pk=delivery.pk).status == "sent"
    post = {**post, "confirm": "on", "token": response.context["token"]}
    with (
        django_capture_on_commit_callbacks(execute=False) as queued,
        caplog.at_level(logging.INFO, logger="kvartplata.audit"),
    ):
        response = office.post(url, post)
        office.post(url, post)  # a double click: the same form once more
    assert response.status_code == 302
    assert len(queued) == 1
    assert ReceiptDelivery.objects.get(pk=delivery.pk).status == "pending"
    assert any("event=receipt_resent" in r.getMessage() for r in caplog.records)
    # The queue runs the delivery twice (a retry, two workers): one message leaves.
    assert delivery_send(delivery_id=delivery.pk)
    assert delivery_send(delivery_id=delivery.pk)
    assert len([m for m in mail.outbox if m.to == [resident.email]]) == 1
    assert ReceiptDelivery.objects.get(pk=delivery.pk).status == "sent"


def test_it_sends_to_a_resident_never_mailed_and_after_a_failure(world, receipt, resident):
    ReceiptDelivery.objects.filter(receipt=receipt).delete()
    first = delivery_resend(receipt=receipt, user=resident)
    assert first.status == "pending" and first.email == resident.email
    with pytest.raises(ReceiptError, match="уже в очереди"):
        delivery_resend(receipt=receipt, user=resident)  # waiting already: not twice
    ReceiptDelivery.objects.filter(pk=first.pk).update(status="failed", last_error="SMTP")
    again = delivery_resend(receipt=receipt, user=resident)
    assert (again.pk, again.status, again.last_error) == (first.pk, "pending", "")
    stranger = get_user_model().objects.create_user(
        username="stranger", email="stranger@example.ru", password="x-pass-12345"
    )
    with pytest.raises(ReceiptError, match="не подключил"):
        delivery_resend(receipt=receipt, user=stranger)


def test_staff_without_a_role_may_not_resend(client, world, receipt, resident):
    nobody = get_user_model().objects.create_user(
        username="stazher", password="x-pass-12345", is_staff=True, organization=world.organization
    )
    client.force_login(nobody)
    url = reverse("office_desk:resend", args=[receipt.account_id, receipt.id])
    assert client.get(url).status_code == 403
    assert client.post(url, {"recipients": [str(resident.id)], "confirm": "on"}).status_code == 403
    assert not ReceiptDelivery.objects.filter(receipt=receipt, status="pending").exists()
