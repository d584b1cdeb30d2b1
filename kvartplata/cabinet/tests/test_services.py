"""Services and tariffs (R5): provider, unit, tariff in force and since when, the method."""

import datetime

from django.urls import reverse
from django.utils.html import escape

from kvartplata.billing.models import Service, Tariff
from kvartplata.lib.money import format_volume
from kvartplata.meters.models import Meter


def test_it_lists_services_with_the_tariff_in_force(demo_client, world, frozen):
    response = demo_client.get(reverse("cabinet:services", args=[world.resident_account.id]))
    assert response.status_code == 200
    html = response.content.decode()
    services = Service.objects.filter(organization=world.organization).select_related("provider")
    for service in services:
        assert escape(service.name) in html
        assert escape(str(service.provider)) in html
        zone = 0 if service.zones == 1 else 1
        tariff = (
            Tariff.objects.filter(service=service, zone=zone, valid_from__lte=frozen)
            .order_by("-valid_from")
            .first()
        )
        assert f"{tariff.valid_from:%d.%m.%Y}" in html
        assert format_volume(tariff.price, 2) + "\u00a0₽" in html
    assert "по прибору учёта" in html
    assert "по площади помещения" in html
    assert "по числу проживающих" in html


def test_it_says_norm_when_the_flat_has_no_meter(demo_client, world):
    Meter.objects.filter(account=world.resident_account, resource="hot_water").update(
        archived_on=datetime.date(2026, 1, 31)
    )
    html = demo_client.get(
        reverse("cabinet:services", args=[world.resident_account.id])
    ).content.decode()
    assert "прибор учёта не установлен" in html
