"""Fixtures of the identity tests: residents with and without an activated e-mail."""

import re

import pytest
from django.urls import reverse

from kvartplata.users.services import user_create

PASSWORD = "Kvart-plata-2025"
LINK_RE = re.compile(r"https?://\S+")


@pytest.fixture
def resident(db):
    return user_create(
        username="ivanov", email="ivanov@example.ru", password=PASSWORD, email_verified=True
    )


@pytest.fixture
def inactive(db):
    return user_create(
        username="petrov", email="petrov@example.ru", password=PASSWORD, email_verified=False
    )


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run the request's on-commit callbacks (the queued e-mails) as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def link_in(message) -> str:
    """The first link of a message's text body."""
    match = LINK_RE.search(message.body)
    assert match, message.body
    return match.group(0)


def login(client, username: str, password: str = PASSWORD, **extra):
    return client.post(reverse("account_login"), {"login": username, "password": password}, **extra)
