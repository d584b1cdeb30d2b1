"""Pure checks of readings: every message, rollover, average, window, closed periods."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kvartplata.meters.validation import (
    Point,
    average_consumption,
    check_reading,
    consumption,
    is_rollover,
    meter_refusal,
    open_month,
    parse_value,
    reading_month,
    verification_state,
)

D = Decimal


@dataclass
class FakeMeter:
    resource: str = "cold_water"
    zones: int = 1
    digits: int = 5
    precision: int = 3
    serial_number: str = "CW-1"
    archived_on: date | None = None
    next_verification_on: date = date(2030, 1, 1)


TODAY = date(2026, 11, 20)
NOV = date(2026, 11, 1)
HISTORY = [Point(date(2026, m, 1), (D(100 + 10 * (m - 7)),)) for m in (7, 8, 9, 10)]
PREV = HISTORY[-1]


def check(raw, meter=None, **kw):
    params = {"month": NOV, "today": TODAY, "previous": PREV, "history": HISTORY} | kw
    return check_reading(meter or FakeMeter(), raw, **params)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("123", D("123")),
        (" 123,45 ", D("123.45")),
        ("123.456", D("123.456")),
        ("1 234,5", D("1234.5")),
        ("+7", D("7")),
        ("00012", D("12")),
        ("0", D("0")),
    ],
)
def test_it_parses_numbers_people_type(raw, expected):
    assert parse_value(raw, precision=3, digits=5) == (expected, "")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "Введите показания."),
        ("   ", "Введите показания."),
        ("abc", "Введите число цифрами"),
        ("12a", "Введите число цифрами"),
        ("1,2,3", "Введите число цифрами"),
        ("1e5", "Введите число цифрами"),
        ("NaN", "Введите число цифрами"),
        ("Infinity", "Введите число цифрами"),
        ("١٢٣", "Введите число цифрами"),
        ("-5", "не могут быть отрицательными"),
        ("−5", "не могут быть отрицательными"),
        ("-x", "Введите число"),
        ("1,2345", "Не больше 3 знаков после запятой."),
        ("123456", "Слишком большое число: у прибора 5 целых разрядов"),
        ("9" * 41, "Слишком длинное число"),
    ],
)
def test_it_refuses_bad_input_with_a_message(raw, message):
    value, text = parse_value(raw, precision=3, digits=5)
    assert value is None
    assert message in text


def test_it_asks_for_a_whole_number_when_the_meter_has_no_decimals():
    assert (
        parse_value("12,5", precision=0, digits=5)[1] == "Введите целое число, без дробной части."
    )


@given(st.text(max_size=60))
def test_it_never_raises_on_any_text(raw):
    value, message = parse_value(raw, precision=3, digits=5)
    assert (value is None) == bool(message)
    if value is not None:
        assert D(0) <= value < D(10) ** 5
        assert value.as_tuple().exponent >= -3


def test_it_refuses_an_archived_meter_with_the_date():
    meter = FakeMeter(archived_on=date(2026, 9, 1))
    assert "снят с учёта 01.09.2026" in meter_refusal(meter, today=TODAY)
    assert "снят с учёта" in check(["140"], meter).errors[0]


def test_it_refuses_water_past_its_verification_date():
    meter = FakeMeter(next_verification_on=date(2026, 11, 1))
    assert "Срок поверки прибора № CW-1 истёк 01.11.2026" in check(["140"], meter).errors[0]


def test_it_takes_electricity_past_its_verification_date():
    meter = FakeMeter(resource="electricity", next_verification_on=date(2026, 11, 1))
    assert meter_refusal(meter, today=TODAY) == ""
    assert check(["140"], meter).ok


def test_it_warns_thirty_days_before_verification():
    assert (
        verification_state(FakeMeter(next_verification_on=date(2026, 12, 20)), today=TODAY)
        == "soon"
    )
    assert (
        verification_state(FakeMeter(next_verification_on=date(2026, 12, 21)), today=TODAY) == "ok"
    )
    assert (
        verification_state(FakeMeter(next_verification_on=date(2026, 11, 19)), today=TODAY)
        == "expired"
    )


def test_it_accepts_a_reading_equal_to_the_previous_one():
    result = check(["130"])
    assert result.ok
    assert result.values == [D(130)]


def test_it_refuses_a_reading_below_the_previous_one():
    result = check(["129,999"])
    assert result.errors[1].startswith("Показания меньше предыдущих (130 м³ за октябрь 2026)")


def test_it_refuses_a_reading_above_a_later_months_reading():
    following = Point(date(2026, 12, 1), (D(135),))
    result = check(["136"], following=following)
    assert "больше переданных за декабрь 2026 (135 м³)" in result.errors[1]


def test_it_allows_a_rollover_past_the_counters_capacity():
    previous = Point(date(2026, 10, 1), (D("99995"),))
    result = check(["3"], previous=previous, history=[])
    assert result.ok
    assert consumption(D(3), D("99995"), digits=5) == D(8)
    assert is_rollover(D(3), D("99995"), digits=5)
    assert not is_rollover(D(3), D("50000"), digits=5)


def test_it_asks_to_confirm_a_consumption_far_above_average():
    result = check(["161"])  # 31 m³ against an average of 10 with the factor 3
    assert not result.ok
    assert result.needs_confirmation.startswith(
        "Расход 31 м³ больше среднего (10 м³ в месяц) более чем в 3 раза."
    )
    assert "Подтверждаю показания" in result.needs_confirmation
    assert check(["160"]).ok  # exactly 3× is still plausible
    assert check(["161"], confirmed=True).ok


def test_it_scales_the_threshold_by_months_without_readings():
    history = HISTORY[:2]  # last reading in August: three months to November
    assert check(["200"], previous=history[-1], history=history).ok
    assert not check(["201"], previous=history[-1], history=history).ok


def test_it_uses_the_configured_factor():
    assert not check(["141"], alert_factor=D("1")).ok


def test_it_skips_the_plausibility_check_without_history():
    assert check(["5000"], history=[PREV]).ok


def test_it_checks_every_zone_of_an_electricity_meter():
    meter = FakeMeter(resource="electricity", zones=2, digits=6, precision=1)
    previous = Point(date(2026, 10, 1), (D(1300), D(650)))
    result = check(["1400", "600"], meter, previous=previous, history=[])
    assert list(result.errors) == [2]
    missing = check(["1400", ""], meter, previous=previous, history=[])
    assert missing.errors == {2: "Введите показания."}


def test_it_averages_over_the_months_spanned():
    points = [Point(date(2026, 1, 1), (D(0),)), Point(date(2026, 4, 1), (D(30),))]
    assert average_consumption(points, zone=0, digits=5) == D(10)
    assert average_consumption(points[:1], zone=0, digits=5) is None


@pytest.mark.parametrize(
    ("day", "month", "in_window"),
    [
        (15, NOV, True),
        (20, NOV, True),
        (25, NOV, True),
        (5, NOV, False),
        (26, date(2026, 12, 1), False),
    ],
)
def test_it_places_a_submission_in_a_month_by_the_window(day, month, in_window):
    decision = reading_month(today=date(2026, 11, day), window=(15, 25), outside="next_period")
    assert decision.month == month
    assert decision.in_window is in_window


def test_it_explains_the_next_period():
    decision = reading_month(today=date(2026, 11, 26), window=(15, 25), outside="next_period")
    assert decision.message == (
        "Показания принимаются с 15 по 25 число месяца; переданные сегодня показания учтены "
        "за декабрь 2026."
    )


def test_it_refuses_outside_the_window_by_setting():
    decision = reading_month(today=date(2026, 12, 26), window=(20, 25), outside="refuse")
    assert decision.refused
    assert decision.message == (
        "Показания принимаются с 20 по 25 число месяца. Сегодня приём закрыт — передайте "
        "показания с 20.01.2027."
    )


def test_it_moves_a_closed_month_to_the_next_open_one():
    closed = {date(2026, 10, 1), date(2026, 11, 1)}
    assert open_month(date(2026, 10, 1), closed_months=closed) == date(2026, 12, 1)
    assert open_month(date(2026, 12, 1), closed_months=closed) == date(2026, 12, 1)
