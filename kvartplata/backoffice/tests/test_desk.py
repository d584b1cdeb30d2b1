"""The account desk: search by number, address, holder, phone; one page per account; actions."""

import datetime
import logging
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.db import connection
from django.urls import reverse
from django.utils.html import escape

from kvartplata.backoffice import desk
from kvartplata.billing.models import LedgerEntry, Recalculation
from kvartplata.demo.world import build
from kvartplata.registry.models import Organization

MSK = datetime.timezone(datetime.timedelta(hours=3))


@pytest.fixture
def world(db):
    with time_machine.travel(datetime.datetime(2026, 11, 25, 12, 0, tzinfo=MSK), tick=False):
        yield build(accounts=20, months=4, today=datetime.date(2026, 11, 25))


@pytest.fixture
def office(client, world):
    client.force_login(get_user_model().objects.get(username="operator"))
    return client


@pytest.fixture
def account(world):
    account = world.organization.accounts.select_related("premises__building").order_by("number")[5]
    account.holder_phone = "+79101234567"
    account.save(update_fields=["holder_phone"])
    return account


def test_it_finds_an_account_by_number_address_holder_and_phone(world, account):
    org = world.organization
    building = account.premises.building
    assert account in desk.search(org, account.number)
    assert account in desk.search(org, account.number[:6])
    assert account in desk.search(org, "8 (910) 123-45-67")
    assert account in desk.search(org, account.holder_last_name.lower())
    address = f"{building.street} {building.house} кв {account.premises.number}"
    assert desk.search(org, address) == [account]
    assert desk.search(org, "") == []
    assert desk.search(org, "Несуществующая") == []


def test_the_phone_search_uses_its_index(world):
    assert "account_phone_idx" in {
        index
        for index, info in connection.introspection.get_constraints(
            connection.cursor(), "registry_personalaccount"
        ).items()
        if info["index"]
    }


def test_one_result_opens_the_account(office, account):
    response = office.get(reverse("office_desk:search"), {"q": account.number})
    assert response.status_code == 302
    assert response["Location"] == reverse("office_desk:account", args=[account.id])


def test_it_shows_the_account_on_one_page(office, world, account, django_assert_max_num_queries):
    with django_assert_max_num_queries(40):
        response = office.get(reverse("office_desk:account", args=[account.id]))
    assert response.status_code == 200
    html = response.content.decode()
    for text in (account.holder_name, str(account.premises), account.number, "Журнал проводок"):
        assert escape(text) in html
    for testid in ("movement", "charges", "payments", "receipts", "ledger"):
        assert f'data-testid="{testid}"' in html
    data = response.context["desk"]
    assert data.movement.adds_up
    assert data.ledger and all(e.account_id == account.id for e in data.ledger)


def test_it_adds_a_recalculation_once_with_confirmation(office, world, account, caplog):
    url = reverse("office_desk:account", args=[account.id])
    page = office.get(url)
    token = page.context["token"]
    post = {
        "concerns_month": "2026-10",
        "service": "",
        "amount": "−250,00",
        "reason": "Нет горячей воды 5 дней",
        "token": token,
    }
    response = office.post(url, post)
    assert response.status_code == 400
    assert "Подтвердите перерасчёт" in response.content.decode()
    assert not Recalculation.objects.filter(account=account, source="staff").exists()
    token = response.context["token"]
    with caplog.at_level(logging.INFO, logger="kvartplata.audit"):
        response = office.post(url, {**post, "confirm": "on", "token": token})
    assert response.status_code == 302
    made = Recalculation.objects.get(account=account, source="staff")
    assert made.amount == Decimal("-250.00")
    assert LedgerEntry.objects.filter(kind="recalculation", source_id=made.id).count() == 1
    assert any("event=recalculation_added" in r.getMessage() for r in caplog.records)
    # The same form again (a double click): nothing more.
    office.post(url, {**post, "confirm": "on", "token": token})
    assert Recalculation.objects.filter(account=account, source="staff").count() == 1


def test_it_grants_a_privilege_from_the_desk(office, account):
    url = reverse("office_desk:account", args=[account.id])
    post = {
        "source": "privilege",
        "concerns_month": "2026-10",
        "service": "",
        "reason": "Льгота ветерана труда",
        "confirm": "on",
    }
    token = office.get(url).context["token"]
    refused = office.post(url, {**post, "amount": "250", "token": token})
    assert refused.status_code == 400
    assert "со знаком минус" in refused.content.decode()
    token = refused.context["token"]
    response = office.post(url, {**post, "amount": "−250", "token": token})
    assert response.status_code == 302
    made = Recalculation.objects.get(account=account, source="privilege")
    assert made.amount == Decimal("-250.00")


@pytest.mark.parametrize(
    "amount,message",
    [("abc", "Введите сумму"), ("0", "не может быть нулевой"), ("5000000", "не больше")],
)
def test_it_refuses_bad_amounts(office, account, amount, message):
    url = reverse("office_desk:account", args=[account.id])
    token = office.get(url).context["token"]
    response = office.post(
        url,
        {
            "concerns_month": "2026-10",
            "amount": amount,
            "reason": "x",
            "confirm": "on",
            "token": token,
        },
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Recalculation.objects.filter(account=account, source="staff").exists()


def test_staff_of_another_organization_get_404(client, world, account):
    other = Organization.objects.create(
        name="УК «Другая»",
        short_name="Другая",
        address="г. Город",
        inn="7701234560",
        bic="044525225",
        bank_name="Банк",
        correspondent_account="30101810400000000225",
        settlement_account="40702810200000000001",
    )
    stranger = get_user_model().objects.create_user(
        username="chuzhoy", password="x-pass-12345", is_staff=True, organization=other
    )
    stranger.groups.set(get_user_model().objects.get(username="operator").groups.all())
    client.force_login(stranger)
    assert client.get(reverse("office_desk:account", args=[account.id])).status_code == 404
    response = client.get(reverse("office_desk:search"), {"q": account.number})
    assert response.status_code == 200 and response.context["found"] == []
