"""Bank details are checked where they are entered: model validation, the back office forms."""

import datetime
import random

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.urls import reverse

from kvartplata.demo.world import _registry
from kvartplata.registry.models import Organization, Provider

pytestmark = pytest.mark.django_db

SBER = {
    "inn": "7707083893",
    "kpp": "773601001",
    "bank_name": "ПАО Сбербанк",
    "bic": "044525225",
    "correspondent_account": "30101810400000000225",
    "settlement_account": "40702810138250123017",
}


def organization(**changes) -> Organization:
    fields = {"name": "ООО «УК Тест»", "short_name": "УК Тест", "address": "г. Рязань", **SBER}
    return Organization.objects.create(**{**fields, **changes})


def test_it_accepts_the_demo_worlds_details():
    _registry(random.Random(1), 20, datetime.date(2026, 8, 1))
    payees = [*Organization.objects.all(), *Provider.objects.all()]
    assert len(payees) == 4
    for payee in payees:
        payee.full_clean()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("inn", "6229012345", "ИНН «6229012345»: неверные контрольные цифры"),
        ("kpp", "62290100", "КПП: нужно 9 знаков"),
        ("settlement_account", "40702810253000012345", "не соответствует БИК «044525225»"),
        ("correspondent_account", "30101810500000000614", "не соответствует БИК «044525225»"),
    ],
)
def test_it_refuses_wrong_details_in_model_validation(field, value, message):
    org = organization(**{field: value})
    with pytest.raises(ValidationError) as caught:
        org.full_clean()
    assert list(caught.value.message_dict) == [field]
    assert message in caught.value.message_dict[field][0]


def provider_form(org, **changes):
    return {
        "organization": org.pk,
        "name": "Муниципальное предприятие «Водоканал»",
        "short_name": "Водоканал",
        "address": "",
        "phones": "",
        **SBER,
        **changes,
    }


def test_it_shows_the_russian_message_in_the_back_office_and_saves_nothing(client):
    org = organization()
    admin = get_user_model().objects.create_superuser("root", "root@example.ru", "x-Secret-123")
    client.force_login(admin)
    url = reverse("admin:registry_provider_add")
    assert "контрольные ключи" in client.get(url).content.decode()
    response = client.post(url, provider_form(org, settlement_account="40702810138250123018"))
    assert response.status_code == 200
    assert "не сходится контрольный ключ" in response.content.decode()
    assert not Provider.objects.exists()
    response = client.post(url, provider_form(org))
    assert response.status_code == 302
    assert Provider.objects.get().settlement_account == SBER["settlement_account"]


def test_it_refuses_a_name_and_bank_too_long_for_the_qr_code():
    # windows-1251: 8 + "Name=" 5 + 160 + "|PersonalAcc=" 13 + 20 + "|BankName=" 10 + 45
    # + "|BIC=" 5 + 9 + "|CorrespAcc=" 12 + 20 = 307 bytes > 300.
    org = organization(name="Н" * 160, bank_name="Б" * 45)
    with pytest.raises(ValidationError) as caught:
        org.full_clean()
    assert "307 байт" in caught.value.message_dict["name"][0]
    organization(name="Н" * 153, bank_name="Б" * 45).full_clean()  # 300 bytes: accepted
