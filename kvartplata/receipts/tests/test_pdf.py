"""Tests of the one-page ЕПД PDF: sections and numbers, QR codes read back, deterministic bytes."""

import copy
import os
import shutil
import subprocess

import pytest

from kvartplata.receipts import pdf
from kvartplata.receipts.snapshot import SnapshotError, sample_snapshot, validate_snapshot
from kvartplata.receipts.tests.test_qr import zbar_decode


def need(tool: str) -> None:
    if not shutil.which(tool):
        if os.environ.get("KVARTPLATA_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{tool} (Debian package poppler-utils) is required")
        pytest.skip(f"{tool} (Debian package poppler-utils) is not installed")


def pdf_text(data: bytes, tmp_path) -> str:
    need("pdftotext")
    path = tmp_path / "receipt.pdf"
    path.write_bytes(data)
    out = subprocess.run(  # noqa: S603 - fixed argv of a local tool
        [shutil.which("pdftotext"), "-layout", str(path), "-"],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return out.stdout.decode("utf-8").replace("\u00a0", " ")


def page_count(data: bytes, tmp_path) -> int:
    need("pdfinfo")
    path = tmp_path / "count.pdf"
    path.write_bytes(data)
    out = subprocess.run(  # noqa: S603 - fixed argv of a local tool
        [shutil.which("pdfinfo"), str(path)], capture_output=True, check=True, timeout=60
    )
    line = next(x for x in out.stdout.decode().splitlines() if x.startswith("Pages:"))
    return int(line.split()[1])


def max_snapshot() -> dict:
    s = sample_snapshot(5)
    s["charges"] = copy.deepcopy((s["charges"] * 3)[:18])
    for charge in s["charges"]:
        charge["explanation"] = "Пояснение к начислению по услуге, довольно длинное"
    s["meters"] = (s["meters"] * 3)[:10]
    s["recalculations"] = s["recalculations"] * 6
    s["reference"]["norms"] = (s["reference"]["norms"] * 2)[:6]
    s["reference"]["building"] = (s["reference"]["building"] * 2)[:6]
    return s


def test_it_accepts_its_own_sample():
    for variant in range(6):
        validate_snapshot(sample_snapshot(variant))


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("totals", "total_due"), "1 234,56", "total_due"),
        (("period",), "2026-03-15", "первым днём"),
        (("due_date",), "15.04.2026", "due_date"),
        (("organization", "bank", "bic"), "12345", "bic"),
        (("account", "residents"), -1, "residents"),
        (("payees",), [], "payees"),
        (("version",), 2, "версия"),
    ],
)
def test_it_refuses_a_snapshot_that_breaks_the_schema(path, value, message):
    s = sample_snapshot()
    target = s
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(SnapshotError, match=message):
        pdf.render_receipt(s)


def test_it_refuses_missing_and_extra_fields():
    s = sample_snapshot()
    del s["account"]["holder"]
    with pytest.raises(SnapshotError, match="holder"):
        validate_snapshot(s)
    s = sample_snapshot()
    s["charges"][0]["colour"] = "red"
    with pytest.raises(SnapshotError, match="colour"):
        validate_snapshot(s)


def test_it_renders_one_a4_page(tmp_path):
    data = pdf.render_receipt(sample_snapshot())
    assert data.startswith(b"%PDF-")
    assert page_count(data, tmp_path) == 1
    assert b"/MediaBox [ 0 0 595.2756 841.8898 ]" in data


def test_it_renders_the_same_bytes_twice():
    s = sample_snapshot(7)
    first = pdf.render_receipt(s)
    pdf.render_receipt(sample_snapshot(8))  # a different receipt in between changes nothing
    assert pdf.render_receipt(copy.deepcopy(s)) == first
    assert list(pdf.render_receipts([s, s])) == [first, first]


def test_it_shows_every_section_with_the_right_numbers(tmp_path):
    s = sample_snapshot()
    text = pdf_text(pdf.render_receipt(s), tmp_path)
    expected = [
        # header and section 1
        "ЕДИНЫЙ ПЛАТЁЖНЫЙ ДОКУМЕНТ",
        "за март 2026 г.",
        "№ 2026030000 от 1 апреля 2026 г.",
        "1. Плательщик",
        "Иванов Иван Иванович",
        "390000, г. Рязань, ул. Ленина, д. 10, кв. 15",
        "1000100",
        "общая 54,30 м², жилая 36,10 м²",
        "1 чел.",
        "Исполнитель услуг",
        "ИНН 6234012345 КПП 623401001 ОГРН 1156234001234",
        "+7 (4912) 20-30-40",
        "info@uyutdom.example",
        "uyutdom.example",
        "Р/с 40702810138250123017 в ПАО Сбербанк",
        "БИК 044525225 К/с 30101810400000000225",
        # section 2: meters
        "2. Показания индивидуальных приборов учёта",
        "ХВ-40210",
        "312,000",
        "315,000",
        "Э-7730012",
        "10 234",
        "10 354",
        # section 3: charges and totals
        "3. Расчёт размера платы",
        "Отопление",
        "2 650,33",
        "3 405,67",
        "−312,40",
        "3 093,27",
        "Обращение с ТКО [1]",
        "78,35",
        "[1] льгота ветерана труда 50%",
        "Итого за период",
        "7 602,53",
        "Аванс на начало периода",
        "250,00 ₽",
        "ИТОГО К ОПЛАТЕ",
        "7 352,53 ₽",
        "до 15.04.2026",
        # section 4: reference
        "4. Справочная информация",
        "4,850",
        "0,028",
        "184 523,000",
        "28 450,000",
        # section 6: recalculations
        "6. Перерасчёты",
        "январь 2026",
        "Корректировка по показаниям ОДПУ",
        # payees
        "ООО «УК Уютный",
        "6 001,57 ₽",
        "347,56 ₽",
        "1 003,40 ₽",
        "Поверка счётчиков горячей воды",
    ]
    compact = " ".join(text.split())
    missing = [item for item in expected if item not in compact]
    assert not missing, missing


def test_it_prints_the_qr_codes_that_decode_to_the_payee_texts(tmp_path):
    need("pdftoppm")
    s = sample_snapshot(3)
    path = tmp_path / "receipt.pdf"
    path.write_bytes(pdf.render_receipt(s))
    subprocess.run(  # noqa: S603 - fixed argv of a local tool
        [
            shutil.which("pdftoppm"),
            "-r",
            "200",
            "-png",
            "-singlefile",
            str(path),
            str(tmp_path / "page"),
        ],
        check=True,
        timeout=120,
    )
    texts = sorted(zbar_decode(tmp_path / "page.png"))
    expected = sorted(pdf.payee_qr_text(s, payee) for payee in s["payees"])
    assert texts == expected
    assert all(text.startswith("ST00011|Name=") for text in texts)
    first = expected[[p["name"] for p in s["payees"]].index(s["payees"][0]["name"])]
    assert "|Sum=" in first and "|PaymPeriod=032026|TechCode=02" in first


def test_it_omits_the_sum_when_nothing_is_due():
    s = sample_snapshot()
    s["payees"][0]["amount"] = "-12.00"
    assert "Sum=" not in pdf.payee_qr_text(s, s["payees"][0])


def test_it_fits_the_largest_snapshot_on_one_page(tmp_path):
    s = max_snapshot()
    validate_snapshot(s)
    data = pdf.render_receipt(s)
    assert page_count(data, tmp_path) == 1
    text = " ".join(pdf_text(data, tmp_path).split())
    # Notes are bounded to three lines: the first ones are shown, the rest cut with an ellipsis.
    assert "[1] Пояснение" in text and "…" in text


def test_it_prints_characters_beyond_the_shared_repertoire(tmp_path):
    s = sample_snapshot()
    s["account"]["holder"]["last"] = "Гәрәев"
    s["notice"] = "Réunion des résidents ǅ"
    text = pdf_text(pdf.render_receipt(s), tmp_path)
    assert "Гәрәев Иван Иванович" in text
    assert "Réunion des résidents" in text


def test_it_shortens_overlong_texts_instead_of_overflowing(tmp_path):
    s = sample_snapshot()
    s["charges"][0]["service"] = "Очень длинное название услуги " * 5
    text = pdf_text(pdf.render_receipt(s), tmp_path)
    assert "Очень длинное" in text and "…" in text
