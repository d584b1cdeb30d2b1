"""Leases of receipt jobs: a delivery or a print archive whose worker died does not stick."""

import datetime
import time

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.utils import timezone

from kvartplata.lib import leases
from kvartplata.receipts.models import Receipt, ReceiptDelivery
from kvartplata.receipts.services import (
    ReceiptError,
    _print_state_set,
    deliveries_reap,
    delivery_retry,
    delivery_send,
    print_archive_build,
    print_archive_start,
    print_archive_state,
)
from kvartplata.receipts.tasks import send_delivery
from kvartplata.receipts.tests.conftest import OCTOBER
from kvartplata.registry.models import Period

Status = ReceiptDelivery.Status


@pytest.fixture(autouse=True)
def _print_dir(settings, tmp_path):
    settings.RECEIPTS_PRINT_DIR = tmp_path / "print"


@pytest.fixture
def october(world):
    return Period.objects.get(organization=world.organization, month=OCTOBER)


@pytest.fixture
def delivery(world, demo_user):
    receipt = Receipt.objects.get(account=world.resident_account, month=OCTOBER)
    return ReceiptDelivery.objects.create(receipt=receipt, user=demo_user, email="demo@example.com")


class WatchingBackend(EmailBackend):
    """The test outbox, noting the delivery rows while the message goes out."""

    seen: list = []

    def send_messages(self, messages):
        WatchingBackend.seen.append(
            list(ReceiptDelivery.objects.values_list("status", "lease_owner", "lease_expires_at"))
        )
        return super().send_messages(messages)


def test_it_holds_the_delivery_while_sending_and_releases_it_when_sent(delivery, settings):
    settings.EMAIL_BACKEND = f"{__name__}.WatchingBackend"
    WatchingBackend.seen = []
    assert delivery_send(delivery_id=delivery.pk)
    [[(status, owner, until)]] = WatchingBackend.seen
    assert status == Status.SENDING and owner and until > timezone.now()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.lease_owner, delivery.lease_expires_at) == (
        Status.SENT,
        "",
        None,
    )


def test_it_fails_a_delivery_whose_worker_died_and_sends_it_once_on_retry(delivery, huey):
    now = timezone.now()
    assert leases.claim(
        ReceiptDelivery, delivery.pk, owner="dead:1", seconds=60, now=now, status=Status.SENDING
    )
    assert deliveries_reap(now=now + datetime.timedelta(seconds=59)) == []
    assert deliveries_reap(now=now + datetime.timedelta(seconds=60)) == [delivery.pk]
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED
    assert delivery.last_error.startswith("Отправка прервана: обработчик остановился")
    assert mail.outbox == []  # not sent again by itself
    delivery_retry(delivery=delivery)
    send_delivery(delivery.id)  # what the staff page queues
    delivery.refresh_from_db()
    assert delivery.status == Status.SENT
    assert len(mail.outbox) == 1


def test_it_reports_a_print_build_whose_lease_ran_out_as_failed_and_starts_it_again(october, huey):
    _print_state_set(october.id, state="running", done=3, total=20, error="")
    state = print_archive_state(october)
    assert state["state"] == "running"
    with pytest.raises(ReceiptError, match="уже формируется"):
        print_archive_start(period=october)
    later = state["until"] + 1
    dead = print_archive_state(october, now=later)
    assert dead["state"] == "failed"
    assert dead["error"].startswith("обработчик остановился")
    # the page and the start see the same: the build may be started again
    state = {**state, "until": time.time() - 1}
    from kvartplata.receipts.services import PRINT_KEY, _store

    _store().put(PRINT_KEY.format(october.id), state)
    print_archive_start(period=october)
    assert print_archive_state(october)["state"] == "queued"
    assert (
        print_archive_build(period_id=october.id) == Receipt.objects.filter(period=october).count()
    )
    assert print_archive_state(october)["state"] == "done"
