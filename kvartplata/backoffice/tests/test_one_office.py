"""One office: every staff page under /office/ with one navigation; old addresses redirect;
the ledger and the admin's history have different names; roles may not do each other's work."""

import datetime

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.urls import reverse

from kvartplata.backoffice.services import (
    ROLE_ACCOUNTANT,
    ROLE_ADMINISTRATOR,
    ROLE_OPERATOR,
    staff_group_setup,
)
from kvartplata.billing.models import BillingRun, LedgerEntry, Recalculation
from kvartplata.demo.world import build
from kvartplata.payments.models import Payment
from kvartplata.registry.models import Period

MSK = datetime.timezone(datetime.timedelta(hours=3))
NOVEMBER = datetime.date(2026, 11, 1)


@pytest.fixture
def world(db):
    with time_machine.travel(datetime.datetime(2026, 11, 25, 12, 0, tzinfo=MSK), tick=False):
        yield build(accounts=20, months=4, today=datetime.date(2026, 11, 25))


def _member(world, username, role):
    user = get_user_model().objects.create_user(
        username=username, password="x-pass-12345", is_staff=True, organization=world.organization
    )
    staff_group_setup(usernames=[username], role=role)
    return user


@pytest.fixture
def operator(world):
    return _member(world, "oper", ROLE_OPERATOR)


@pytest.fixture
def accountant(world):
    return _member(world, "buh", ROLE_ACCOUNTANT)


@pytest.mark.parametrize(
    "old,new",
    [
        ("/office-tools/payments/", "/office/tools/payments/"),
        ("/office-tools/payments/unmatched/?q=1", "/office/tools/payments/unmatched/?q=1"),
        ("/office-tools/receipts/", "/office/tools/receipts/"),
        ("/office-tools/registry/", "/office/tools/registry/"),
        ("/meters/office/", "/office/tools/readings/"),
        ("/meters/office/export/", "/office/tools/readings/export/"),
    ],
)
def test_old_addresses_redirect(client, old, new):
    response = client.get(old)
    assert response.status_code == 301
    assert response["Location"] == new


def test_a_form_posted_to_an_old_address_is_posted_again(client, world):
    client.force_login(get_user_model().objects.get(username="operator"))
    response = client.post("/office-tools/payments/upload/", {})
    assert response.status_code == 308
    assert response["Location"] == "/office/tools/payments/upload/"


def test_the_resident_unsubscribe_link_stays_where_it_was():
    assert reverse("meters_site:unsubscribe", args=["abc"]).startswith("/meters/unsubscribe/")


OFFICE_PAGES = [
    "/office/",
    "/office/month/",
    "/office/desk/",
    "/office/reports/turnover/",
    "/office/tools/payments/",
    "/office/tools/payments/unmatched/",
    "/office/tools/readings/",
    "/office/tools/receipts/",
    "/office/tools/registry/",
]


def test_every_page_has_the_one_navigation(client, world):
    client.force_login(get_user_model().objects.get(username="operator"))
    for url in OFFICE_PAGES:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert 'aria-label="Бэк-офис"' in html, url
        for link in ("Расчётный месяц", "Лицевые счета", "Отчёты", "Журнал проводок"):
            assert link in html, (url, link)
        assert 'id="site-name"' in html, url  # the admin's look


def test_the_ledger_and_the_history_are_named_apart(client, world):
    client.force_login(get_user_model().objects.get(username="operator"))
    index = client.get("/office/").content.decode()
    assert "Журнал проводок" in index
    assert "История изменений" in index
    assert "Записи в журнале" not in index
    history = client.get(reverse("admin:admin_logentry_changelist")).content.decode()
    assert "История изменений" in history
    assert "Записи в журнале" not in history


def test_an_operator_may_not_run_close_report_or_recalculate(client, world, operator):
    client.force_login(operator)
    period = Period.objects.get(organization=world.organization, month=NOVEMBER)
    assert client.get(reverse("office_month:period", args=[period.id])).status_code == 200
    assert client.post(reverse("office_month:run", args=[period.id])).status_code == 403
    assert client.get(reverse("office_month:close", args=[period.id])).status_code == 403
    assert not BillingRun.objects.filter(period=period).exists()
    for name in ("turnover", "debtors", "collections", "readings"):
        assert client.get(reverse(f"office_reports:{name}")).status_code == 403
    account = world.organization.accounts.first()
    url = reverse("office_desk:account", args=[account.id])
    assert client.get(url).status_code == 200
    client.post(url, {"concerns_month": "2026-10", "amount": "10", "reason": "x", "confirm": "on"})
    assert not Recalculation.objects.filter(account=account, source="staff").exists()
    assert client.get(reverse("admin:registry_period_changelist")).status_code == 200
    assert client.get(reverse("admin:billing_service_add")).status_code == 403


def test_an_accountant_may_not_match_payments_or_edit_the_registry(client, world, accountant):
    client.force_login(accountant)
    payment = Payment.objects.filter(organization=world.organization).first()
    account = world.organization.accounts.first()
    response = client.post(
        reverse("payments:match", args=[payment.id]),
        {"account_number": account.number, "confirm": "yes"},
    )
    assert response.status_code == 403
    response = client.post(
        reverse("payments:return", args=[payment.id]), {"reason": "x", "confirm": "yes"}
    )
    assert response.status_code == 403
    assert client.post(reverse("payments:upload"), {}).status_code == 403
    change = reverse("admin:registry_personalaccount_change", args=[account.id])
    assert client.post(change, {"holder_last_name": "Другой"}).status_code == 403
    assert client.get(reverse("admin:users_user_changelist")).status_code == 403
    assert client.get(reverse("office_reports:turnover")).status_code == 200


def test_an_administrator_may_not_rewrite_the_ledger(client, world):
    admin_user = _member(world, "adm", ROLE_ADMINISTRATOR)
    client.force_login(admin_user)
    entry = LedgerEntry.objects.filter(period__organization=world.organization).first()
    change = reverse("admin:billing_ledgerentry_change", args=[entry.id])
    client.post(change, {"amount": "0.01"})
    entry.refresh_from_db()
    assert entry.amount != 0 and str(entry.amount) != "0.01"
    assert client.get(reverse("admin:users_user_add")).status_code == 403
    delete = reverse("admin:billing_ledgerentry_delete", args=[entry.id])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert LedgerEntry.objects.filter(id=entry.id).exists()
