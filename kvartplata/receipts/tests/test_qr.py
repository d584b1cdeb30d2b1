"""Tests of the ГОСТ Р 56042-2014 payment text and the fast QR encoder (decoded with zbar)."""

import os
import re
import shutil
import subprocess

import pytest
import segno

from kvartplata.receipts import qr

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


def zbar_decode(path) -> list[str]:
    """Decode every QR code in an image with zbar, as texts in the encoding their header names.

    zbar guesses a charset for byte-mode data and would turn windows-1251 into Latin-1
    mojibake; ``-Sbinary`` makes it print the raw bytes, which we decode ourselves.
    """
    if not shutil.which("zbarimg"):
        if os.environ.get("KVARTPLATA_REQUIRE_BROWSER") == "1":
            pytest.fail("zbarimg (Debian package zbar-tools) is required")
        pytest.skip("zbarimg (Debian package zbar-tools) is not installed")
    result = subprocess.run(  # noqa: S603 - fixed argv of a local tool
        [shutil.which("zbarimg"), "--raw", "-q", "--nodbus", "-Sbinary", str(path)],
        capture_output=True,
        check=False,
        timeout=60,
    )
    # In binary mode zbar prints the symbols back to back (a newline only at the very end), so
    # split at each header; our texts contain no other "ST0001" and no newline.
    chunks = [c for c in re.split(rb"(?=ST0001[123])", result.stdout.rstrip(b"\n")) if c]
    codecs = {"1": "cp1251", "2": "utf-8", "3": "koi8-r"}
    texts = [chunk.decode(codecs[chr(chunk[6])]) for chunk in chunks]
    return texts


def write_pbm(rows, path, scale=6, border=4):
    n = len(rows)
    with open(path, "w") as out:
        side = (n + 2 * border) * scale
        out.write(f"P1\n{side} {side}\n")
        for i in range(-border, n + border):
            line = "".join(
                ("1" if 0 <= i < n and 0 <= j < n and rows[i][j] else "0") * scale
                for j in range(-border, n + border)
            )
            out.write((line + "\n") * scale)


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


@pytest.mark.parametrize("length", [1, 14, 15, 60, 200, 386, 700, 1200])
def test_it_keeps_segnos_function_patterns(length):
    data = bytes((k * 37 + length) % 256 for k in range(length))
    for mask in range(8):
        ours = qr.qr_matrix_bytes(data, mask=mask)
        reference = segno.make_qr(data, error="m", mode="byte", mask=mask, boost_error=False)
        assert len(ours) == reference.symbol_size(border=0)[0]
        function = qr._function_modules(reference.version)
        theirs = [bytes(row) for row in reference.matrix]
        assert all(
            ours[i][j] == theirs[i][j]
            for i in range(len(ours))
            for j in range(len(ours))
            if function[i][j]
        )


@pytest.mark.parametrize("mask", range(8))
def test_it_encodes_codes_that_zbar_decodes_exactly(tmp_path, mask):
    fields = {**example_fields(), "Purpose": f"Оплата ЖКУ, маска {mask}", "PaymPeriod": "032026"}
    text = qr.payment_text(fields)
    path = tmp_path / "code.pbm"
    write_pbm(qr.payment_qr_matrix(text, mask=mask), path)
    assert zbar_decode(path) == [text]


@pytest.mark.parametrize("length", [5, 40, 150, 320, 900])
def test_it_decodes_texts_of_many_lengths(tmp_path, length):
    # Any text with the header encodes; the field limits of payment_text do not apply here.
    text = "ST00011|Purpose=" + ("Оплата по счёту " * 80)[:length].strip()
    path = tmp_path / "code.pbm"
    write_pbm(qr.payment_qr_matrix(text), path, scale=3)
    assert zbar_decode(path) == [text]


def test_it_draws_one_filled_path_of_merged_runs():
    rows = (b"\x01\x01\x00\x01", b"\x00\x00\x00\x00", b"\x01\x01\x01\x01", b"\x00\x01\x00\x00")
    path = qr.qr_path(rows, 10, 20, 40)
    assert path.splitlines() == [
        "q 0 g 10.00000 0 0 10.00000 10.000 20.000 cm",
        "0 3 2 1 re",
        "3 3 1 1 re",
        "0 1 4 1 re",
        "1 0 1 1 re",
        "f Q",
    ]


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
