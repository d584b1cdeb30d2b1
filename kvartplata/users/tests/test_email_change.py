"""E-mail change: the new address counts only after its link is followed."""

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from kvartplata.users.services import user_create

from .conftest import PASSWORD, link_in, login

pytestmark = pytest.mark.django_db


def add(client, commit, email):
    with commit():
        return client.post(reverse("account_email"), {"action_add": "", "email": email})


def test_it_changes_the_address_after_confirmation(client, commit, resident, mailoutbox):
    login(client, "ivanov")
    response = add(client, commit, "New@Example.ru")
    assert response.status_code == 302
    resident.refresh_from_db()
    assert resident.email == "ivanov@example.ru"
    confirmation = [m for m in mailoutbox if m.to == ["new@example.ru"]][0]
    assert "Подтвердите адрес" in confirmation.subject
    with commit():
        client.post(link_in(confirmation))
    resident.refresh_from_db()
    assert resident.email == "new@example.ru"
    assert list(EmailAddress.objects.filter(user=resident).values_list("email", flat=True)) == [
        "new@example.ru"
    ]
    assert any(m.to == ["ivanov@example.ru"] and "изменён" in m.subject for m in mailoutbox)


@pytest.mark.parametrize("email", ["", "bad", "x" * 250 + "@example.ru"])
def test_it_refuses_a_bad_address(client, commit, resident, mailoutbox, email):
    login(client, "ivanov")
    response = add(client, commit, email)
    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    assert mailoutbox == []


def test_it_refuses_an_address_of_another_user_in_any_case(client, commit, resident):
    user_create(username="other", email="other@example.ru", password=PASSWORD, email_verified=True)
    login(client, "ivanov")
    response = add(client, commit, "OTHER@example.ru")
    assert response.status_code == 200
    assert "уже зарегистрирован" in response.context["form"].errors["email"][0]


def test_the_page_is_in_russian(client, resident):
    login(client, "ivanov")
    page = client.get(reverse("account_email")).content.decode()
    assert "Электронная почта" in page
    assert "Сменить адрес" in page
