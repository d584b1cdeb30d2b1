from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kvartplata.lib.money import MONEY_QUANT, format_rub, format_volume, round_money, to_kopecks

NBSP = "\u00a0"

amounts = st.decimals(min_value=-(10**9), max_value=10**9, allow_nan=False, places=6)


def test_it_rounds_half_up_not_to_even():
    # Banker's rounding would give 0.12 and 2.67; the rule is half-up.
    assert round_money(Decimal("0.125")) == Decimal("0.13")
    assert round_money(Decimal("2.675")) == Decimal("2.68")
    assert round_money(Decimal("2.674999")) == Decimal("2.67")


def test_it_rounds_negative_ties_away_from_zero():
    assert round_money(Decimal("-0.125")) == Decimal("-0.13")


def test_it_gives_two_places():
    assert str(round_money(Decimal("5"))) == "5.00"
    assert str(round_money(7)) == "7.00"


def test_it_refuses_floats():
    with pytest.raises(TypeError):
        round_money(0.1)
    with pytest.raises(TypeError):
        to_kopecks(1.5)
    with pytest.raises(TypeError):
        format_rub(2.0)
    with pytest.raises(TypeError):
        format_volume(2.0)


def test_it_refuses_nan():
    with pytest.raises(ValueError):
        round_money(Decimal("NaN"))


def test_it_converts_to_kopecks():
    assert to_kopecks(Decimal("1000.00")) == 100000
    assert to_kopecks(Decimal("96.80")) == 9680
    # 0.005 ₽ rounds half-up to one kopeck.
    assert to_kopecks(Decimal("0.005")) == 1
    assert to_kopecks(Decimal("-12.34")) == -1234


def test_it_formats_roubles():
    assert format_rub(Decimal("1234.56")) == f"1{NBSP}234,56{NBSP}₽"
    assert format_rub(Decimal("1234567.891")) == f"1{NBSP}234{NBSP}567,89{NBSP}₽"
    assert format_rub(Decimal("0")) == f"0,00{NBSP}₽"
    assert format_rub(Decimal("999.999")) == f"1{NBSP}000,00{NBSP}₽"


def test_it_formats_negative_roubles_with_a_minus_sign():
    assert format_rub(Decimal("-15")) == f"\u221215,00{NBSP}₽"


def test_it_does_not_print_minus_zero():
    assert format_rub(Decimal("-0.001")) == f"0,00{NBSP}₽"


def test_it_formats_volumes():
    assert format_volume(Decimal("12")) == "12,000"
    assert format_volume(Decimal("1234.5678")) == f"1{NBSP}234,568"
    assert format_volume(Decimal("14.235"), places=2) == "14,24"
    assert format_volume(Decimal("0.0160"), places=4) == "0,0160"
    assert format_volume(Decimal("41.5"), places=0) == "42"


@given(amounts)
def test_it_rounds_within_half_a_kopeck(value):
    assert abs(round_money(value) - value) <= Decimal("0.005")


@given(amounts)
def test_it_rounds_idempotently(value):
    once = round_money(value)
    assert round_money(once) == once
    assert once == once.quantize(MONEY_QUANT)


@given(st.integers(min_value=0, max_value=10**11), st.booleans())
def test_it_rounds_every_tie_away_from_zero(kopecks, negative):
    # k + ½ kopecks is exactly halfway between k and k + 1: half-up takes k + 1.
    sign = -1 if negative else 1
    tie = sign * (Decimal(kopecks) + Decimal("0.5")) / 100
    assert round_money(tie) == sign * Decimal(kopecks + 1) / 100


@given(amounts)
def test_it_formats_what_it_rounds(value):
    text = format_rub(value)
    digits = (
        text.removesuffix(f"{NBSP}₽").replace(NBSP, "").replace(",", ".").replace("\u2212", "-")
    )
    assert Decimal(digits) == round_money(value)
