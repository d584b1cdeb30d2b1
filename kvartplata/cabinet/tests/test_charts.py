"""Charts of charges and consumption: server-side SVG images without scripts, plus data tables."""

from django.urls import reverse

from kvartplata.lib.money import format_rub


def test_it_serves_the_charges_chart_as_an_inert_svg(demo_client, world):
    url = reverse("cabinet:chart_charges", args=[world.resident_account.id])
    response = demo_client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    assert "default-src 'none'" in response["Content-Security-Policy"]
    body = response.content
    assert body.startswith(b"<?xml") and b"<svg" in body
    assert b"<script" not in body
    assert "Начислено".encode() in body


def test_it_serves_consumption_charts_per_unit(demo_client, world):
    for unit, name in (("m3", "Холодное водоснабжение"), ("kwh", "Электроснабжение")):
        url = reverse("cabinet:chart_consumption", args=[world.resident_account.id, unit])
        response = demo_client.get(url)
        assert response.status_code == 200
        assert name.encode() in response.content
        assert b"<script" not in response.content
    bad = reverse("cabinet:chart_consumption", args=[world.resident_account.id, "liters"])
    assert demo_client.get(bad).status_code == 404


def test_it_shows_the_charts_page_with_images_and_tables(demo_client, world):
    response = demo_client.get(reverse("cabinet:charts", args=[world.resident_account.id]))
    html = response.content.decode()
    assert reverse("cabinet:chart_charges", args=[world.resident_account.id]) in html
    assert "consumption-m3.svg" in html and "consumption-kwh.svg" in html
    first = response.context["movement"].months[0]
    assert format_rub(first.charged) in html


def test_it_formats_axis_numbers_the_russian_way_without_trailing_zeros():
    from decimal import Decimal

    from kvartplata.cabinet.charts import axis_number

    assert axis_number(8.0, 3) == "8"
    assert axis_number(0.5, 3) == "0,5"
    assert axis_number(12000.0, 2) == "12\u00a0000"
    assert axis_number(Decimal("8677.01"), 2) == "8\u00a0677,01"


def test_it_labels_months_with_the_year_and_keeps_them_whole(demo_client, world):
    url = reverse("cabinet:chart_charges", args=[world.resident_account.id])
    body = demo_client.get(url).content.decode()
    assert "…" not in body
    assert "8,000" not in body


def test_it_names_the_range_in_the_genitive(demo_client, world):
    from kvartplata.lib.periods import period_label_genitive

    response = demo_client.get(reverse("cabinet:charts", args=[world.resident_account.id]))
    first = response.context["months"][0]
    assert f"с {period_label_genitive(first)} по " in response.content.decode()
    assert period_label_genitive(first.replace(month=11)).startswith("ноября ")
