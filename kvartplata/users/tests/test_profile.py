"""«Мой профиль»: name, phone, the receipts switch, linked accounts with «отвязать»."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from kvartplata.registry.models import Building, Organization, PersonalAccount, Premises
from kvartplata.users.models import AccountLink
from kvartplata.users.services import user_create

from .conftest import PASSWORD, login

pytestmark = pytest.mark.django_db

GOOD = {
    "last_name": "Иванов",
    "first_name": "Иван",
    "middle_name": "Иванович",
    "phone": "+7 912 345-67-89",
    "receipts_by_email": "on",
}


def make_account(number: str) -> PersonalAccount:
    org = Organization.objects.first() or Organization.objects.create(
        name="УК «Дом»",
        inn="7701234567",
        kpp="770101001",
        bank_name="Банк",
        bic="044525225",
        correspondent_account="30101810400000000225",
        settlement_account="40702810900000000001",
    )
    building = Building.objects.create(
        organization=org,
        city="Город",
        street="ул. Ленина",
        house=number,
        total_area=Decimal(1000),
        residential_area=Decimal(900),
        common_area=Decimal(100),
    )
    premises = Premises.objects.create(building=building, number="1", total_area=Decimal(50))
    return PersonalAccount.objects.create(
        organization=org, number=number, premises=premises, opened_on=dt.date(2024, 1, 1)
    )


@pytest.fixture
def signed_in(client, resident):
    login(client, "ivanov")
    return client


def test_it_shows_the_profile(signed_in, resident, django_assert_max_num_queries):
    for n in range(3):
        AccountLink.objects.create(user=resident, account=make_account(f"10{n}"))
    with django_assert_max_num_queries(12):
        response = signed_in.get(reverse("users:profile"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Мой профиль" in page
    assert "ivanov@example.ru" in page
    assert "ЛС 100" in page and "ЛС 102" in page
    assert "Отвязать" in page
    assert response["Cache-Control"].count("no-store") or "no-cache" in response["Cache-Control"]


def test_it_saves_name_phone_and_the_receipts_switch(signed_in, resident):
    response = signed_in.post(reverse("users:profile"), GOOD)
    assert response.status_code == 302
    resident.refresh_from_db()
    assert (resident.last_name, resident.first_name, resident.middle_name) == (
        "Иванов",
        "Иван",
        "Иванович",
    )
    assert resident.phone == "+7 912 345-67-89"
    assert resident.receipts_by_email is True
    signed_in.post(reverse("users:profile"), {**GOOD, "receipts_by_email": ""})
    resident.refresh_from_db()
    assert resident.receipts_by_email is False


def test_it_accepts_empty_optional_fields(signed_in, resident):
    data = dict.fromkeys(GOOD, "")
    assert signed_in.post(reverse("users:profile"), data).status_code == 302


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phone", "not a phone"),
        ("phone", "12"),
        ("phone", "+7" + "1" * 25),
        ("last_name", "x" * 151),
        ("first_name", "x" * 151),
        ("middle_name", "x" * 151),
    ],
)
def test_it_refuses_bad_input_and_changes_nothing(signed_in, resident, field, value):
    response = signed_in.post(reverse("users:profile"), {**GOOD, field: value})
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    resident.refresh_from_db()
    assert resident.phone == "" and resident.last_name == ""


def test_it_unlinks_an_account_by_post(signed_in, resident):
    account = make_account("555")
    link = AccountLink.objects.create(user=resident, account=account)
    assert signed_in.get(reverse("users:link_remove", args=[link.pk])).status_code == 405
    response = signed_in.post(reverse("users:link_remove", args=[link.pk]), follow=True)
    assert "отвязан" in response.content.decode()
    assert not AccountLink.objects.filter(pk=link.pk).exists()
    assert PersonalAccount.objects.filter(pk=account.pk).exists()


def test_it_does_not_unlink_someone_elses_account(signed_in):
    other = user_create(username="other", email="o@example.ru", password=PASSWORD)
    link = AccountLink.objects.create(user=other, account=make_account("777"))
    response = signed_in.post(reverse("users:link_remove", args=[link.pk]))
    assert response.status_code == 404
    assert AccountLink.objects.filter(pk=link.pk).exists()


def test_it_needs_a_signed_in_user(client):
    assert client.get(reverse("users:profile")).status_code == 302
    assert client.post(reverse("users:link_remove", args=[1])).status_code == 302
