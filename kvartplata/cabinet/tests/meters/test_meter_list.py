"""The cabinet page of an account's meters: list, submission form, messages, access, robustness."""

from datetime import datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kvartplata.meters.models import Reading
from kvartplata.meters.tests.conftest import MSK

pytestmark = pytest.mark.usefixtures("in_window")


def url(account):
    return reverse("cabinet:meters:meter_list", args=[account.pk])


def post(client, world, data):
    return client.post(url(world.account), data)


def test_it_lists_meters_with_last_readings(resident_client, world, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        response = resident_client.get(url(world.account))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Холодная вода, № CW-1" in body
    assert "Электроэнергия, № EL-1" in body
    assert "день (T1)" in body and "ночь (T2)" in body
    assert "130 м³ — за октябрь 2026" in body
    assert "Идёт приём показаний за ноябрь 2026: с 15 по 25 число" in body


def test_it_keeps_queries_bounded_with_many_meters(
    resident_client, world, django_assert_max_num_queries
):
    from kvartplata.meters.tests.conftest import make_meter

    for i in range(10):
        make_meter(account=world.account, resource="gas", serial_number=f"G-{i}")
    with django_assert_max_num_queries(10):
        assert resident_client.get(url(world.account)).status_code == 200


def test_it_warns_before_the_verification_date(resident_client, world):
    world.hot.next_verification_on = datetime(2026, 12, 10).date()
    world.hot.save()
    body = resident_client.get(url(world.account)).content.decode()
    assert "Срок поверки истекает 10.12.2026" in body


def test_it_tells_when_the_verification_has_expired(resident_client, world):
    world.hot.verified_on = datetime(2020, 1, 1).date()
    world.hot.next_verification_on = datetime(2026, 11, 1).date()
    world.hot.save()
    body = resident_client.get(url(world.account)).content.decode()
    assert "Срок поверки истёк 01.11.2026: показания не принимаются" in body


def test_it_takes_readings_and_redirects(resident_client, world):
    response = post(
        resident_client,
        world,
        {
            f"m{world.cold.pk}_1": "135,5",
            f"m{world.power.pk}_1": "1390",
            f"m{world.power.pk}_2": "680",
        },
    )
    assert response.status_code == 302
    page = resident_client.get(response.url).content.decode()
    assert "Показания за ноябрь 2026 приняты: 2 шт." in page
    assert "Уже переданы за ноябрь 2026: 135,5 " in page
    assert Reading.objects.get(
        meter=world.cold, month__month=11, is_accepted=True
    ).value1 == Decimal("135.5")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "Введите число цифрами, например 123,45"),
        ("-5", "Показания не могут быть отрицательными."),
        ("135,12345", "Не больше 3 знаков после запятой."),
        ("99999999999", "Слишком большое число: у прибора 5 целых разрядов"),
        ("100", "Показания меньше предыдущих (130 м³ за октябрь 2026)"),
        ("500", "Расход 370 м³ больше среднего (10 м³ в месяц) более чем в 3 раза."),
    ],
)
def test_it_shows_the_message_next_to_the_field(resident_client, world, value, message):
    response = post(
        resident_client, world, {f"m{world.cold.pk}_1": value, f"m{world.hot.pk}_1": "70"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body
    assert not Reading.objects.filter(month__month=11).exists()


def test_it_shows_the_confirm_tick_and_takes_a_confirmed_high_consumption(resident_client, world):
    field = f"m{world.cold.pk}_1"
    body = post(resident_client, world, {field: "500"}).content.decode()
    assert f'name="confirm_{world.cold.pk}"' in body
    response = post(resident_client, world, {field: "500", f"confirm_{world.cold.pk}": "on"})
    assert response.status_code == 302
    assert Reading.objects.get(meter=world.cold, month__month=11).confirmed_high


def test_it_refuses_an_empty_form(resident_client, world):
    body = post(resident_client, world, {}).content.decode()
    assert "Введите показания хотя бы одного прибора." in body


def test_it_ignores_a_field_of_an_unknown_or_foreign_meter(resident_client, world):
    body = post(
        resident_client, world, {f"m{world.other_meter.pk}_1": "20", "m999999_1": "5"}
    ).content.decode()
    assert "Введите показания хотя бы одного прибора." in body
    assert not Reading.objects.filter(meter=world.other_meter, month__month=11).exists()


def test_it_is_404_for_an_account_of_another_user(resident_client, world):
    assert resident_client.get(url(world.other_account)).status_code == 404
    response = resident_client.post(url(world.other_account), {f"m{world.other_meter.pk}_1": "20"})
    assert response.status_code == 404
    assert not Reading.objects.filter(meter=world.other_meter, month__month=11).exists()


def test_it_is_404_for_an_unknown_account(resident_client, world):
    assert (
        resident_client.get(reverse("cabinet:meters:meter_list", args=[999999])).status_code == 404
    )


def test_it_sends_anonymous_users_to_sign_in(client, world):
    response = client.get(url(world.account))
    assert response.status_code == 302
    assert "login" in response.url


def test_it_follows_the_window_by_the_clock(client, world):
    field = f"m{world.cold.pk}_1"
    with time_machine.travel(datetime(2026, 11, 27, 10, 0, tzinfo=MSK), tick=False):
        client.force_login(world.resident)
        body = client.get(url(world.account)).content.decode()
        assert "переданные сегодня показания учтены за декабрь 2026" in body
        assert post(client, world, {field: "135"}).status_code == 302
    assert Reading.objects.get(meter=world.cold, month__month=12).value1 == 135
    world.organization.readings_outside_window = "refuse"
    world.organization.save()
    with time_machine.travel(datetime(2026, 11, 14, 23, 59, tzinfo=MSK), tick=False):
        client.force_login(world.resident)
        body = post(client, world, {field: "136"}).content.decode()
        assert "Сегодня приём закрыт — передайте показания с 15.11.2026." in body
    with time_machine.travel(datetime(2026, 11, 15, 0, 1, tzinfo=MSK), tick=False):
        client.force_login(world.resident)
        # November's reading must not exceed December's, taken after the last window.
        body = post(client, world, {field: "136"}).content.decode()
        assert "Показания больше переданных за декабрь 2026 (135 м³)" in body
        assert post(client, world, {field: "134"}).status_code == 302


text_or_number = st.one_of(
    st.text(max_size=50),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(cold=text_or_number, day=text_or_number, night=text_or_number, confirm=st.booleans())
def test_it_never_fails_and_accepted_readings_never_decrease(
    resident_client, world, cold, day, night, confirm
):
    data = {
        f"m{world.cold.pk}_1": cold,
        f"m{world.power.pk}_1": day,
        f"m{world.power.pk}_2": night,
    }
    if confirm:
        data[f"confirm_{world.cold.pk}"] = "on"
        data[f"confirm_{world.power.pk}"] = "on"
    # The test client refuses NUL characters in form data, as browsers never send them raw.
    data = {k: v.replace("\x00", "") for k, v in data.items()}
    response = post(resident_client, world, data)
    assert response.status_code in (200, 302)
    for meter in (world.cold, world.power):
        readings = list(Reading.objects.filter(meter=meter, is_accepted=True).order_by("month"))
        for earlier, later in zip(readings, readings[1:], strict=False):
            for a, b in zip(earlier.values(), later.values(), strict=False):
                rollover = a > b and a > Decimal(10) ** meter.digits * Decimal("0.9")
                assert b >= a or rollover


def test_it_lists_the_errors_on_top_and_keeps_them_at_the_fields(resident_client, world):
    field = f"m{world.cold.pk}_1"
    body = post(resident_client, world, {field: "abc", f"m{world.hot.pk}_1": "70"}).content.decode()
    summary = body.split('id="meters-errors"', 1)[1].split("</div>", 1)[0]
    assert f'href="#id_{field}"' in summary
    assert "Введите число цифрами" in summary
    assert body.count("Введите число цифрами") == 2


def test_it_shows_the_account_tabs_like_other_cabinet_pages(resident_client, world):
    body = resident_client.get(url(world.account)).content.decode()
    assert 'class="cab-tabs"' in body
    assert reverse("cabinet:charges", args=[world.account.pk]) in body
    assert 'aria-current="page"' in body
