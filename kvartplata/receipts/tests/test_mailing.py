"""Mailing receipts: once per receipt and subscriber, through the queue, retried when SMTP fails."""

import datetime
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend

from kvartplata.backoffice.closing import period_close_with_receipts
from kvartplata.billing import services as billing
from kvartplata.receipts.models import Receipt, ReceiptDelivery
from kvartplata.receipts.services import delivery_send
from kvartplata.receipts.tasks import deliveries_queue
from kvartplata.receipts.tests.conftest import OCTOBER
from kvartplata.registry.models import Period
from kvartplata.users.models import AccountLink
from kvartplata.users.services import user_create

Status = ReceiptDelivery.Status


class FlakyBackend(EmailBackend):
    """The test outbox, but the first sending fails as an SMTP server that is down."""

    failures_left = 0

    def send_messages(self, messages):
        if FlakyBackend.failures_left > 0:
            FlakyBackend.failures_left -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


@pytest.fixture
def subscribers(world, demo_user):
    """The demo resident and a second user of the same account subscribe; a third does not."""
    demo_user.receipts_by_email = True
    demo_user.save()
    partner = user_create(
        username="partner",
        email="partner@example.ru",
        password="Kvart-plata-2025",
        email_verified=True,
        receipts_by_email=True,
    )
    AccountLink.objects.create(user=partner, account=world.resident_account)
    quiet = user_create(
        username="quiet", email="quiet@example.ru", password="Kvart-plata-2025", email_verified=True
    )
    AccountLink.objects.create(user=quiet, account=world.resident_account)
    return [demo_user, partner]


def _october(world) -> Period:
    return Period.objects.get(organization=world.organization, month=OCTOBER)


def test_it_mails_each_subscriber_the_receipt_with_the_pdf(world, subscribers, huey):
    assert deliveries_queue(_october(world).id) == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["demo@example.com", "partner@example.ru"]
    receipt = Receipt.objects.get(account=world.resident_account, month=OCTOBER)
    message = mail.outbox[0]
    assert "октябрь 2026" in message.subject
    assert receipt.account.number in message.subject
    name, content, mimetype = message.attachments[0]
    assert mimetype == "application/pdf"
    assert content.startswith(b"%PDF-")
    assert name == f"kvitanciya-{receipt.account.number}-2026-10.pdf"
    assert "text/html" in [m for _, m in message.alternatives]
    deliveries = ReceiptDelivery.objects.filter(receipt=receipt)
    assert {d.status for d in deliveries} == {Status.SENT}
    assert all(d.sent_at and d.attempts == 1 for d in deliveries)


def test_it_never_mails_twice_when_scheduled_twice(world, subscribers, huey):
    period = _october(world)
    deliveries_queue(period.id)
    assert deliveries_queue(period.id) == 0
    assert len(mail.outbox) == 2
    assert ReceiptDelivery.objects.count() == 2


def test_it_never_sends_a_delivery_twice(world, subscribers, huey):
    deliveries_queue(_october(world).id)
    delivery = ReceiptDelivery.objects.first()
    # A duplicate task of a sent delivery, and one that another worker is sending right now.
    assert delivery_send(delivery_id=delivery.id) is True
    other = ReceiptDelivery.objects.exclude(pk=delivery.pk).get()
    ReceiptDelivery.objects.filter(pk=other.pk).update(status=Status.SENDING)
    assert delivery_send(delivery_id=other.id) is True
    assert len(mail.outbox) == 2
    assert ReceiptDelivery.objects.get(pk=delivery.pk).attempts == 1


def test_it_retries_when_smtp_fails_and_keeps_the_reason(world, subscribers, huey, settings):
    settings.EMAIL_BACKEND = "kvartplata.receipts.tests.test_mailing.FlakyBackend"
    FlakyBackend.failures_left = 1
    deliveries_queue(_october(world).id)
    failed = ReceiptDelivery.objects.get(status=Status.FAILED)
    assert failed.attempts == 1
    assert "SMTPServerDisconnected" in failed.last_error
    assert len(mail.outbox) == 1  # the other subscriber's mail went through
    # The task queue keeps the failed sending for a later retry; run it now.
    retries = huey.scheduled()
    assert len(retries) == 1
    assert retries[0].args == (failed.id,)
    assert retries[0].retries == 4
    # Five minutes later, as the consumer would run it.
    huey.execute(retries[0], timestamp=retries[0].eta)
    failed.refresh_from_db()
    assert failed.status == Status.SENT
    assert failed.attempts == 2
    assert failed.last_error == ""
    assert len(mail.outbox) == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["demo@example.com", "partner@example.ru"]


def test_it_mails_subscribers_when_a_month_closes(
    world, subscribers, huey, django_capture_on_commit_callbacks
):
    org = world.organization
    billing.billing_run(organization=org)
    with django_capture_on_commit_callbacks(execute=True):
        period_close_with_receipts(organization=org)
    november = Receipt.objects.get(account=world.resident_account, month=datetime.date(2026, 11, 1))
    assert ReceiptDelivery.objects.filter(receipt=november, status=Status.SENT).count() == 2
    assert len(mail.outbox) == 2
    assert all("ноябрь 2026" in m.subject for m in mail.outbox)


def test_it_skips_users_without_an_address_or_inactive(world, subscribers, huey):
    demo, partner = subscribers
    partner.is_active = False
    partner.save()
    demo.email = ""
    demo.save()
    assert deliveries_queue(_october(world).id) == 0
    assert mail.outbox == []
