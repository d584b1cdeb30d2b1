"""Registration: login, e-mail, password twice and the consent; every field refused when bad."""

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from kvartplata.users.models import User

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db

GOOD = {
    "username": "sidorov",
    "email": "Sidorov@Example.ru",
    "password1": PASSWORD,
    "password2": PASSWORD,
    "consent": "on",
}


def post(client, commit, **changes):
    data = {**GOOD, **changes}
    data = {key: value for key, value in data.items() if value is not None}
    with commit():
        return client.post(reverse("account_signup"), data)


def test_it_shows_the_form_linked_from_the_sign_in_page(client):
    page = client.get(reverse("account_login")).content.decode()
    assert reverse("account_signup") in page
    assert "Зарегистрироваться" in page
    form = client.get(reverse("account_signup")).content.decode()
    for label in ("Логин", "Электронная почта", "Пароль ещё раз", "согласие"):
        assert label in form


def test_it_registers_and_sends_the_activation_link(client, commit, mailoutbox):
    response = post(client, commit)
    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    user = User.objects.get(username="sidorov")
    assert user.email == "sidorov@example.ru"
    assert user.consent_version
    assert user.consent_at is not None
    assert not EmailAddress.objects.get(user=user).verified
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["sidorov@example.ru"]
    assert "Активация" in message.subject
    assert "/accounts/confirm-email/" in message.body
    assert message.alternatives and "<a href=" in message.alternatives[0][0]
    # Not signed in until the link is followed.
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("field", ["username", "email", "password1", "password2", "consent"])
def test_it_refuses_an_empty_field(client, commit, mailoutbox, field):
    response = post(client, commit, **{field: None})
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert not User.objects.exists()
    assert mailoutbox == []


def test_it_explains_that_the_consent_is_required(client, commit):
    response = post(client, commit, consent=None)
    assert "Без согласия" in response.content.decode()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("username", "x" * 151),
        ("username", "ab"),
        ("username", "bad login!"),
        ("username", "Admin"),
        ("email", "not-an-email"),
        ("email", "a@b"),
        ("email", "x" * 250 + "@example.ru"),
    ],
)
def test_it_refuses_a_bad_value(client, commit, field, value):
    response = post(client, commit, **{field: value})
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Short-1", "слишком короткий"),
        ("password123", "слишком широко распространён"),
        ("x" * 129, "слишком длинный"),
    ],
)
def test_it_applies_the_password_policy(client, commit, password, message):
    response = post(client, commit, password1=password, password2=password)
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["password1"])
    assert message in errors.lower()
    assert not User.objects.exists()


def test_it_accepts_a_long_passphrase_without_composition_rules(client, commit):
    phrase = "кот " * 32  # 128 characters, lower-case letters and spaces only
    response = post(client, commit, password1=phrase, password2=phrase)
    assert response.status_code == 302
    assert User.objects.get().check_password(phrase)


def test_it_refuses_different_passwords(client, commit):
    response = post(client, commit, password2=PASSWORD + "x")
    assert response.context["form"].errors["password2"]
    assert not User.objects.exists()


def test_it_refuses_a_login_taken_in_another_case(client, commit, resident):
    response = post(client, commit, username="IVANOV")
    assert response.context["form"].errors["username"] == ["Этот логин уже занят. Выберите другой."]
    assert User.objects.count() == 1


def test_it_refuses_an_email_taken_in_another_case(client, commit, resident, mailoutbox):
    response = post(client, commit, email="IVANOV@EXAMPLE.RU")
    assert "уже зарегистрирован" in response.context["form"].errors["email"][0]
    assert User.objects.count() == 1
    assert mailoutbox == []


def test_it_refuses_an_email_typed_by_staff_in_mixed_case(client, commit):
    User.objects.create_user(username="staff", email="Mixed@Example.ru", password=PASSWORD)
    response = post(client, commit, email="mixed@example.ru")
    assert response.context["form"].errors["email"]


def test_it_logs_the_signup(client, commit, caplog):
    with caplog.at_level("INFO", logger="kvartplata.audit"):
        post(client, commit)
    assert any("event=signup" in r.getMessage() for r in caplog.records)
