"""Garbage in the back office's addresses gets a refusal or an empty list, never a 500."""

import pytest

from kvartplata.billing.models import Charge
from kvartplata.meters.models import Reading
from kvartplata.registry.models import PersonalAccount

from .test_admin_pages import admin_url


@pytest.mark.parametrize(
    ("model", "query"),
    [
        (Reading, "?month=not-a-date"),
        (Charge, "?period__id__exact=abc"),
        (Charge, "?service__id__exact=99999999"),
        (PersonalAccount, "?q=" + "Ж" * 500),
        (PersonalAccount, "?state=nonsense"),
        (PersonalAccount, "?o=99"),
    ],
)
def test_it_survives_garbage_in_list_parameters(client, world, model, query):
    client.force_login(world.a.staff)
    response = client.get(admin_url(model, "changelist") + query)
    assert response.status_code in (200, 302)


@pytest.mark.parametrize("object_id", ["abc", "99999999", "-1"])
def test_it_answers_404_for_a_missing_row(client, world, object_id):
    client.force_login(world.a.staff)
    assert client.get(admin_url(PersonalAccount, "change", object_id)).status_code == 404
