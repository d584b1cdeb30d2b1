"""Issued, not computed: a month reaches the resident's pages only when it is closed (issued).

Running (and rerunning) the billing of the open month, or adding a recalculation to it, changes
nothing a resident sees; the close shows the new month everywhere at once.
"""

import datetime
import re
from decimal import Decimal

from django.urls import reverse

from kvartplata.backoffice.closing import period_close_with_receipts
from kvartplata.billing import ledger
from kvartplata.billing.models import AccountBalance, LedgerEntry
from kvartplata.billing.services import billing_run, recalculation_add
from kvartplata.lib.money import format_rub
from kvartplata.registry.models import Period

OCTOBER = datetime.date(2026, 10, 1)
NOVEMBER = datetime.date(2026, 11, 1)
PAGES = [
    ("cabinet:account", {}, {}),
    ("cabinet:charges", {}, {}),
    ("cabinet:charges", {}, {"month": "2026-11"}),
    ("cabinet:payments", {}, {}),
    ("cabinet:charts", {}, {}),
    ("cabinet:chart_charges", {}, {}),
    ("cabinet:chart_consumption", {"unit": "m3"}, {}),
]


def _snapshot(client, world) -> dict:
    pages = {}
    for name, kwargs, params in PAGES:
        url = reverse(name, kwargs={"account_id": world.resident_account.id, **kwargs})
        response = client.get(url, params)
        assert response.status_code == 200, url
        html = response.content.decode()
        # The CSRF token is masked anew on every answer; nothing else may differ.
        html = re.sub(r'value="[A-Za-z0-9]{64}"', "", html)
        # pygal gives every chart a random id.
        html = re.sub(r"chart-[0-9a-f-]{36}", "chart", html)
        pages[(name, tuple(params.items()))] = html
    return pages


def test_it_shows_nothing_of_a_run_until_the_close(demo_client, world):
    before = _snapshot(demo_client, world)
    billing_run(organization=world.organization)
    assert Period.objects.get(organization=world.organization, month=NOVEMBER).state == "billed"
    recalculation_add(
        account=world.resident_account,
        concerns_month=OCTOBER,
        amount=Decimal("-250.00"),
        reason="Нет горячей воды 5 дней",
    )
    billing_run(organization=world.organization)  # a rerun after the review
    after_run = _snapshot(demo_client, world)
    for key, html in before.items():
        assert after_run[key] == html, key
    period_close_with_receipts(organization=world.organization)
    after_close = _snapshot(demo_client, world)
    changed = [key for key in before if after_close[key] != before[key]]
    assert ("cabinet:account", ()) in changed
    assert ("cabinet:charges", ()) in changed
    assert ("cabinet:charges", (("month", "2026-11"),)) in changed
    assert ("cabinet:payments", ()) in changed
    assert ("cabinet:charts", ()) in changed


def test_the_card_keeps_the_issued_receipt_amount_and_due_date(demo_client, world):
    account = world.resident_account
    october = AccountBalance.objects.get(account=account, month=OCTOBER)
    url = reverse("cabinet:account", args=[account.id])
    billing_run(organization=world.organization)
    html = demo_client.get(url).content.decode()
    due = ledger.due_date(world.organization, OCTOBER)
    assert f"до {due:%d.%m.%Y}" in html
    assert "Квитанция за октябрь 2026" in html
    assert re.search(r'data-testid="receipt-amount">([^<]*)<', html)[1] == format_rub(
        october.closing
    )
    # The balance: October's receipt less November's payments so far, not November's charges.
    paid = -sum(
        LedgerEntry.objects.filter(
            account=account, period__month=NOVEMBER, kind="payment"
        ).values_list("amount", flat=True),
        Decimal("0.00"),
    )
    expected = october.closing - paid
    assert re.search(r'data-testid="balance">([^<]*)<', html)[1] == format_rub(abs(expected))

    period_close_with_receipts(organization=world.organization)
    html = demo_client.get(url).content.decode()
    november = AccountBalance.objects.get(account=account, month=NOVEMBER)
    due = ledger.due_date(world.organization, NOVEMBER)
    assert f"до {due:%d.%m.%Y}" in html
    assert "Квитанция за ноябрь 2026" in html
    assert re.search(r'data-testid="receipt-amount">([^<]*)<', html)[1] == format_rub(
        november.closing
    )


def test_the_charges_page_says_the_open_month_is_not_issued(demo_client, world):
    billing_run(organization=world.organization)
    url = reverse("cabinet:charges", args=[world.resident_account.id])
    response = demo_client.get(url, {"month": "2026-11"})
    assert response.context["data"] is None
    assert "ещё не выставлены" in response.content.decode()
    default = demo_client.get(url)
    assert default.context["period"].month == OCTOBER


def test_an_outsider_gets_404_for_every_page(client, world, outsider):
    client.force_login(outsider)
    for name, kwargs, params in PAGES:
        url = reverse(name, kwargs={"account_id": world.resident_account.id, **kwargs})
        assert client.get(url, params).status_code == 404, url
