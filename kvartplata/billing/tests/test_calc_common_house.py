from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kvartplata.billing.calc.common_house import (
    area_share,
    cap_by_norm,
    distribute_by_area,
    odn_charge,
    odn_share_with_meter,
    odn_share_without_meter,
    odn_volume_with_meter,
)

D = Decimal
HALF_UNIT = D("0.0000005")


def test_it_reproduces_the_worked_example_of_formula_12():
    # (12000 − 1000 − 4000 − 5000) × 60 / 2400 = 2000 × 0,025 = 50 m³
    share = odn_share_with_meter(
        building_volume=D("12000"),
        non_residential_volume=D("1000"),
        flats_norm_volume=D("4000"),
        flats_meter_volume=D("5000"),
        flat_area=D("60"),
        total_area=D("2400"),
    )
    assert share == D("50")
    # 50 m³ × 1,936 ₽ = 96,80 ₽
    assert odn_charge(share, D("1.936")) == D("96.80")


def test_it_subtracts_the_water_used_for_heating():
    # (12000 − 1000 − 4000 − 5000 − 800) × 60 / 2400 = 1200 × 0,025 = 30
    share = odn_share_with_meter(
        building_volume=D("12000"),
        non_residential_volume=D("1000"),
        flats_norm_volume=D("4000"),
        flats_meter_volume=D("5000"),
        heating_water_volume=D("800"),
        flat_area=D("60"),
        total_area=D("2400"),
    )
    assert share == D("30")


def test_it_takes_a_negative_common_volume_as_zero():
    # 9000 − 1000 − 4000 − 5000 = −1000 → 0: nothing charged, nothing taken back
    volume = odn_volume_with_meter(
        building_volume=D("9000"),
        non_residential_volume=D("1000"),
        flats_norm_volume=D("4000"),
        flats_meter_volume=D("5000"),
    )
    assert volume == 0


def test_it_rounds_a_share_to_six_places():
    # 100 × 1 / 3 = 33,3333333… → 33,333333
    assert area_share(D("100"), flat_area=D("1"), total_area=D("3")) == D("33.333333")
    # 100 × 2 / 3 = 66,6666666… → 66,666667 (half-up)
    assert area_share(D("100"), flat_area=D("2"), total_area=D("3")) == D("66.666667")


def test_it_refuses_a_building_without_area():
    with pytest.raises(ValueError, match="площадь"):
        area_share(D("100"), flat_area=D("60"), total_area=D("0"))


def test_it_shares_the_norm_without_a_building_meter():
    # formula 15: 0,0203 m³/m² × 600 m² × 60 / 2400 = 12,18 × 0,025 = 0,3045 m³
    share = odn_share_without_meter(
        norm=D("0.0203"), common_area=D("600"), flat_area=D("60"), total_area=D("2400")
    )
    assert share == D("0.3045")


def test_it_caps_a_share_by_the_norm():
    assert cap_by_norm(D("50"), D("0.3045")) == D("0.3045")
    assert cap_by_norm(D("0.2"), D("0.3045")) == D("0.2")


def test_it_rounds_the_charge_to_kopecks():
    # 0,3045 × 45,67 = 13,906515 → 13,91
    assert odn_charge(D("0.3045"), D("45.67")) == D("13.91")


def test_it_distributes_a_building_volume_by_area():
    # 2000 × 60/200 = 600; 2000 × 40/200 = 400; 2000 × 100/200 = 1000
    shares = distribute_by_area(D("2000"), {"1": D("60"), "2": D("40"), "3": D("100")}, D("200"))
    assert shares == {"1": D("600"), "2": D("400"), "3": D("1000")}


def test_it_gives_each_flat_what_it_would_get_alone():
    shares = distribute_by_area(D("100"), {1: D("1"), 2: D("1"), 3: D("1")}, D("3"))
    assert shares == {1: D("33.333333"), 2: D("33.333333"), 3: D("33.333333")}


areas = st.decimals(min_value=D("0.01"), max_value=D("500"), places=2)


@given(
    st.decimals(min_value=0, max_value=D("100000"), places=3),
    st.lists(areas, min_size=1, max_size=60),
)
def test_it_distributes_shares_that_sum_back_to_the_total(total_volume, flat_areas):
    by_flat = dict(enumerate(flat_areas))
    shares = distribute_by_area(total_volume, by_flat, sum(flat_areas))
    assert abs(sum(shares.values()) - total_volume) <= HALF_UNIT * len(flat_areas)
    assert all(share >= 0 for share in shares.values())
