"""Staff of one organization never see or choose another organization's rows."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import reverse

from kvartplata.billing.models import KeyRate, Moratorium
from kvartplata.registry.models import PersonalAccount, Premises

from .test_admin_pages import admin_url

GLOBAL_MODELS = {KeyRate, Moratorium, Group}
TENANT_MODELS = [
    (model, model_admin)
    for model, model_admin in sorted(
        admin.site._registry.items(), key=lambda item: item[0]._meta.label
    )
    if hasattr(model_admin, "scope_queryset") and model not in GLOBAL_MODELS
]


@pytest.mark.parametrize(
    ("model", "model_admin"), TENANT_MODELS, ids=[m._meta.label for m, _ in TENANT_MODELS]
)
def test_it_hides_other_organizations_rows(client, world, model, model_admin):
    client.force_login(world.b.staff)
    obj = world.a[model]

    assert client.get(admin_url(model, "change", obj.pk)).status_code == 404
    assert client.get(admin_url(model, "history", obj.pk)).status_code == 404

    changelist = client.get(admin_url(model, "changelist"))
    assert changelist.status_code == 200
    shown = list(changelist.context["cl"].result_list)
    assert obj not in shown
    assert shown, "the organization's own rows are listed"


def test_it_shows_everything_to_a_superuser(client, world):
    client.force_login(world.superuser)
    response = client.get(admin_url(PersonalAccount, "changelist"))
    numbers = {account.number for account in response.context["cl"].result_list}
    assert numbers == {world.a[PersonalAccount].number, world.b[PersonalAccount].number}


def test_it_shows_nothing_to_staff_without_an_organization(client, world):
    world.a.staff.organization = None
    world.a.staff.save()
    client.force_login(world.a.staff)
    response = client.get(admin_url(PersonalAccount, "changelist"))
    assert list(response.context["cl"].result_list) == []


def test_it_refuses_a_premises_of_another_organization(client, world):
    client.force_login(world.a.staff)
    foreign = world.b[Premises]
    response = client.post(
        admin_url(PersonalAccount, "add"),
        {
            "organization": world.b.organization.pk,  # tampered: the field is disabled
            "number": "1234567",
            "premises": foreign.pk,
            "share": "1",
            "holder_last_name": "Сидоров",
            "holder_first_name": "Сидор",
            "residents": "1",
            "opened_on": "01.01.2025",
            "meters-TOTAL_FORMS": "0",
            "meters-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "premises" in response.context["adminform"].form.errors
    assert not PersonalAccount.objects.filter(number="1234567").exists()


def test_it_creates_an_account_in_the_operators_organization(client, world):
    client.force_login(world.a.staff)
    response = client.post(
        admin_url(PersonalAccount, "add"),
        {
            "organization": world.b.organization.pk,  # ignored: the field is disabled
            "number": "1234567",
            "premises": world.a[Premises].pk,
            "share": "1",
            "holder_last_name": "Сидоров",
            "holder_first_name": "Сидор",
            "residents": "1",
            "opened_on": "01.01.2025",
            "meters-TOTAL_FORMS": "0",
            "meters-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    account = PersonalAccount.objects.get(number="1234567")
    assert account.organization == world.a.organization


def test_it_offers_only_own_rows_in_filters(client, world):
    client.force_login(world.a.staff)
    response = client.get(admin_url(PersonalAccount, "changelist"))
    body = response.content.decode()
    assert world.a[Premises].building.street in body
    assert world.b[Premises].building.street not in body


def test_it_lists_only_own_rows_in_autocomplete(client, world):
    client.force_login(world.b.staff)
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "meters", "model_name": "meter", "field_name": "account", "term": ""},
    )
    assert response.status_code == 200
    ids = {item["id"] for item in response.json()["results"]}
    assert str(world.b[PersonalAccount].pk) in ids
    assert str(world.a[PersonalAccount].pk) not in ids
