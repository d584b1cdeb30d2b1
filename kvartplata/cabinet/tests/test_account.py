"""The account card (R4): identity of the account, its organization and its financial state."""

import datetime
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from kvartplata.billing import ledger
from kvartplata.billing.models import AccountBalance
from kvartplata.lib.money import format_rub, format_volume
from kvartplata.payments.models import Payment
from kvartplata.registry.models import Period


def _page(client, world):
    response = client.get(reverse("cabinet:account", args=[world.resident_account.id]))
    assert response.status_code == 200
    return response.content.decode()


def test_it_shows_the_account_and_its_organization(demo_client, world):
    html = _page(demo_client, world)
    account = world.resident_account
    org = world.organization
    for text in (
        account.number,
        account.holder_name,
        str(account.premises),
        format_volume(account.area, 2) + " м²",
        f"{account.residents} чел.",
        org.name,
        org.address,
        org.phones,
        org.email,
        org.hours,
    ):
        assert escape(text) in html, text


def test_it_shows_the_balance_now_from_the_journal(demo_client, world):
    account = world.resident_account
    current = Period.objects.get(organization=world.organization, state="open")
    previous = AccountBalance.objects.get(account=account, month=datetime.date(2026, 10, 1))
    sums = ledger.movement(current, [account.id]).get(account.id, {})
    expected = previous.closing + sum(sums.values(), Decimal("0.00"))
    html = _page(demo_client, world)
    label = (
        "Задолженность" if expected > 0 else "Переплата" if expected < 0 else "Задолженности нет"
    )
    assert label in html
    assert format_rub(abs(expected)) in html
    due = ledger.due_date(world.organization, previous.month)
    assert f"До {due:%d.%m.%Y}".lower() in html.lower()


def test_it_shows_the_last_payment(demo_client, world):
    last = (
        Payment.objects.filter(account=world.resident_account).order_by("-paid_at", "-id").first()
    )
    assert last is not None
    html = _page(demo_client, world)
    assert format_rub(last.amount) in html
    assert f"{timezone.localtime(last.paid_at):%d.%m.%Y}" in html


def test_it_needs_a_login(client, world):
    response = client.get(reverse("cabinet:account", args=[world.resident_account.id]))
    assert response.status_code == 302
    assert "/accounts/login/" in response.url
