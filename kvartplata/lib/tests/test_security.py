"""The security middleware: signed-in answers are not cached, the policy on every answer."""

import pytest
from django.contrib.auth import get_user_model

from kvartplata.lib.security import DEFAULT_CSP


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


def test_it_takes_the_policy_from_settings(client, db, settings):
    settings.CONTENT_SECURITY_POLICY = "default-src 'none'"

    response = client.get("/privacy/")

    assert response["Content-Security-Policy"] == "default-src 'none'"
