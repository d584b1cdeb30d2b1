"""Brute-force throttling: per login and address, lifted after the cool-off."""

import datetime as dt

import pytest
import time_machine

from .conftest import login

pytestmark = pytest.mark.django_db

START = dt.datetime(2025, 3, 1, 12, tzinfo=dt.UTC)


def fail(client, times, username="ivanov", ip="10.0.0.1"):
    for _ in range(times):
        response = login(client, username, "Wrong-password-1", REMOTE_ADDR=ip)
    return response


def test_it_locks_the_login_out_from_one_address_after_five_failures(client, resident):
    with time_machine.travel(START, tick=False):
        assert fail(client, 4).status_code == 200
        response = fail(client, 1)
        assert response.status_code == 429
        assert "Слишком много неудачных попыток" in response.content.decode()
        # Even the right password is refused from that address now.
        assert login(client, "ivanov", REMOTE_ADDR="10.0.0.1").status_code == 429


def test_it_does_not_lock_the_real_user_out_from_another_address(client, resident):
    with time_machine.travel(START, tick=False):
        fail(client, 5)
        assert login(client, "ivanov", REMOTE_ADDR="10.0.0.2").status_code == 302


def test_it_locks_unknown_logins_the_same_way(client, db):
    with time_machine.travel(START, tick=False):
        assert fail(client, 5, username="nobody").status_code == 429


def test_it_lifts_the_lockout_after_the_cool_off(client, resident):
    with time_machine.travel(START, tick=False):
        fail(client, 5)
    with time_machine.travel(START + dt.timedelta(minutes=14), tick=False):
        assert login(client, "ivanov", REMOTE_ADDR="10.0.0.1").status_code == 429
    with time_machine.travel(START + dt.timedelta(minutes=30), tick=False):
        assert login(client, "ivanov", REMOTE_ADDR="10.0.0.1").status_code == 302


def test_a_successful_sign_in_resets_the_count(client, resident):
    with time_machine.travel(START, tick=False):
        fail(client, 4)
        assert login(client, "ivanov", REMOTE_ADDR="10.0.0.1").status_code == 302
        client.logout()
        assert fail(client, 4).status_code == 200


def test_it_logs_the_lockout(client, resident, caplog):
    with caplog.at_level("INFO", logger="kvartplata.audit"):
        fail(client, 5)
    assert any("event=lockout" in r.getMessage() for r in caplog.records)
