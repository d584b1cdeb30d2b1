"""Activation by the e-mailed link: single-use, expires after 3 days, can be requested again."""

import datetime as dt

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.urls import reverse

from .conftest import PASSWORD, link_in, login

pytestmark = pytest.mark.django_db

SIGNUP = {
    "username": "sidorov",
    "email": "sidorov@example.ru",
    "password1": PASSWORD,
    "password2": PASSWORD,
    "consent": "on",
}


def signup(client, commit, mailoutbox) -> str:
    with commit():
        client.post(reverse("account_signup"), SIGNUP)
    return link_in(mailoutbox[-1])


def test_it_activates_with_the_link_and_then_lets_the_user_in(client, commit, mailoutbox):
    link = signup(client, commit, mailoutbox)
    page = client.get(link)
    assert "Подтвердить" in page.content.decode()
    response = client.post(link)
    assert response.status_code == 302
    assert EmailAddress.objects.get(email="sidorov@example.ru").verified
    response = login(client, "sidorov")
    assert response.status_code == 302
    assert response.url == reverse("cabinet:home")


def test_it_refuses_a_reused_link(client, commit, mailoutbox):
    link = signup(client, commit, mailoutbox)
    client.post(link)
    page = client.get(link).content.decode()
    assert "устарела или уже была использована" in page
    response = client.post(link)
    assert response.status_code == 404


def test_it_refuses_an_expired_link(client, commit, mailoutbox):
    with time_machine.travel(dt.datetime(2025, 3, 1, 12, tzinfo=dt.UTC), tick=False):
        link = signup(client, commit, mailoutbox)
    with time_machine.travel(dt.datetime(2025, 3, 4, 12, 1, tzinfo=dt.UTC), tick=False):
        assert "устарела" in client.get(link).content.decode()
        assert client.post(link).status_code == 404
    assert not EmailAddress.objects.get(email="sidorov@example.ru").verified


def test_it_accepts_a_link_just_before_expiry(client, commit, mailoutbox):
    with time_machine.travel(dt.datetime(2025, 3, 1, 12, tzinfo=dt.UTC), tick=False):
        link = signup(client, commit, mailoutbox)
    with time_machine.travel(dt.datetime(2025, 3, 4, 11, 59, tzinfo=dt.UTC), tick=False):
        client.post(link)
    assert EmailAddress.objects.get(email="sidorov@example.ru").verified


def test_it_refuses_a_forged_link(client):
    assert "устарела" in client.get("/accounts/confirm-email/MQ:forged:key/").content.decode()


def test_it_says_on_sign_in_that_the_account_is_not_activated(client, inactive):
    response = login(client, "petrov")
    assert response.status_code == 200
    page = response.content.decode()
    assert "не активирована" in page
    assert "Отправить письмо ещё раз" in page
    assert "_auth_user_id" not in client.session


def test_it_resends_the_link_from_the_sign_in_page(client, commit, inactive, mailoutbox):
    token = login(client, "petrov").context["form"].resend_token
    with commit():
        response = client.post(reverse("users:activation_resend"), {"token": token}, follow=True)
    assert "ещё раз" in response.content.decode()
    assert len(mailoutbox) == 1
    client.post(link_in(mailoutbox[0]))
    assert EmailAddress.objects.get(user=inactive).verified


def test_it_throttles_resending(client, commit, inactive, mailoutbox):
    token = login(client, "petrov").context["form"].resend_token
    with commit():
        client.post(reverse("users:activation_resend"), {"token": token})
        response = client.post(reverse("users:activation_resend"), {"token": token}, follow=True)
    assert len(mailoutbox) == 1
    assert "несколько минут назад" in response.content.decode()


@pytest.mark.parametrize("token", ["", "garbage", "1:forged:sig"])
def test_it_refuses_a_bad_resend_token(client, inactive, mailoutbox, token):
    response = client.post(reverse("users:activation_resend"), {"token": token}, follow=True)
    assert "Не удалось отправить письмо" in response.content.decode()
    assert mailoutbox == []


def test_it_does_not_resend_for_an_activated_account(client, resident, mailoutbox):
    from django.core import signing

    from kvartplata.users.forms import RESEND_SALT

    token = signing.dumps(resident.pk, salt=RESEND_SALT)
    response = client.post(reverse("users:activation_resend"), {"token": token}, follow=True)
    assert "уже активирована" in response.content.decode()
    assert mailoutbox == []


def test_it_refuses_resend_by_get(client):
    assert client.get(reverse("users:activation_resend")).status_code == 405
