"""The history page of a meter: readings with monthly consumption; foreign meters are 404."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.usefixtures("in_window")


def url(account, meter):
    return reverse("cabinet:meters:meter_history", args=[account.pk, meter.pk])


def test_it_shows_readings_and_consumption(resident_client, world, django_assert_max_num_queries):
    # One more than before: the account switcher on top lists the linked accounts.
    with django_assert_max_num_queries(9):
        response = resident_client.get(url(world.account, world.power))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Электроэнергия, № EL-1" in body
    assert '<td class="num">1\u00a0300</td>' in body  # October, T1 (grouped thousands)
    assert '<td class="num">100</td>' in body  # consumption of a month, T1
    assert "начальные показания" in body


def test_it_is_404_for_a_meter_of_another_account(resident_client, world):
    assert resident_client.get(url(world.account, world.other_meter)).status_code == 404
    assert resident_client.get(url(world.other_account, world.other_meter)).status_code == 404


def test_it_is_404_for_an_unknown_meter(resident_client, world):
    response = resident_client.get(
        reverse("cabinet:meters:meter_history", args=[world.account.pk, 999999])
    )
    assert response.status_code == 404
