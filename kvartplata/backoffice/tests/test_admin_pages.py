"""Every back office page opens for the organization's staff and is refused to a resident."""

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
IDS = [model._meta.label for model, _ in REGISTERED]


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def object_of(world, model):
    """The world's row of a model; third-party admins (allauth, axes) use any row there is."""
    if model in world.objects:
        return world.objects[model]
    if model.__module__.startswith("kvartplata."):
        pytest.fail(f"Add a {model._meta.label} row to the world in backoffice/tests/conftest.py")
    return model._default_manager.first()


def request_for(user):
    request = RequestFactory().get("/office/")
    request.user = user
    return request


@pytest.mark.parametrize(("model", "model_admin"), REGISTERED, ids=IDS)
def test_it_opens_every_page_for_staff(client, world, model, model_admin):
    staff = world.a.staff
    client.force_login(staff)
    request = request_for(staff)
    can_view = model_admin.has_view_or_change_permission(request)
    expected = 200 if can_view else 403

    assert client.get(admin_url(model, "changelist")).status_code == expected

    add = client.get(admin_url(model, "add"))
    assert add.status_code == (200 if model_admin.has_add_permission(request) else 403)

    obj = object_of(world, model)
    if obj is not None:
        change = client.get(admin_url(model, "change", obj.pk))
        assert change.status_code == expected
        if can_view:
            assert change.context["original"] == obj


@pytest.mark.parametrize(("model", "model_admin"), REGISTERED, ids=IDS)
def test_it_opens_every_page_for_a_superuser(client, world, model, model_admin):
    client.force_login(world.superuser)
    assert client.get(admin_url(model, "changelist")).status_code == 200
    request = request_for(world.superuser)
    add = client.get(admin_url(model, "add"))
    assert add.status_code == (200 if model_admin.has_add_permission(request) else 403)
    obj = object_of(world, model)
    if obj is not None:
        assert client.get(admin_url(model, "change", obj.pk)).status_code == 200


@pytest.mark.parametrize(("model", "model_admin"), REGISTERED, ids=IDS)
def test_it_refuses_a_resident(client, world, model, model_admin):
    client.force_login(world.resident)
    login = reverse("admin:login")
    urls = [admin_url(model, "changelist"), admin_url(model, "add"), admin_url(model, "change", 1)]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(login)


def test_it_refuses_an_anonymous_visitor(client, world):
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_it_shows_the_site_in_russian(client, world):
    client.force_login(world.a.staff)
    response = client.get(reverse("admin:index"))
    body = response.content.decode()
    assert "Квартплата — бэк-офис" in body
    assert "Лицевые счета" in body


def test_it_registers_the_registry_billing_and_the_rest():
    expected = {
        "registry.organization",
        "registry.provider",
        "registry.building",
        "registry.premises",
        "registry.personalaccount",
        "billing.service",
        "billing.norm",
        "registry.period",
        "billing.billingrun",
        "billing.charge",
        "billing.recalculation",
        "billing.ledgerentry",
        "billing.accountbalance",
        "billing.keyrate",
        "billing.moratorium",
        "meters.meter",
        "meters.reading",
        "payments.bank",
        "payments.paymentfile",
        "payments.payment",
        "receipts.receipt",
        "receipts.receiptdelivery",
        "users.user",
        "users.accountlink",
        "admin.logentry",
    }
    assert expected <= {model._meta.label_lower for model in admin.site._registry}


def test_it_links_the_office_tools_from_every_admin_page(client, world):
    client.force_login(world.a.staff)
    page = client.get("/office/").content.decode()
    for url in (
        "/office/tools/payments/",
        "/office/tools/payments/unmatched/",
        "/office/tools/readings/",
        "/office/tools/receipts/",
    ):
        assert f'href="{url}"' in page
        assert client.get(url).status_code == 200
