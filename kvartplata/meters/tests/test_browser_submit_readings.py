"""In a real browser: a resident submits readings, is refused once with the message by the field."""

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from kvartplata.meters.models import Reading
from kvartplata.meters.tests.conftest import IN_WINDOW

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_submits_readings_after_one_refusal(browser_page, live_server, world):
    page = browser_page
    with time_machine.travel(IN_WINDOW, tick=True):
        client = Client()
        client.force_login(world.resident)
        page.context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "url": live_server.url,
                }
            ]
        )
        page.goto(f"{live_server.url}/accounts/{world.account.pk}/meters/")
        field = page.locator(f"#id_m{world.cold.pk}_1")
        field.fill("100")
        page.get_by_role("button", name="Передать показания").click()
        error = page.locator(f"#id_m{world.cold.pk}_1_errors")
        assert "Показания меньше предыдущих (130 м³ за октябрь 2026)" in error.inner_text()
        # The message sits in the same field block as the input it is about.
        block = page.locator(".field", has=page.locator(f"#id_m{world.cold.pk}_1"))
        assert "Показания меньше предыдущих" in block.inner_text()
        assert not Reading.objects.filter(meter=world.cold, month__month=11).exists()

        page.locator(f"#id_m{world.cold.pk}_1").fill("135,5")
        page.locator(f"#id_m{world.power.pk}_1").fill("1390")
        page.locator(f"#id_m{world.power.pk}_2").fill("680")
        page.get_by_role("button", name="Передать показания").click()
        assert "Показания за ноябрь 2026 приняты: 2 шт." in page.content()
        assert "Уже переданы за ноябрь 2026: 135,5" in page.content()
    reading = Reading.objects.get(meter=world.cold, month__month=11, is_accepted=True)
    assert str(reading.value1.normalize()) == "135.5"
