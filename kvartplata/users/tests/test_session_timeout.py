"""Session idle and absolute timeouts."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from .conftest import login

pytestmark = pytest.mark.django_db

START = dt.datetime(2025, 3, 1, 9, tzinfo=dt.UTC)


def test_it_ends_an_idle_session(client, resident):
    with time_machine.travel(START, tick=False):
        login(client, "ivanov")
    with time_machine.travel(START + dt.timedelta(minutes=29), tick=False):
        assert client.get(reverse("users:profile")).status_code == 200
    with time_machine.travel(START + dt.timedelta(minutes=29 + 31), tick=False):
        assert client.get(reverse("users:profile")).status_code == 302


def test_it_ends_a_session_after_the_absolute_limit(client, resident, settings):
    settings.SESSION_COOKIE_AGE = 3600
    with time_machine.travel(START, tick=False) as traveller:
        login(client, "ivanov")
        for _ in range(3):
            traveller.shift(dt.timedelta(minutes=20))
            assert client.get(reverse("users:profile")).status_code == 200
        traveller.shift(dt.timedelta(minutes=5))
        assert client.get(reverse("users:profile")).status_code == 302
