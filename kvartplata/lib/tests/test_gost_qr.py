"""Tests of the ГОСТ Р 56042-2014 payment text: the example, fields, limits, encodings."""

import pytest

from kvartplata.lib import gost_qr as qr

EXAMPLE = (
    'ST00012|Name=ООО «Три кита»|PersonalAcc=40702810138250123017|BankName=ОАО "БАНК"|'
    "BIC=044525225|CorrespAcc=30101810400000000225|PayeeINN=6200098765|LastName=Иванов|"
    "FirstName=Иван|MiddleName=Иванович|Purpose=Оплата членского взноса|"
    "PayerAddress=г.Рязань ул.Ленина д.10 кв.15|Sum=100000"
)
REQUIRED = {
    "Name": "ООО «Три кита»",
    "PersonalAcc": "40702810138250123017",
    "BankName": 'ОАО "БАНК"',
    "BIC": "044525225",
    "CorrespAcc": "30101810400000000225",
}


def example_fields():
    return {
        **REQUIRED,
        "PayeeINN": "6200098765",
        "LastName": "Иванов",
        "FirstName": "Иван",
        "MiddleName": "Иванович",
        "Purpose": "Оплата членского взноса",
        "PayerAddress": "г.Рязань ул.Ленина д.10 кв.15",
        "Sum": "100000",
    }


def test_it_builds_the_standard_example_exactly_in_utf8():
    assert qr.payment_text(example_fields(), encoding="utf-8") == EXAMPLE


def test_it_prefers_windows_1251():
    text = qr.payment_text(example_fields())
    assert text == "ST00011" + EXAMPLE[7:]
    assert len(qr.payment_bytes(text)) < len(EXAMPLE.encode("utf-8"))


def test_it_falls_back_to_utf8_when_cp1251_cannot_encode_a_value():
    fields = {**example_fields(), "LastName": "Гәрәев"}
    text = qr.payment_text(fields)
    assert text.startswith("ST00012|")
    assert "LastName=Гәрәев" in text


def test_it_puts_required_fields_first_and_omits_empty_optional_ones():
    fields = {"Sum": "500", "Purpose": "", "PersAcc": None, **REQUIRED, "TechCode": "02"}
    text = qr.payment_text(fields, encoding="utf-8")
    keys = [part.split("=", 1)[0] for part in text.split("|")[1:]]
    assert keys == ["Name", "PersonalAcc", "BankName", "BIC", "CorrespAcc", "Sum", "TechCode"]


def test_it_switches_the_separator_when_a_value_contains_a_pipe():
    fields = {**REQUIRED, "Purpose": "Оплата | ЖКУ"}
    text = qr.payment_text(fields, encoding="utf-8")
    separator = text[7]
    assert separator != "|"
    assert text.split(separator)[1:][-1] == "Purpose=Оплата | ЖКУ"
    assert all(separator not in value for value in fields.values())


def test_it_replaces_control_characters_in_values():
    text = qr.payment_text({**REQUIRED, "Purpose": "Оплата\nЖКУ\t "}, encoding="utf-8")
    assert text.endswith("|Purpose=Оплата ЖКУ")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"Name": ""}, "Name"),
        ({"PersonalAcc": "4070281013825012301"}, "PersonalAcc"),
        ({"PersonalAcc": "4070281013825012301Х"}, "PersonalAcc"),
        ({"BIC": "04452522"}, "BIC"),
        ({"CorrespAcc": "301018104000000002251"}, "CorrespAcc"),
        ({"BankName": "Б" * 46}, "BankName"),
        ({"Name": "Н" * 161}, "Name"),
        ({"Sum": "100.00"}, "Sum"),
        ({"PayeeINN": "12345"}, "PayeeINN"),
        ({"KPP": "12345"}, "KPP"),
        ({"PaymPeriod": "132026"}, "PaymPeriod"),
        ({"Foo": "bar"}, "Foo"),
    ],
)
def test_it_refuses_bad_fields_with_a_clear_message(change, message):
    with pytest.raises(ValueError, match=message):
        qr.payment_text({**REQUIRED, **change})


def test_it_refuses_an_unknown_encoding():
    with pytest.raises(ValueError, match="кодировка"):
        qr.payment_text(REQUIRED, encoding="latin-1")


def test_it_refuses_a_mandatory_block_over_300_bytes():
    # 150 Cyrillic letters: 150 bytes in windows-1251, 300 in UTF-8 (the name alone).
    fields = {**REQUIRED, "Name": "Ж" * 150}
    text = qr.payment_text(fields)
    assert len(qr.payment_bytes(text)) < 300
    with pytest.raises(ValueError, match="не более 300"):
        qr.payment_text(fields, encoding="utf-8")


def test_it_counts_the_mandatory_block_exactly():
    # UTF-8, two bytes per Cyrillic letter: "ST00012|" 8, "Name=" 5 + 2n, "|PersonalAcc=" 13 + 20,
    # "|BankName=" 10 + 17 ('ОАО "БАНК"' = 3×2 + 1 + 1 + 4×2 + 1), "|BIC=" 5 + 9,
    # "|CorrespAcc=" 12 + 20: 119 + 2n bytes — n = 90 gives 299 (passes), n = 91 gives 301.
    assert qr.payment_text({**REQUIRED, "Name": "Ж" * 90}, encoding="utf-8")
    with pytest.raises(ValueError, match="301 байт"):
        qr.payment_text({**REQUIRED, "Name": "Ж" * 91}, encoding="utf-8")


def test_it_does_not_count_optional_fields_in_the_mandatory_block():
    fields = {**REQUIRED, "Name": "Ж" * 150, "Purpose": "П" * 200, "PayerAddress": "А" * 200}
    assert len(qr.payment_bytes(qr.payment_text(fields))) > 300


def test_it_keeps_koi8r_when_asked_and_replaces_what_it_cannot_encode():
    fields = {**example_fields(), "Name": "ООО «УК «Уютный дом» № 1 — Ёлкино", "LastName": "Гәрәев"}
    text = qr.payment_text(fields, encoding="koi8-r")
    assert text.startswith("ST00013|")
    assert 'Name=ООО "УК "Уютный дом" N 1 - Ёлкино|' in text
    assert "LastName=Г?р?ев|" in text
    data = qr.payment_bytes(text)
    assert data.decode("koi8-r") == text


def test_it_falls_back_to_utf8_from_windows_1251_but_never_from_koi8r():
    fields = {**REQUIRED, "Name": "ООО «Три кита» № 1"}
    assert qr.payment_text(fields).startswith("ST00011|")  # cp1251 has « » №
    assert qr.payment_text(fields, encoding="koi8-r").startswith("ST00013|")
