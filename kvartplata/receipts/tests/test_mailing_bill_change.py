"""The receipt's e-mail says why the sum changed: the headline and the largest causes (#19)."""

from django.core import mail
from django.utils.html import escape

from kvartplata.billing.bill_change import explanation
from kvartplata.receipts.models import ReceiptDelivery
from kvartplata.receipts.services import deliveries_schedule, delivery_send
from kvartplata.receipts.tests.conftest import OCTOBER
from kvartplata.registry.models import Period
from kvartplata.statements import selectors


def _mail(period: Period) -> None:
    """Schedule the month's mailing and send what the queue has not sent yet."""
    deliveries_schedule(period_id=period.id)
    for delivery in ReceiptDelivery.objects.filter(
        receipt__period=period, status=ReceiptDelivery.Status.PENDING
    ):
        delivery_send(delivery_id=delivery.id)


def test_it_mails_the_headline_and_the_three_largest_causes(world, demo_user, huey):
    demo_user.receipts_by_email = True
    demo_user.save()
    period = Period.objects.get(organization=world.organization, month=OCTOBER)
    periods = selectors.organization_periods(world.organization.id)
    change = explanation(world.resident_account.id, periods, period)
    assert len(change.services) > 3, "the demo resident's October changed in four services"
    _mail(period)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    html = dict((m, c) for c, m in message.alternatives)["text/html"]
    for text, quote in ((message.body, str), (html, escape)):
        assert "Почему изменилась сумма" in text
        assert f"{change.headline} по сравнению с квитанцией за сентябрь 2026" in text
        for line in change.summary():
            assert quote(line) in text
        # Only the three largest: the fourth service is left for the cabinet.
        assert quote(change.services[3].name) + ":" not in text


def test_it_mails_no_block_for_the_first_issued_month(world, demo_user, huey):
    demo_user.receipts_by_email = True
    demo_user.save()
    periods = selectors.organization_periods(world.organization.id)
    first = selectors.issued_of(periods)[0]
    assert explanation(world.resident_account.id, periods, first) is None
    _mail(first)
    assert mail.outbox
    assert all("Почему изменилась сумма" not in m.body for m in mail.outbox)
