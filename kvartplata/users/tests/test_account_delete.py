"""Deleting the user account: password asked again, personal data gone, accounts stay."""

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from kvartplata.registry.models import PersonalAccount
from kvartplata.users.models import AccountLink, User

from .conftest import PASSWORD, login
from .test_profile import make_account

pytestmark = pytest.mark.django_db


def test_it_deletes_personal_data_and_keeps_the_accounts(client, commit, resident, mailoutbox):
    account = make_account("900")
    AccountLink.objects.create(user=resident, account=account)
    User.objects.filter(pk=resident.pk).update(phone="+79120000000", last_name="Иванов")
    login(client, "ivanov")
    assert client.get(reverse("users:account_delete")).status_code == 200
    with commit():
        response = client.post(reverse("users:account_delete"), {"password": PASSWORD})
    assert response.status_code == 302
    assert not User.objects.filter(pk=resident.pk).exists()
    assert not User.objects.filter(phone="+79120000000").exists()
    assert not EmailAddress.objects.filter(email="ivanov@example.ru").exists()
    assert not AccountLink.objects.filter(account=account).exists()
    assert PersonalAccount.objects.filter(pk=account.pk).exists()
    assert "_auth_user_id" not in client.session
    assert mailoutbox[-1].subject.endswith("Учётная запись удалена")
    assert login(client, "ivanov").status_code == 200


@pytest.mark.parametrize("password", ["", "wrong-password", "x" * 5000])
def test_it_refuses_a_wrong_password(client, resident, password):
    login(client, "ivanov")
    response = client.post(reverse("users:account_delete"), {"password": password})
    assert response.status_code == 200
    assert response.context["form"].errors["password"]
    assert User.objects.filter(pk=resident.pk).exists()


def test_it_needs_a_signed_in_user(client):
    assert client.post(reverse("users:account_delete"), {"password": PASSWORD}).status_code == 302


def test_it_logs_the_deletion(client, resident, caplog):
    login(client, "ivanov")
    with caplog.at_level("INFO", logger="kvartplata.audit"):
        client.post(reverse("users:account_delete"), {"password": PASSWORD})
    assert any("event=account_deleted" in r.getMessage() for r in caplog.records)
