"""Two-factor sign-in of the back office: TOTP code at sign-in, set-up page, enforcement."""

import datetime as dt
import logging
import time

import pytest
import time_machine
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from kvartplata.backoffice.services import totp_device_start

PASSWORD = "pass-pass-123"
START = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)


def token_of(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"


def wrong_token(device: TOTPDevice) -> str:
    return f"{(int(token_of(device)) + 1) % 1_000_000:06d}"


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def staff(world):
    return world.a.staff


@pytest.fixture
def device(staff):
    return TOTPDevice.objects.create(user=staff, name="Телефон", confirmed=True)


def sign_in(client, user, token=None):
    data = {"username": user.username, "password": PASSWORD, "next": "/office/"}
    if token is not None:
        data["otp_token"] = token
    return client.post("/office/login/", data)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_it_refuses_staff_with_a_device_without_a_code(client, staff, device, clock):
    response = sign_in(client, staff)

    assert response.status_code == 200
    assert "Введите шестизначный код" in response.content.decode()
    assert not signed_in(client)


def test_it_refuses_a_wrong_code_and_logs_it(client, staff, device, clock, caplog):
    caplog.set_level(logging.INFO, logger="kvartplata.audit")

    response = sign_in(client, staff, wrong_token(device))

    assert response.status_code == 200
    assert "Код не подошёл" in response.content.decode()
    assert not signed_in(client)
    assert client.get("/office/").status_code == 302
    assert any(
        "event=otp_failed" in r.getMessage() and "login='staff-100'" in r.getMessage()
        for r in caplog.records
    )


def test_it_signs_in_with_the_right_code(client, staff, device, clock):
    response = sign_in(client, staff, token_of(device))

    assert response.status_code == 302
    assert response["Location"] == "/office/"
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    page = client.get("/office/")
    assert page.status_code == 200
    assert "Двухфакторный вход не включён" not in page.content.decode()


def test_it_does_not_accept_the_same_code_twice(client, staff, device, clock):
    token = token_of(device)
    assert sign_in(client, staff, token).status_code == 302
    client.post("/office/logout/")
    clock.shift(5)  # past the throttle delay, same 30-second step

    response = sign_in(client, staff, token)

    assert response.status_code == 200
    assert not signed_in(client)


def test_it_throttles_guessing(client, staff, device, clock):
    sign_in(client, staff, wrong_token(device))

    response = sign_in(client, staff, token_of(device))  # right code, but too soon

    assert not signed_in(client)
    assert "Слишком много неверных кодов" in response.content.decode()


def test_a_password_only_session_does_not_open_the_office(client, staff, device):
    # Signed in elsewhere (the residents' sign-in) with the password only.
    client.force_login(staff)

    assert client.get("/office/").status_code == 302
    tool = client.get("/office/tools/payments/")
    assert tool.status_code == 302
    assert tool["Location"].startswith("/office/login/")
    assert client.get("/office/two-factor/").status_code == 302


def test_it_lets_staff_without_a_device_in_and_invites_them(client, staff, settings):
    settings.OFFICE_REQUIRE_2FA = False

    response = sign_in(client, staff)

    assert response.status_code == 302
    page = client.get("/office/")
    assert page.status_code == 200
    assert "Двухфакторный вход не включён" in page.content.decode()
    assert client.get("/office/tools/payments/").status_code == 200


def test_it_requires_set_up_when_the_setting_says_so(client, staff, settings):
    settings.OFFICE_REQUIRE_2FA = True

    response = sign_in(client, staff)

    assert response.status_code == 302
    assert response["Location"] == "/office/two-factor/"
    assert client.get("/office/").status_code == 302
    tool = client.get("/office/tools/payments/")
    assert tool["Location"] == "/office/two-factor/"
    assert client.get("/office/two-factor/").status_code == 200


def test_it_enrols_a_device(client, staff, clock, caplog):
    caplog.set_level(logging.INFO, logger="kvartplata.audit")
    client.force_login(staff)

    page = client.get("/office/two-factor/")
    assert page.status_code == 200
    assert 'value="start"' in page.content.decode()

    assert client.post("/office/two-factor/", {"action": "start"}).status_code == 302
    device = TOTPDevice.objects.get(user=staff)
    assert not device.confirmed
    page = client.get("/office/two-factor/")
    html = page.content.decode()
    assert "<svg" in html and 'class="segno"' in html
    assert "otpauth://totp/" in html and "staff-100" in html
    assert " style=" not in html and "<script>" not in html

    bad = client.post("/office/two-factor/", {"action": "confirm", "token": wrong_token(device)})
    assert bad.status_code == 400
    assert "Код не подошёл" in bad.content.decode()
    device.refresh_from_db()
    assert not device.confirmed

    clock.shift(5)
    good = client.post("/office/two-factor/", {"action": "confirm", "token": token_of(device)})
    assert good.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.get("/office/").status_code == 200
    events = " ".join(r.getMessage() for r in caplog.records if r.name == "kvartplata.audit")
    assert "event=otp_device_started" in events and "event=otp_device_confirmed" in events

    # From now on the password alone does not sign in.
    client.post("/office/logout/")
    assert sign_in(client, staff).status_code == 200
    assert not signed_in(client)


def test_a_new_device_replaces_the_old_one(client, staff, device, clock):
    assert sign_in(client, staff, token_of(device)).status_code == 302
    client.post("/office/two-factor/", {"action": "start"})
    new = TOTPDevice.objects.get(user=staff, confirmed=False)
    clock.shift(31)

    client.post("/office/two-factor/", {"action": "confirm", "token": token_of(new)})

    assert list(TOTPDevice.objects.filter(user=staff).values_list("pk", "confirmed")) == [
        (new.pk, True)
    ]


def test_it_refuses_the_set_up_page_to_residents(client, world):
    client.force_login(world.resident)

    response = client.get("/office/two-factor/")

    assert response.status_code == 302
    assert response["Location"].startswith("/office/login/")
    assert not TOTPDevice.objects.exists()


def test_start_drops_earlier_unconfirmed_devices(staff):
    first = totp_device_start(user=staff)
    second = totp_device_start(user=staff)

    assert list(TOTPDevice.objects.filter(user=staff)) == [second]
    assert first.key != second.key
