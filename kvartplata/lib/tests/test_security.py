"""The security middleware: signed-in answers are not cached, the policy on every answer."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse

from kvartplata.lib.security import DEFAULT_CSP, NoStoreMiddleware, revalidate_only


@pytest.fixture
def resident(db):
    return get_user_model().objects.create_user(username="jilec", password="Jilec-pass-2025")


def test_it_marks_signed_in_answers_no_store(client, resident):
    client.force_login(resident)

    response = client.get("/privacy/")

    assert "no-store" in response["Cache-Control"]
    assert response["Pragma"] == "no-cache"
    assert response["Content-Security-Policy"] == DEFAULT_CSP


def test_it_marks_the_sign_out_answer_no_store(client, resident):
    client.force_login(resident)

    response = client.post("/accounts/logout/")

    assert "no-store" in response["Cache-Control"]


def test_it_clears_what_the_browser_kept_on_sign_out(client, resident):
    client.force_login(resident)

    response = client.post("/accounts/logout/")

    assert response["Clear-Site-Data"] == '"cache"'


def test_it_lets_a_marked_page_be_kept_for_revalidation_only(rf, resident):
    request = rf.get("/accounts/1/")
    request.user = resident
    marked = NoStoreMiddleware(lambda r: revalidate_only(HttpResponse("ok")))(request)
    plain = NoStoreMiddleware(lambda r: HttpResponse("ok"))(request)
    request.user = AnonymousUser()
    private_path = NoStoreMiddleware(lambda r: HttpResponse("ok"))(request)

    assert marked["Cache-Control"] == "private, no-cache"
    assert "no-store" in plain["Cache-Control"]
    assert "no-store" in private_path["Cache-Control"]
    assert not marked.has_header("Clear-Site-Data")


def test_it_takes_the_policy_from_settings(client, db, settings):
    settings.CONTENT_SECURITY_POLICY = "default-src 'none'"

    response = client.get("/privacy/")

    assert response["Content-Security-Policy"] == "default-src 'none'"
