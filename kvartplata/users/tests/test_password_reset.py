"""Password restore by e-mail: same answer for unknown addresses, single-use short-lived link."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from .conftest import PASSWORD, link_in, login

pytestmark = pytest.mark.django_db

NEW = "Novyi-parol-2025"
START = dt.datetime(2025, 3, 1, 12, tzinfo=dt.UTC)


def request_reset(client, commit, email):
    with commit():
        return client.post(reverse("account_reset_password"), {"email": email})


def set_password(client, link, password=NEW, password2=None):
    page = client.get(link, follow=True)
    form_url = page.redirect_chain[-1][0] if page.redirect_chain else link
    return client.post(form_url, {"password1": password, "password2": password2 or password})


def test_it_gives_the_same_answer_for_known_and_unknown_addresses(
    client, commit, resident, mailoutbox
):
    known = request_reset(client, commit, "IVANOV@example.ru")
    unknown = request_reset(client, commit, "nobody@example.ru")
    assert known.status_code == unknown.status_code == 302
    assert known.url == unknown.url == reverse("account_reset_password_done")
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["ivanov@example.ru"]
    assert "Восстановление пароля" in mailoutbox[0].subject
    assert "ivanov" in mailoutbox[0].body


@pytest.mark.parametrize("email", ["", "not-an-email", "x" * 250 + "@example.ru"])
def test_it_refuses_a_bad_address(client, commit, mailoutbox, email):
    response = request_reset(client, commit, email)
    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    assert mailoutbox == []


def test_it_sets_a_new_password_with_the_link(client, commit, resident, mailoutbox):
    request_reset(client, commit, "ivanov@example.ru")
    with commit():
        response = set_password(client, link_in(mailoutbox[0]))
    assert response.status_code == 302
    resident.refresh_from_db()
    assert resident.check_password(NEW)
    assert login(client, "ivanov", NEW).status_code == 302
    assert any("Пароль восстановлен" in m.subject for m in mailoutbox)


def test_it_applies_the_password_policy(client, commit, resident, mailoutbox):
    request_reset(client, commit, "ivanov@example.ru")
    response = set_password(client, link_in(mailoutbox[0]), "short")
    assert response.status_code == 200
    assert response.context["form"].errors["password1"]
    response = set_password(client, link_in(mailoutbox[0]), NEW, NEW + "x")
    assert response.context["form"].errors["password2"]
    resident.refresh_from_db()
    assert resident.check_password(PASSWORD)


def test_the_link_works_only_once(client, commit, resident, mailoutbox):
    request_reset(client, commit, "ivanov@example.ru")
    link = link_in(mailoutbox[0])
    set_password(client, link)
    client.logout()
    page = client.get(link, follow=True)
    assert page.context["token_fail"]
    assert "устарела или уже была использована" in page.content.decode()


def test_the_link_expires_after_an_hour(client, commit, resident, mailoutbox):
    with time_machine.travel(START, tick=False):
        request_reset(client, commit, "ivanov@example.ru")
    with time_machine.travel(START + dt.timedelta(minutes=61), tick=False):
        page = client.get(link_in(mailoutbox[0]), follow=True)
        assert page.context["token_fail"]
    resident.refresh_from_db()
    assert resident.check_password(PASSWORD)


def test_it_logs_the_reset(client, commit, resident, mailoutbox, caplog):
    request_reset(client, commit, "ivanov@example.ru")
    with caplog.at_level("INFO", logger="kvartplata.audit"):
        set_password(client, link_in(mailoutbox[0]))
    assert any("event=password_reset" in r.getMessage() for r in caplog.records)
