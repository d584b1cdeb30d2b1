"""Staff tools: who has not submitted, CSV import and export, operator entry, replacement."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kvartplata.meters.models import Meter, Reading, ReadingsFile
from kvartplata.registry.models import Organization

pytestmark = pytest.mark.usefixtures("in_window")
NOV = date(2026, 11, 1)


def test_it_is_for_staff_only(resident_client, world):
    response = resident_client.get(reverse("meters_site:office"))
    assert response.status_code == 302
    assert (
        resident_client.get(reverse("meters_site:office_reading", args=[world.cold.pk])).status_code
        == 302
    )


def test_it_lists_accounts_that_have_not_submitted(
    staff_client, world, django_assert_max_num_queries
):
    Reading.objects.create(
        meter=world.other_meter,
        month=NOV,
        value1=20,
        source="cabinet",
        submitted_at="2026-11-20T10:00Z",
    )
    with django_assert_max_num_queries(12):
        body = staff_client.get(reverse("meters_site:office") + "?month=2026-11").content.decode()
    assert "Лицевых счетов: 1." in body
    assert "1000015" in body and "<td>1000016</td>" not in body


def test_it_imports_a_file_on_the_queue_and_shows_the_report(
    staff_client, world, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile(
        "r.csv",
        b"account;serial_number;month;value1\n1000015;CW-1;2026-11;135\n1000015;HW-1;2026-11;1\n",
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(reverse("meters_site:office_import"), {"file": upload})
    readings_file = ReadingsFile.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "meters_site:office_import_file", args=[readings_file.pk]
    )
    body = staff_client.get(response["Location"]).content.decode()
    assert "<dt>Принято</dt><dd>1</dd>" in body
    assert "<dt>Отклонено</dt><dd>1</dd>" in body
    assert "Показания меньше предыдущих" in body


def test_it_is_404_for_a_readings_file_of_another_organization(staff_client, world):
    from .conftest import BANK

    other = Organization.objects.create(name="Другая", short_name="Д", address="-", **BANK)
    readings_file = ReadingsFile.objects.create(organization=other, name="r.csv")
    url = reverse("meters_site:office_import_file", args=[readings_file.pk])
    assert staff_client.get(url).status_code == 404


def test_it_exports_a_month(staff_client, world):
    response = staff_client.get(reverse("meters_site:office_export") + "?month=2026-10")
    assert response["Content-Type"].startswith("text/csv")
    assert "1000015;CW-1;2026-10;130;;;" in response.content.decode("utf-8-sig")
    assert staff_client.get(reverse("meters_site:office_export") + "?month=oct").status_code == 302


def test_it_takes_a_reading_from_an_operator(staff_client, world):
    url = reverse("meters_site:office_reading", args=[world.power.pk])
    response = staff_client.post(url, {"month": "2026-11", "value1": "1390", "value2": "1"})
    assert "Показания меньше предыдущих" in response.content.decode()
    response = staff_client.post(url, {"month": "2026-11", "value1": "1390", "value2": "680"})
    assert response.status_code == 302
    reading = Reading.objects.get(meter=world.power, month=NOV)
    assert reading.source == Reading.Source.STAFF
    assert reading.submitted_by == world.staff


@pytest.mark.parametrize("meter", ["power", "building_meter"])
@pytest.mark.parametrize(
    ("month", "message"),
    [("1969-12", "раньше первого расчётного периода"), ("2099-01", "больше чем на год вперёд")],
)
def test_it_refuses_a_month_out_of_range(staff_client, world, meter, month, message):
    url = reverse("meters_site:office_reading", args=[getattr(world, meter).pk])
    before = Reading.objects.count()
    response = staff_client.post(url, {"month": month, "value1": "14000", "value2": "680"})
    assert response.status_code == 200
    assert f"Месяц показаний 01.{month[5:]}.{month[:4]} — {message}" in response.content.decode()
    assert Reading.objects.count() == before


def test_it_takes_building_meter_readings(staff_client, world):
    url = reverse("meters_site:office_reading", args=[world.building_meter.pk])
    assert staff_client.post(url, {"month": "2026-11", "value1": "14000"}).status_code == 302
    assert (
        Reading.objects.get(meter=world.building_meter, month=NOV).source == Reading.Source.BUILDING
    )


def test_it_replaces_a_meter(staff_client, world):
    url = reverse("meters_site:office_replace", args=[world.cold.pk])
    data = {
        "replaced_on": "2026-11-10",
        "final1": "134",
        "serial_number": "CW-NEW",
        "initial1": "0",
        "verified_on": "2026-10-01",
        "next_verification_on": "2032-10-01",
    }
    bad = staff_client.post(url, data | {"final1": "1"})
    assert "Показания меньше предыдущих" in bad.content.decode()
    response = staff_client.post(url, data)
    assert response.status_code == 302
    new = Meter.objects.get(serial_number="CW-NEW")
    assert new.replaces_id == world.cold.pk
    assert new.initial_value1 == Decimal(0)


def test_it_is_404_for_a_meter_of_another_organization(staff_client, world):
    from kvartplata.registry.models import Organization

    from .conftest import BANK

    world.staff.organization = Organization.objects.create(
        name="Другая", short_name="Д", address="-", **BANK
    )
    world.staff.save()
    assert (
        staff_client.get(reverse("meters_site:office_reading", args=[world.cold.pk])).status_code
        == 404
    )


def test_it_pages_the_accounts_without_readings_and_puts_the_forms_first(staff_client, world):
    from kvartplata.meters.tests.conftest import make_account, make_meter

    for k in range(60):
        account = make_account(world.organization, world.building, f"20{k:05d}", str(100 + k))
        make_meter(account=account, resource="cold_water", serial_number=f"CW-X{k}")
    url = reverse("meters_site:office") + "?month=2026-11"
    body = staff_client.get(url).content.decode()
    assert body.count("<tr><td>") == 50
    assert "страница 1 из 2" in body
    assert body.index("Загрузка показаний из CSV") < body.index("Не передали показания")
    assert "docs/" not in body
    second = staff_client.get(url + "&page=2").content.decode()
    assert second.count("<tr><td>") == 62 - 50
    assert reverse("admin:index") in body  # the staff layout links back to the back office


def test_it_lists_the_last_readings_files_with_their_status(staff_client, world):
    readings_file = ReadingsFile.objects.create(
        organization=world.organization, name="noyabr.csv", status="done", lines_accepted=7
    )
    body = staff_client.get(reverse("meters_site:office")).content.decode()
    url = reverse("meters_site:office_import_file", args=[readings_file.pk])
    assert f'<a href="{url}">noyabr.csv</a>' in body
    assert "загружен (принято 7, отклонено 0)" in body
