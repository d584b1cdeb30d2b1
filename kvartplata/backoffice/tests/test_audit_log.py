"""Every staff change in the back office is in LogEntry and on the "kvartplata.audit" logger."""

import logging

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry

from kvartplata.billing.models import Norm, Tariff
from kvartplata.registry.models import Provider

from .test_admin_pages import admin_url


def audit_lines(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "kvartplata.audit"]


def provider_form(provider, **changes):
    data = {
        "organization": provider.organization_id,
        "name": provider.name,
        "short_name": provider.short_name,
        "address": provider.address,
        "phones": provider.phones,
        "inn": provider.inn,
        "kpp": provider.kpp,
        "bank_name": provider.bank_name,
        "bic": provider.bic,
        "correspondent_account": provider.correspondent_account,
        "settlement_account": provider.settlement_account,
    }
    data.update(changes)
    return data


def test_it_logs_a_change(client, world, caplog):
    caplog.set_level(logging.INFO, logger="kvartplata.audit")
    provider = world.a[Provider]
    client.force_login(world.a.staff)

    response = client.post(
        admin_url(Provider, "change", provider.pk), provider_form(provider, phones="+7 900 000")
    )

    assert response.status_code == 302
    entry = LogEntry.objects.filter(object_id=str(provider.pk), action_flag=CHANGE).latest("pk")
    assert entry.user == world.a.staff
    lines = [line for line in audit_lines(caplog) if "event=staff_change" in line]
    assert len(lines) == 1
    assert "model=registry.provider" in lines[0]
    assert f"object_id={provider.pk}" in lines[0]
    assert "login='staff-100'" in lines[0]
    assert "changes='Изменено Телефоны.'" in lines[0]


def test_it_logs_an_addition(client, world, caplog):
    caplog.set_level(logging.INFO, logger="kvartplata.audit")
    client.force_login(world.a.staff)
    data = provider_form(world.a[Provider], name="Энергосбыт", short_name="ЭС")

    response = client.post(admin_url(Provider, "add"), data)

    assert response.status_code == 302
    created = Provider.objects.get(name="Энергосбыт")
    assert created.organization == world.a.organization
    assert LogEntry.objects.filter(object_id=str(created.pk), action_flag=ADDITION).exists()
    assert any("event=staff_add" in line for line in audit_lines(caplog))


def test_it_logs_a_deletion(client, world, caplog):
    caplog.set_level(logging.INFO, logger="kvartplata.audit")
    norm = world.a[Norm]
    client.force_login(world.a.staff)

    response = client.post(admin_url(Norm, "delete", norm.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not Norm.objects.filter(pk=norm.pk).exists()
    assert LogEntry.objects.filter(object_id=str(norm.pk), action_flag=DELETION).exists()
    assert any("event=staff_delete" in line for line in audit_lines(caplog))


def test_it_logs_a_bulk_deletion_per_row(client, world, caplog):
    caplog.set_level(logging.INFO, logger="kvartplata.audit")
    client.force_login(world.a.staff)
    norm = world.a[Norm]

    response = client.post(
        admin_url(Norm, "changelist"),
        {"action": "delete_selected", "_selected_action": [norm.pk], "post": "yes"},
    )

    assert response.status_code == 302
    assert not Norm.objects.filter(pk=norm.pk).exists()
    assert sum("event=staff_delete" in line for line in audit_lines(caplog)) == 1


def test_it_logs_an_inline_tariff_change(client, world, caplog):
    from kvartplata.billing.models import Service

    caplog.set_level(logging.INFO, logger="kvartplata.audit")
    service, tariff = world.a[Service], world.a[Tariff]
    client.force_login(world.a.staff)
    data = {
        "organization": service.organization_id,
        "provider": service.provider_id,
        "code": service.code,
        "name": service.name,
        "sort_order": service.sort_order,
        "is_active": "on",
        "method": service.method,
        "unit": service.unit,
        "resource": service.resource,
        "zones": service.zones,
        "meter_installable": "on",
        "tariffs-TOTAL_FORMS": "2",
        "tariffs-INITIAL_FORMS": "1",
        "tariffs-0-id": tariff.pk,
        "tariffs-0-service": service.pk,
        "tariffs-0-zone": tariff.zone,
        "tariffs-0-valid_from": "01.07.2024",
        "tariffs-0-valid_to": "30.06.2025",
        "tariffs-0-price": "45.50",
        "tariffs-1-service": service.pk,
        "tariffs-1-zone": "0",
        "tariffs-1-valid_from": "01.07.2025",
        "tariffs-1-price": "48.10",
    }

    response = client.post(admin_url(Service, "change", service.pk), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert service.tariffs.count() == 2
    lines = [line for line in audit_lines(caplog) if "event=staff_change" in line]
    assert len(lines) == 1
    assert "Добавлен тариф" in lines[0]
    assert "48.10" in lines[0]
