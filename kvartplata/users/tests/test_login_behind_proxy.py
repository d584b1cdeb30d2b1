"""Sign-in throttling behind the documented nginx (issue #16, item 2).

nginx on 127.0.0.1 is the only peer; it appends the client's address to X-Forwarded-For.
"""

import datetime as dt

import pytest
import time_machine

from .conftest import PASSWORD, login

pytestmark = pytest.mark.django_db

START = dt.datetime(2025, 3, 1, 12, tzinfo=dt.UTC)
NGINX = "127.0.0.1"
WRONG = "Wrong-password-1"  # noqa: S105 - a test value


@pytest.fixture(autouse=True)
def behind_nginx(settings):
    settings.TRUSTED_PROXIES = [NGINX]


def via_proxy(client, username, password=WRONG, *, client_ip, forged=""):
    xff = f"{forged}, {client_ip}" if forged else client_ip
    return login(client, username, password, REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR=xff)


def test_it_does_not_lock_the_user_out_for_another_clients_failures(client, resident):
    with time_machine.travel(START, tick=False):
        for _ in range(5):
            response = via_proxy(client, "ivanov", client_ip="203.0.113.66")
        assert response.status_code == 429
        # The attacker stays locked out …
        assert via_proxy(client, "ivanov", PASSWORD, client_ip="203.0.113.66").status_code == 429
        # … and the real user, behind the same nginx, signs in.

        assert via_proxy(client, "ivanov", PASSWORD, client_ip="198.51.100.7").status_code == 302


def test_made_up_logins_of_one_client_do_not_close_the_sign_in_for_others(client, resident):

    with time_machine.travel(START, tick=False):
        # allauth's limit on sign-in attempts per address (30 a minute) is reached by one client.
        statuses = {
            via_proxy(client, f"nobody{i}", client_ip="203.0.113.66").status_code for i in range(31)
        }
        assert 429 in statuses
        assert via_proxy(client, "ivanov", PASSWORD, client_ip="198.51.100.7").status_code == 302


def test_a_client_cannot_escape_the_lockout_by_forging_the_header(client, resident):

    with time_machine.travel(START, tick=False):
        for i in range(5):
            via_proxy(client, "ivanov", client_ip="203.0.113.66", forged=f"10.9.9.{i}")
        response = via_proxy(client, "ivanov", PASSWORD, client_ip="203.0.113.66", forged="1.2.3.4")
        assert response.status_code == 429


def test_a_spoofed_header_from_an_untrusted_address_is_ignored(client, resident):

    with time_machine.travel(START, tick=False):
        # Straight to the application, not through nginx, each time "from" another address.
        for i in range(5):
            login(
                client,
                "ivanov",
                "Wrong-password-1",
                REMOTE_ADDR="203.0.113.66",
                HTTP_X_FORWARDED_FOR=f"198.51.100.{i}",
            )
        response = login(
            client, "ivanov", REMOTE_ADDR="203.0.113.66", HTTP_X_FORWARDED_FOR="198.51.100.99"
        )
        assert response.status_code == 429
        # The real user's address was never counted.
        assert via_proxy(client, "ivanov", PASSWORD, client_ip="198.51.100.7").status_code == 302


def test_the_audit_trail_names_the_reported_client(client, resident, caplog):
    with caplog.at_level("INFO", logger="kvartplata.audit"):
        via_proxy(client, "ivanov", client_ip="203.0.113.66", forged="10.0.0.1")
    lines = [r.getMessage() for r in caplog.records]
    assert any("ip=203.0.113.66" in line for line in lines), lines
    assert not any("ip=10.0.0.1" in line or "ip=127.0.0.1" in line for line in lines)
