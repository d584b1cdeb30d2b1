"""The linking form offers exactly the proofs the organizations accept, in the receipt's words."""

import pytest
from django.urls import reverse

from kvartplata.cabinet.forms import LinkForm
from kvartplata.registry.models import Organization

CODE = Organization.LinkProof.RECEIPT_CODE
TOTAL = Organization.LinkProof.RECEIPT_TOTAL


def test_it_asks_only_for_the_code_when_only_the_code_is_accepted():
    form = LinkForm(accepted={CODE})
    field = form.fields["proof"]
    assert field.label == "Код для подключения к личному кабинету"
    assert "рядом с номером лицевого счёта" in field.help_text
    assert "сумм" not in field.label + field.help_text + form.lead


def test_it_asks_only_for_the_total_when_only_the_total_is_accepted():
    form = LinkForm(accepted={TOTAL})
    field = form.fields["proof"]
    assert field.label == "Сумма последней квитанции"
    assert "код" not in (field.label + field.help_text).lower()
    assert form.errors == {}
    bound = LinkForm({"number": "1234", "proof": ""}, accepted={TOTAL})
    assert bound.errors["proof"] == ["Укажите сумму «Итого к оплате» последней квитанции."]


def test_it_offers_both_when_organizations_differ():
    field = LinkForm(accepted={CODE, TOTAL}).fields["proof"]
    assert field.label == "Код для подключения к личному кабинету или сумма последней квитанции"


@pytest.mark.django_db
def test_it_shows_the_demo_resident_the_code_only(demo_client, world):
    html = demo_client.get(reverse("cabinet:link")).content.decode()
    assert "Код для подключения к личному кабинету" in html
    assert "сумма последней квитанции" not in html
    assert "Код привязки" not in html
