"""Every autocomplete field answers, scoped to the operator's organization, in few queries."""

import pytest
from django.contrib import admin
from django.urls import reverse

from .conftest import grow_accounts

FIELDS = sorted(
    (model._meta.app_label, model._meta.model_name, name)
    for model, model_admin in admin.site._registry.items()
    for name in model_admin.autocomplete_fields
)


@pytest.mark.parametrize(("app_label", "model_name", "field_name"), FIELDS)
def test_it_answers_for_every_autocomplete_field(
    client, world, app_label, model_name, field_name, django_assert_max_num_queries
):
    grow_accounts(world.a, 30)
    client.force_login(world.a.staff)
    params = {"app_label": app_label, "model_name": model_name, "field_name": field_name}
    with django_assert_max_num_queries(10):
        response = client.get(reverse("admin:autocomplete"), {**params, "term": ""})
    assert response.status_code == 200
    results = response.json()["results"]
    assert results
    assert all(item["text"] for item in results)


def test_it_searches_accounts_by_number(client, world):
    from kvartplata.registry.models import PersonalAccount

    client.force_login(world.a.staff)
    account = world.a[PersonalAccount]
    response = client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "meters",
            "model_name": "meter",
            "field_name": "account",
            "term": account.number,
        },
    )
    assert [item["id"] for item in response.json()["results"]] == [str(account.pk)]


def test_it_refuses_autocomplete_to_a_resident(client, world):
    client.force_login(world.resident)
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "meters", "model_name": "meter", "field_name": "account", "term": ""},
    )
    assert response.status_code in (302, 403)
