"""Tests of the bank-detail checks (ИНН, КПП, БИК, the accounts' control keys against the БИК)."""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from kvartplata.lib import bankdetails

# A real set of details (Sberbank, Moscow), as printed in ГОСТ Р 56042-2014's example.
SBER = {
    "inn": "7707083893",
    "kpp": "773601001",
    "bic": "044525225",
    "correspondent_account": "30101810400000000225",
    "settlement_account": "40702810138250123017",
}


def test_it_computes_the_settlement_key_by_hand():
    # "225" + "40702810138250123017", weights 7 1 3 repeated:
    # 2·7 2·1 5·3 | 4·7 0·1 7·3 | 0·7 2·1 8·3 | 1·7 0·1 1·3 | 3·7 8·1 2·3 | 5·7 0·1 1·3 |
    # 2·7 3·1 0·3 | 1·7 7·1
    # = 14+2+15 + 28+0+21 + 0+2+24 + 7+0+3 + 21+8+6 + 35+0+3 + 14+3+0 + 7+7 = 220 → ends in 0.
    assert bankdetails.account_key_ok("40702810138250123017", "044525225")
    # One digit changed (…3017 → …3018) adds 1·1 (position 23 weighs 1): 221, refused.
    assert not bankdetails.account_key_ok("40702810138250123018", "044525225")


def test_it_computes_the_correspondent_key_by_hand():
    # "0" + "25" (5th–6th digits of 044525225) + "30101810400000000225":
    # digits  0 2 5 | 3 0 1 | 0 1 8 | 1 0 4 | 0 0 0 | 0 0 0 | 0 0 2 | 2 5
    # weights 7 1 3 | 7 1 3 | 7 1 3 | 7 1 3 | 7 1 3 | 7 1 3 | 7 1 3 | 7 1
    # = 0+2+15 + 21+0+3 + 0+1+24 + 7+0+12 + 0 + 0 + 0+0+6 + 14+5 = 110 → ends in 0.
    assert 0 + 2 + 15 + 21 + 0 + 3 + 0 + 1 + 24 + 7 + 0 + 12 + 6 + 14 + 5 == 110
    assert bankdetails.account_key_ok("30101810400000000225", "044525225", correspondent=True)
    # The settlement rule ("225" first) does not make a correspondent account valid.
    assert not bankdetails.account_key_ok("30101810400000000225", "044525225")


def test_it_accepts_real_details():
    assert bankdetails.bank_details_errors(**SBER) == {}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("inn", "7707083894", "ИНН «7707083894»: неверные контрольные цифры"),
        ("inn", "770708389", "ИНН: нужно 10 цифр"),
        ("inn", "77070838930", "ИНН: нужно 10 цифр"),
        ("kpp", "77360100", "КПП: нужно 9 знаков"),
        ("kpp", "7736аб001", "КПП: нужно 9 знаков"),
        ("kpp", "7736ab001", "КПП: нужно 9 знаков"),
        ("bic", "04452522", "БИК: нужно 9 цифр"),
        ("settlement_account", "40702810138250123018", "Расчётный счёт «40702810138250123018»"),
        ("settlement_account", "4070281013825012301", "Номер счёта: нужно 20 цифр"),
        ("correspondent_account", "30101810400000000226", "Корреспондентский счёт"),
    ],
)
def test_it_refuses_wrong_details_naming_the_field(field, value, message):
    errors = bankdetails.bank_details_errors(**{**SBER, field: value})
    assert list(errors) == [field]
    assert message in errors[field]


def test_it_accepts_a_kpp_with_letters_in_the_reason_code():
    bankdetails.validate_kpp("7736AB001")
    assert bankdetails.bank_details_errors(**{**SBER, "kpp": "7736AB001"}) == {}


def test_it_accepts_a_12_digit_inn_of_an_entrepreneur_without_kpp():
    bankdetails.validate_inn("500100732259")  # python-stdnum's own example
    assert bankdetails.bank_details_errors(**{**SBER, "inn": "500100732259", "kpp": ""}) == {}
    errors = bankdetails.bank_details_errors(**{**SBER, "kpp": ""}, kpp_required=True)
    assert list(errors) == ["kpp"]


def test_it_raises_validation_errors_from_the_field_validators():
    with pytest.raises(ValidationError, match="контрольные цифры"):
        bankdetails.validate_inn("6229012345")  # the old demo ИНН


@given(
    account=st.text(alphabet="0123456789", min_size=20, max_size=20),
    bic=st.text(alphabet="0123456789", min_size=9, max_size=9),
)
def test_it_accepts_exactly_one_key_digit_per_account(account, bic):
    # The key is the 9th digit (weight 3 at position 12 of 23): exactly one of ten values fits.
    fitting = [
        k for k in range(10) if bankdetails.account_key_ok(account[:8] + str(k) + account[9:], bic)
    ]
    assert len(fitting) == 1
