"""Password change in the profile: current password checked, other sessions ended."""

import pytest
from django.test import Client
from django.urls import reverse

from .conftest import PASSWORD, login

pytestmark = pytest.mark.django_db

NEW = "Novyi-parol-2025"


def change(client, commit, old=PASSWORD, new=NEW, new2=None):
    with commit():
        return client.post(
            reverse("account_change_password"),
            {"oldpassword": old, "password1": new, "password2": new2 or new},
        )


def test_it_changes_the_password_and_ends_other_sessions(client, commit, resident, mailoutbox):
    other = Client()
    login(other, "ivanov")
    login(client, "ivanov")
    response = change(client, commit)
    assert response.status_code == 302
    resident.refresh_from_db()
    assert resident.check_password(NEW)
    # This session stays; the other device is signed out.
    assert client.get(reverse("users:profile")).status_code == 200
    assert other.get(reverse("users:profile")).status_code == 302
    assert any("Пароль изменён" in m.subject for m in mailoutbox)


@pytest.mark.parametrize(
    ("old", "new", "new2", "field"),
    [
        ("wrong-password", NEW, None, "oldpassword"),
        ("", NEW, None, "oldpassword"),
        (PASSWORD, "", None, "password1"),
        (PASSWORD, "short", None, "password1"),
        (PASSWORD, "qwerty123", None, "password1"),
        (PASSWORD, "y" * 129, None, "password1"),
        (PASSWORD, NEW, NEW + "!", "password2"),
    ],
)
def test_it_refuses_bad_input(client, commit, resident, old, new, new2, field):
    login(client, "ivanov")
    response = change(client, commit, old, new, new2)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    resident.refresh_from_db()
    assert resident.check_password(PASSWORD)


def test_it_needs_a_signed_in_user(client):
    response = client.get(reverse("account_change_password"))
    assert response.status_code == 302


def test_it_logs_the_change(client, commit, resident, caplog):
    login(client, "ivanov")
    with caplog.at_level("INFO", logger="kvartplata.audit"):
        change(client, commit)
    assert any("event=password_changed" in r.getMessage() for r in caplog.records)
