"""Sign-in and sign-out: generic errors, a new session key, the session ended on the server."""

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse

from .conftest import PASSWORD, login

pytestmark = pytest.mark.django_db


def test_it_shows_a_styled_sign_in_page(client):
    response = client.get(reverse("account_login"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Вход в личный кабинет" in page
    assert "css/site.css" in page
    assert reverse("account_reset_password") in page
    # A strict CSP comes later: no inline scripts or styles.
    assert "<script" not in page
    assert "style=" not in page
    assert "<style" not in page


def test_the_old_url_names_still_resolve():
    assert reverse("login") == reverse("account_login")
    assert reverse("logout") == reverse("account_logout")


def test_it_signs_in_with_a_new_session_key(client, resident):
    client.get(reverse("account_login"))
    client.session.save()
    before = client.session.session_key
    response = login(client, "ivanov")
    assert response.status_code == 302
    assert response.url == reverse("cabinet:home")
    assert client.session["_auth_user_id"] == str(resident.pk)
    assert client.session.session_key != before


def test_it_accepts_the_login_in_another_case(client, resident):
    assert login(client, "IVANOV").status_code == 302


def test_it_gives_the_same_answer_for_a_wrong_password_and_an_unknown_login(client, resident):
    wrong = login(client, "ivanov", "Wrong-password-1")
    unknown = login(client, "nobody", "Wrong-password-1")
    assert wrong.status_code == unknown.status_code == 200
    assert wrong.context["form"].errors == unknown.context["form"].errors
    assert wrong.context["form"].non_field_errors() == ["Неверный логин или пароль."]
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    "data",
    [{}, {"login": "", "password": ""}, {"login": "ivanov"}, {"password": PASSWORD}],
)
def test_it_refuses_empty_fields(client, resident, data):
    response = client.post(reverse("account_login"), data)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert "_auth_user_id" not in client.session


def test_it_refuses_a_too_long_login(client, resident):
    response = login(client, "x" * 151)
    assert response.context["form"].errors["login"]


def test_it_signs_out_and_ends_the_session_on_the_server(client, resident):
    login(client, "ivanov")
    key = client.session.session_key
    assert Session.objects.filter(session_key=key).exists()
    response = client.post(reverse("account_logout"))
    assert response.status_code == 302
    assert not Session.objects.filter(session_key=key).exists()
    assert client.get(reverse("cabinet:home")).status_code == 302


def test_it_does_not_sign_out_on_get(client, resident):
    login(client, "ivanov")
    client.get(reverse("account_logout"))
    assert "_auth_user_id" in client.session


def test_it_sends_anonymous_visitors_to_the_sign_in_page(client):
    response = client.get(reverse("cabinet:home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_it_logs_sign_in_failure_and_sign_out(client, resident, caplog):
    with caplog.at_level("INFO", logger="kvartplata.audit"):
        login(client, "ivanov", "wrong-wrong-1")
        login(client, "ivanov")
        client.post(reverse("account_logout"))
    events = [r.getMessage() for r in caplog.records if r.name == "kvartplata.audit"]
    assert any("event=login_failed" in e and "'ivanov'" in e for e in events)
    assert any("event=login " in e and "ip=127.0.0.1" in e for e in events)
    assert any("event=logout" in e for e in events)
    assert not any("wrong-wrong-1" in e or PASSWORD in e for e in events)


def test_staff_back_office_keeps_its_own_sign_in(client, db):
    from kvartplata.users.models import User

    User.objects.create_user(username="operator", password=PASSWORD, is_staff=True)
    page = client.get("/office/login/")
    assert page.status_code == 200
    response = client.post(
        "/office/login/?next=/office/", {"username": "operator", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.url == "/office/"
