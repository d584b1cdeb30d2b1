"""The roles on the office's tools of readings and receipts: what each role may not do there.

«Операторы» enter, import and replace (readings, meters) and retry a delivery; «Бухгалтеры» see
the readings and build the month's print archive and retry its mailing; staff without a role see
neither (403).
"""

import datetime

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.urls import reverse

from kvartplata.backoffice.services import ROLE_ACCOUNTANT, ROLE_OPERATOR, staff_group_setup
from kvartplata.demo.world import build
from kvartplata.meters.models import Meter
from kvartplata.registry.models import Period

MSK = datetime.timezone(datetime.timedelta(hours=3))


@pytest.fixture
def world(db):
    with time_machine.travel(datetime.datetime(2026, 11, 25, 12, 0, tzinfo=MSK), tick=False):
        yield build(accounts=20, months=4, today=datetime.date(2026, 11, 25))


def _login(client, world, username, role=None):
    get_user_model().objects.create_user(
        username=username, password="x-pass-12345", is_staff=True, organization=world.organization
    )
    if role:
        staff_group_setup(usernames=[username], role=role)
    client.force_login(get_user_model().objects.get(username=username))
    return client


@pytest.fixture
def meter(world):
    return Meter.objects.filter(account__organization=world.organization).order_by("id").first()


@pytest.fixture
def closed(world):
    return Period.objects.filter(organization=world.organization, state="closed").first()


def test_an_accountant_sees_the_readings_but_may_not_enter_or_replace(client, world, meter):
    _login(client, world, "buh", ROLE_ACCOUNTANT)
    page = client.get(reverse("meters_site:office"))
    assert page.status_code == 200
    assert reverse("meters_site:office_import") not in page.content.decode()
    reading = client.get(reverse("meters_site:office_reading", args=[meter.id]))
    assert reading.status_code == 200
    assert "Ввод показаний оператором" not in reading.content.decode()
    post = {"month": "2026-11", "value1": "1"}
    assert (
        client.post(reverse("meters_site:office_reading", args=[meter.id]), post).status_code == 403
    )
    assert client.post(reverse("meters_site:office_import"), {}).status_code == 403
    assert client.get(reverse("meters_site:office_replace", args=[meter.id])).status_code == 403


def test_an_operator_may_not_build_the_print_archive_or_retry_a_month(client, world, closed):
    _login(client, world, "oper", ROLE_OPERATOR)
    page = client.get(reverse("receipts_office:period", args=[closed.id]))
    assert page.status_code == 200
    assert reverse("receipts_office:print_start", args=[closed.id]) not in page.content.decode()
    assert client.post(reverse("receipts_office:print_start", args=[closed.id])).status_code == 403
    assert client.post(reverse("receipts_office:retry_failed", args=[closed.id])).status_code == 403
    # The readings are the operator's.
    assert client.get(reverse("meters_site:office")).status_code == 200


def test_an_accountant_builds_the_print_archive(client, world, closed):
    _login(client, world, "buh", ROLE_ACCOUNTANT)
    page = client.get(reverse("receipts_office:period", args=[closed.id]))
    assert reverse("receipts_office:print_start", args=[closed.id]) in page.content.decode()
    response = client.post(reverse("receipts_office:retry_failed", args=[closed.id]))
    assert response.status_code == 302


def test_staff_without_a_role_see_no_tool(client, world, meter, closed):
    _login(client, world, "stazher")
    for url in (
        reverse("meters_site:office"),
        reverse("meters_site:office_reading", args=[meter.id]),
        reverse("meters_site:office_export") + "?month=2026-11",
        reverse("receipts_office:office"),
        reverse("receipts_office:period", args=[closed.id]),
        reverse("receipts_office:print_download", args=[closed.id]),
    ):
        assert client.get(url).status_code == 403, url
