"""Back office titles and counters read right in Russian whatever the model's grammatical gender."""

from django.urls import reverse

from kvartplata.billing.models import Service
from kvartplata.meters.models import Reading
from kvartplata.meters.validation import fmt


def test_it_titles_a_list_by_its_plural_name(client, world):
    client.force_login(world.a.staff)
    body = client.get(reverse("admin:billing_service_changelist")).content.decode()
    assert "<h1>Услуги</h1>" in body
    assert "Выберите услуга" not in body
    assert "Записей:" in body
    assert "Добавить запись" in body and "Добавить услуга" not in body


def test_it_titles_the_add_and_change_forms_with_a_colon(client, world):
    client.force_login(world.a.staff)
    add = client.get(reverse("admin:billing_service_add")).content.decode()
    assert "Новая запись: услуга" in add
    service = world.objects[Service]
    change = client.get(reverse("admin:billing_service_change", args=[service.pk])).content.decode()
    assert "Изменение: услуга" in change or "Просмотр: услуга" in change


def test_it_shows_readings_without_trailing_zeros(client, world):
    client.force_login(world.a.staff)
    reading = world.objects[Reading]
    body = client.get(reverse("admin:meters_reading_changelist")).content.decode()
    shown = fmt(reading.value1)
    assert f'<td class="field-value1_display">{shown}</td>' in body
    assert f"{reading.value1:.4f}".replace(".", ",") not in body
