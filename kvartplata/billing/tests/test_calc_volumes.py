from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kvartplata.billing.calc.volumes import (
    ReadingDecreased,
    VolumeMethod,
    average_monthly,
    choose_volume,
    meter_consumption,
    norm_volume,
    replaced_meter_consumption,
    round_volume,
    tko_by_area,
)

D = Decimal
readings = st.decimals(min_value=0, max_value=99999, allow_nan=False, places=3)


def test_it_subtracts_the_previous_reading():
    # 135,000 − 123,000 = 12,000
    assert meter_consumption(D("123.000"), D("135.000")) == D("12.000")
    assert meter_consumption(D("5"), D("5")) == 0


def test_it_refuses_a_decreased_reading_in_russian():
    with pytest.raises(ReadingDecreased, match="меньше предыдущего"):
        meter_consumption(D("135"), D("123"))
    assert issubclass(ReadingDecreased, ValueError)


def test_it_rolls_over_a_counter_with_known_capacity():
    # 5 digits: 100000 − 99990 + 15 = 25
    assert meter_consumption(D("99990"), D("15"), capacity_digits=5) == D("25")
    # 100000 − 99999,5 + 0,7 = 1,2
    assert meter_consumption(D("99999.5"), D("0.7"), capacity_digits=5) == D("1.2")


def test_it_refuses_a_reading_beyond_the_capacity():
    with pytest.raises(ValueError):
        meter_consumption(D("123456"), D("1"), capacity_digits=5)


def test_it_refuses_negative_readings():
    with pytest.raises(ValueError):
        meter_consumption(D("-1"), D("5"))


def test_it_sums_consumption_over_a_replaced_meter():
    # old meter 100 → 150 (50), new meter 0 → 7 (7): 57
    assert replaced_meter_consumption(D("100"), D("150"), D("0"), D("7")) == D("57")


def test_it_refuses_a_replacement_with_a_decreasing_old_meter():
    with pytest.raises(ReadingDecreased):
        replaced_meter_consumption(D("150"), D("100"), D("0"), D("7"))


def test_it_averages_six_months():
    # (3 + 4 + 3 + 4 + 3 + 4) / 6 = 21 / 6 = 3,5
    assert average_monthly([D(3), D(4), D(3), D(4), D(3), D(4)], newer_meter=False) == D("3.5")


def test_it_averages_only_the_last_six_months():
    # the 100 of the oldest month is left out: 6 × 2 / 6 = 2
    months = [D(100)] + [D(2)] * 6
    assert average_monthly(months, newer_meter=False) == D(2)


def test_it_needs_six_months_for_an_older_meter():
    assert average_monthly([D(1)] * 5, newer_meter=False) is None


def test_it_needs_three_months_for_a_newer_meter():
    # (1 + 2 + 2) / 3 = 1,6666666… → 1,666667 half-up at the 6th place
    assert average_monthly([D(1), D(2), D(2)], newer_meter=True) == D("1.666667")
    assert average_monthly([D(1), D(2)], newer_meter=True) is None


def test_it_computes_the_norm_per_resident():
    # 3 × 4,745 = 14,235
    assert norm_volume(D("4.745"), residents=3) == D("14.235")
    # 14,235 × 1,5 = 21,3525
    assert norm_volume(D("4.745"), residents=3, coefficient=D("1.5")) == D("21.3525")


def test_it_computes_the_norm_per_square_metre():
    # heating: 54,3 m² × 0,0160 Gcal/m² = 0,8688 Gcal
    assert norm_volume(D("0.0160"), area=D("54.3")) == D("0.8688")


def test_it_wants_exactly_one_base_for_the_norm():
    with pytest.raises(ValueError, match="либо"):
        norm_volume(D("4.745"))
    with pytest.raises(ValueError):
        norm_volume(D("4.745"), residents=2, area=D("50"))


def test_it_charges_waste_collection_by_area():
    # 60 m² × 0,1 m³/m² a year / 12 × 700 ₽ = 350,00 ₽
    assert tko_by_area(D("60"), D("0.1"), D("700")) == D("350.00")
    # 54,3 × 0,0933 / 12 × 812,47 = 343,010615775 → 343,01
    assert tko_by_area(D("54.3"), D("0.0933"), D("812.47")) == D("343.01")


def _choose(**overrides):
    arguments = {
        "reading_volume": None,
        "months_without_readings": 0,
        "average": D("3.5"),
        "norm": D("4.745"),
        "residents": 3,
        "average_months": 6,
    }
    return choose_volume(**arguments | overrides)


def test_it_uses_the_readings_of_a_working_meter():
    result = _choose(reading_volume=D("12"), readings=(D("123"), D("135")))
    assert result.volume == D("12")
    assert result.method == VolumeMethod.METER == "meter"
    assert result.norm is None
    assert result.coefficient is None
    assert result.explanation == "по показаниям: 135,000 − 123,000 = 12,000 м³"


def test_it_explains_readings_without_the_readings_themselves():
    assert _choose(reading_volume=D("12")).explanation == "по показаниям: 12,000 м³"


@pytest.mark.parametrize("months", [0, 1, 2])
def test_it_uses_the_average_for_three_periods_without_readings(months):
    result = _choose(months_without_readings=months)
    assert result.method == VolumeMethod.AVERAGE
    assert result.volume == D("3.5")
    assert result.explanation == "по среднему за 6 мес.: 3,500 м³"


def test_it_switches_to_the_norm_in_the_fourth_period_without_readings():
    # 3 residents × 4,745 m³ = 14,235 m³, no coefficient for a working meter
    result = _choose(months_without_readings=3)
    assert result.method == VolumeMethod.NORM
    assert result.volume == D("14.235")
    assert result.norm == D("4.745")
    assert result.coefficient is None
    assert result.explanation == "по нормативу: 3 чел. × 4,745 м³ = 14,235 м³"


def test_it_uses_the_norm_when_there_is_no_average():
    result = _choose(average=None)
    assert result.method == VolumeMethod.NORM
    assert result.volume == D("14.235")


def test_it_ignores_readings_of_an_invalid_meter_and_uses_the_average():
    result = _choose(reading_volume=D("12"), meter_valid=False, months_without_readings=2)
    assert result.method == VolumeMethod.AVERAGE
    assert result.volume == D("3.5")


def test_it_applies_the_coefficient_after_the_average_of_an_invalid_meter():
    # 3 × 4,745 × 1,5 = 21,3525
    result = _choose(meter_valid=False, months_without_readings=3)
    assert result.method == VolumeMethod.NORM_COEFFICIENT
    assert result.volume == D("21.3525")
    assert result.coefficient == D("1.5")
    assert result.explanation == (
        "по нормативу с повышающим коэффициентом 1,5: 3 чел. × 4,745 м³ × 1,5 = 21,3525 м³"
    )


def test_it_applies_the_coefficient_to_an_invalid_meter_without_history():
    # ПП 354 пп. 59–60 as decided in calc.volumes: no average to stand in for a broken or
    # unverified meter, so the norm × the coefficient at once: 3 × 4,745 × 1,5 = 21,3525 m³.
    result = _choose(meter_valid=False, average=None, months_without_readings=1)
    assert result.method == VolumeMethod.NORM_COEFFICIENT
    assert result.volume == D("21.3525")


def test_it_uses_the_plain_norm_for_a_working_meter_without_history():
    # No readings and no history, but the meter works: the plain norm, 3 × 4,745 = 14,235 m³.
    result = _choose(meter_valid=True, average=None, months_without_readings=0)
    assert result.method == VolumeMethod.NORM
    assert result.volume == D("14.235")


def test_it_applies_the_coefficient_when_there_is_no_meter():
    result = _choose(meter_exists=False, reading_volume=D("12"))
    assert result.method == VolumeMethod.NORM_COEFFICIENT
    assert result.volume == D("21.3525")


def test_it_lets_the_coefficient_be_disabled():
    result = _choose(meter_exists=False, coefficient=D(1))
    assert result.method == VolumeMethod.NORM
    assert result.coefficient is None
    assert result.volume == D("14.235")


def test_it_explains_a_norm_per_square_metre():
    # 54,30 m² × 0,016 Gcal = 0,8688 Gcal
    result = _choose(norm=D("0.0160"), residents=None, area=D("54.3"), average=None, unit="Гкал")
    assert result.volume == D("0.8688")
    assert result.explanation == "по нормативу: 54,30 м² × 0,016 Гкал = 0,8688 Гкал"


@given(readings, readings)
def test_it_never_gives_negative_consumption(previous, current):
    try:
        consumption = meter_consumption(previous, current)
    except ReadingDecreased:
        assert current < previous
    else:
        assert consumption >= 0


@given(readings, readings)
def test_it_never_gives_negative_consumption_with_rollover(previous, current):
    consumption = meter_consumption(previous, current, capacity_digits=5)
    assert 0 <= consumption < 10**5


@given(st.lists(st.decimals(min_value=0, max_value=1000, places=3), max_size=12), st.booleans())
def test_it_averages_between_the_smallest_and_largest_month(months, newer):
    average = average_monthly(months, newer_meter=newer)
    if average is None:
        assert len(months) < (3 if newer else 6)
    else:
        last = months[-6:]
        assert round_volume(min(last)) <= average <= round_volume(max(last))


@given(
    reading=st.none() | st.decimals(min_value=0, max_value=1000, places=3),
    months=st.integers(min_value=0, max_value=24),
    average=st.none() | st.decimals(min_value=0, max_value=100, places=6),
    meter_exists=st.booleans(),
    meter_valid=st.booleans(),
)
def test_it_uses_the_average_only_for_three_periods(
    reading, months, average, meter_exists, meter_valid
):
    result = choose_volume(
        reading_volume=reading,
        months_without_readings=months,
        average=average,
        norm=D("4.745"),
        residents=2,
        meter_exists=meter_exists,
        meter_valid=meter_valid,
    )
    assert result.volume >= 0
    if result.method == VolumeMethod.AVERAGE:
        assert months < 3 and average is not None and meter_exists
    if result.method == VolumeMethod.METER:
        assert reading is not None and meter_exists and meter_valid
    if result.method == VolumeMethod.NORM_COEFFICIENT:
        # No meter, or an invalid one with no average standing in (after 3 periods, or none).
        assert not meter_exists or (not meter_valid and (months >= 3 or average is None))


def test_it_spreads_late_readings_over_the_estimated_months():
    from kvartplata.billing.calc.volumes import spread_late_consumption

    # 50 m³ over 4 estimated months and this one: 10 m³ each, this month 50 − 4 × 10 = 10.
    assert spread_late_consumption(D("50"), 4, 3) == (D("10.000"), D("10.000"))
    # 10 m³ over 2 + 1 months: 3,333333 → 3,333 each; this month 10 − 2 × 3,333 = 3,334.
    assert spread_late_consumption(D("10"), 2, 3) == (D("3.333"), D("3.334"))
    # No estimated months: the whole consumption, at billing precision (12,3456 → 12,346).
    assert spread_late_consumption(D("12.3456"), 0, 3) == (D("12.346"), D("12.346"))


def test_it_adds_up_meters_and_lets_the_norm_bill_the_whole_flat():
    from kvartplata.billing.calc.volumes import VolumeResult, combine_meters

    by_meter = VolumeResult(D("3.0004"), VolumeMethod.METER, None, None, "")
    by_average = VolumeResult(D("2.5"), VolumeMethod.AVERAGE, None, None, "")
    # 3,0004 → 3,000 and 2,500: 5,500 m³, by average (the weaker of the two).
    combined = combine_meters([by_meter, by_average], 3)
    assert (combined.volume, combined.method) == (D("5.500"), VolumeMethod.AVERAGE)
    # One meter on the norm (3 × 4,745 × 1,5 = 21,3525 → 21,353): the flat by the norm.
    by_norm = _choose(meter_valid=False, months_without_readings=3)
    combined = combine_meters([by_meter, by_norm], 3)
    assert (combined.volume, combined.method) == (D("21.353"), VolumeMethod.NORM_COEFFICIENT)
