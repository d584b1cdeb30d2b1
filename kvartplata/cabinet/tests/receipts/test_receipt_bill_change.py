"""The receipt in the browser shows the frozen block «Почему изменилась сумма» (#19)."""

from django.urls import reverse
from django.utils.html import escape

from kvartplata.receipts.models import Receipt
from kvartplata.receipts.tests.conftest import OCTOBER


def _url(receipt):
    return reverse("cabinet:receipts:receipt_detail", args=[receipt.account_id, receipt.pk])


def test_it_shows_the_receipts_own_block_in_section_4(demo_client, world):
    receipt = Receipt.objects.get(account=world.resident_account, month=OCTOBER)
    html = demo_client.get(_url(receipt)).content.decode()
    block = html[html.index('data-testid="receipt-change"') :]
    assert html.index("4. Справочная информация") < html.index('data-testid="receipt-change"')
    assert html.index('data-testid="receipt-change"') < html.index("5. Сведения о перерасчётах")
    assert escape(receipt.data["change"]["headline"]) in block
    for cause in receipt.data["change"]["causes"]:
        assert escape(cause) in block


def test_it_shows_no_block_on_a_receipt_frozen_without_it(demo_client, world):
    receipt = Receipt.objects.filter(account=world.resident_account).order_by("month").first()
    assert "change" not in receipt.data
    assert 'data-testid="receipt-change"' not in demo_client.get(_url(receipt)).content.decode()


def test_it_gives_an_outsider_404(client, outsider, world):
    receipt = Receipt.objects.get(account=world.resident_account, month=OCTOBER)
    client.force_login(outsider)
    assert client.get(_url(receipt)).status_code == 404
