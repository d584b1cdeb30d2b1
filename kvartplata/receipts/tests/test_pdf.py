"""Tests of the ЕПД PDF: the form's sections, nothing cut off, QR codes read back, same bytes."""

import copy
import os
import re
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


def raw_text(data: bytes, tmp_path) -> str:
    """The text in content-stream order: a wrapped cell's lines come one after another."""
    need("pdftotext")
    path = tmp_path / "raw.pdf"
    path.write_bytes(data)
    out = subprocess.run(  # noqa: S603 - fixed argv of a local tool
        [shutil.which("pdftotext"), "-raw", str(path), "-"],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return out.stdout.decode("utf-8").replace("\u00a0", " ")


def word_boxes(data: bytes, tmp_path) -> list[list[tuple[float, float, float, float, str]]]:
    """Every word's box per page, from ``pdftotext -bbox``: (x0, y0, x1, y1, word)."""
    need("pdftotext")
    path = tmp_path / "boxes.pdf"
    path.write_bytes(data)
    out = subprocess.run(  # noqa: S603 - fixed argv of a local tool
        [shutil.which("pdftotext"), "-bbox", str(path), "-"],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.decode("utf-8")
    pages = []
    for chunk in out.split("<page ")[1:]:
        words = re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>',
            chunk,
        )
        pages.append([(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in words])
    return pages


def overlaps(boxes, tolerance=0.6) -> list[tuple[str, str]]:
    """Pairs of words whose boxes (shrunk by ``tolerance`` for the fonts' line gaps) intersect."""
    found = []
    boxes = sorted(boxes, key=lambda b: b[1])
    for k, (x0, _y0, x1, y1, word) in enumerate(boxes):
        for a0, b0, a1, _b1, other in boxes[k + 1 :]:
            if b0 >= y1 - tolerance:
                break
            if a0 < x1 - tolerance and x0 < a1 - tolerance:
                found.append((word, other))
    return found


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
        "1. Сведения о плательщике и исполнителе услуг",
        "Код для подключения к личному кабинету: KX7M2P9T",
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
        # section 2: payees
        "2. Информация для внесения платы получателям платежа",
        "Банк: АО «Альфа-Банк»",
        "К/с 30101810200000000593",
        "6 001,57 ₽",
        "347,56 ₽",
        "1 003,40 ₽",
        # section 3: charges and totals
        "3. Расчёт размера платы",
        "Отопление",
        "2 650,33",
        "3 405,67",
        "−312,40",
        "3 011,11",  # heating for individual use: 3 405,67 − 312,40 − 82,16 (ОДН)
        "Обращение с ТКО [1]",
        "78,35",
        "[1] льгота ветерана труда 50%",
        "Итого за период",
        "7 602,53",
        # the complete totals row: individual 7 859,64 + common-house 133,64 = charged 7 993,28;
        # 7 993,28 − 312,40 (recalculations) − 78,35 (privileges) = 7 602,53, of which
        # 7 602,53 − 133,64 = 7 468,89 for individual use
        "7 859,64",
        "133,64",
        "7 993,28",
        "7 468,89",
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
        "1 760,150",
        "52,250",
        "ХВ-40210",
        "312,000",
        "315,000",
        "Э-7730012",
        "10 234",
        "10 354",
        # section 5: recalculations
        "5. Сведения о перерасчётах",
        "январь 2026",
        "Корректировка по показаниям ОДПУ",
        # section 6: instalments
        "6. Расчёт суммы к оплате с учётом рассрочки платежа",
        "Рассрочка не предоставлялась",
        "Поверка счётчиков горячей воды",
    ]
    compact = " ".join(text.split())
    missing = [item for item in expected if item not in compact]
    assert not missing, missing
    headings = [compact.index(f"{n}. ") for n in range(1, 7)]
    assert headings == sorted(headings)


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


def test_it_renders_the_largest_snapshot_whole_on_more_pages(tmp_path):
    s = max_snapshot()
    validate_snapshot(s)
    data = pdf.render_receipt(s)
    assert page_count(data, tmp_path) == 2
    text = " ".join(pdf_text(data, tmp_path).split())
    assert "[18] Пояснение к начислению по услуге, довольно длинное" in text
    assert "…" not in text
    assert "Лист 2 из 2" in text


def test_it_prints_characters_beyond_the_shared_repertoire(tmp_path):
    s = sample_snapshot()
    s["account"]["holder"]["last"] = "Гәрәев"
    s["notice"] = "Réunion des résidents ǅ"
    text = pdf_text(pdf.render_receipt(s), tmp_path)
    assert "Гәрәев Иван Иванович" in text
    assert "Réunion des résidents" in text


def test_it_wraps_overlong_texts_instead_of_cutting_them(tmp_path):
    s = sample_snapshot()
    s["charges"][0]["service"] = ("Очень длинное название услуги " * 5).strip()
    text = " ".join(raw_text(pdf.render_receipt(s), tmp_path).split())
    assert ("Очень длинное название услуги " * 5).strip() in text
    assert "…" not in text


LONG_NAME = (
    "Общество с ограниченной ответственностью «Управляющая компания «Жилищно-эксплуатационный "
    "участок Октябрьского района города Рязани»"
)
LONG_BANK = "Акционерный коммерческий банк Приокский"
LONG_REASON = (
    "Перерасчёт платы за холодное водоснабжение в связи с временным отсутствием потребителя "
    "более пяти полных календарных дней подряд (командировка), заявление № 1234 от 12.03.2026, "
    "подтверждающие документы приложены"
)


def longest_snapshot() -> dict:
    s = sample_snapshot(2)
    s["organization"]["name"] = LONG_NAME
    s["organization"]["bank"]["name"] = LONG_BANK
    s["payees"][0]["name"] = LONG_NAME
    s["payees"][0]["kpp"] = "622901001"
    for payee in s["payees"]:
        payee["bank"]["name"] = LONG_BANK
    base = s["charges"]
    s["charges"] = []
    for k in range(12):
        charge = copy.deepcopy(base[k % len(base)])
        charge["service"] = f"Коммунальная услуга номер {k + 1} с длинным названием по договору"
        charge["provider"] = "Муниципальное унитарное предприятие «Водоканал города Рязани»"
        s["charges"].append(charge)
    s["payees"][0]["services"] = [c["service"] for c in s["charges"][:8]]
    s["recalculations"] = [
        {"service": f"Коммунальная услуга номер {k + 1} с длинным названием по договору",
         "month": f"2026-0{k + 1}-01", "amount": "-12.34", "reason": f"{LONG_REASON} ({k + 1})"}
        for k in range(6)
    ]  # fmt: skip
    return s


def test_it_prints_the_longest_realistic_values_whole_and_without_overlaps(tmp_path):
    s = longest_snapshot()
    validate_snapshot(s)
    data = pdf.render_receipt(s)
    text = " ".join(raw_text(data, tmp_path).split())
    expected = [
        LONG_NAME,
        f"Банк: {LONG_BANK}",
        f"Р/с {s['organization']['bank']['account']} в {LONG_BANK}",
        "КПП 622901001",
        *(c["service"] for c in s["charges"]),
        *(r["reason"] for r in s["recalculations"]),
        "За: " + ", ".join(s["payees"][0]["services"]),
    ]
    missing = [item for item in expected if item not in text]
    assert not missing, missing
    assert "…" not in text
    pages = word_boxes(data, tmp_path)
    assert len(pages) >= 1
    for boxes in pages:
        assert overlaps(boxes) == []
        assert all(b[0] >= 0 and b[2] <= 595.3 and b[1] >= 0 and b[3] <= 841.9 for b in boxes)


def test_it_finds_overlapping_words():
    # The overlap check itself: two words drawn at the same place are found, neighbours are not.
    assert overlaps([(0, 0, 10, 8, "a"), (5, 2, 15, 10, "b")]) == [("a", "b")]
    assert overlaps([(0, 0, 10, 8, "a"), (10.5, 0, 20, 8, "b"), (0, 8, 10, 16, "c")]) == []


def test_it_prints_each_payees_own_debt_and_advance(tmp_path):
    s = sample_snapshot(1)
    s["payees"][0].update(debt="1520.40", advance="0.00")
    s["payees"][1].update(debt="0.00", advance="12.30")
    text = " ".join(raw_text(pdf.render_receipt(s), tmp_path).split())
    assert "Задолженность на начало периода: 1 520,40 ₽" in text
    assert "Аванс на начало периода: 12,30 ₽" in text
    assert text.count("Задолженность на начало периода:") == 1  # zeros are not printed


def test_it_renders_a_receipt_frozen_before_the_new_fields(tmp_path):
    from kvartplata.receipts.snapshot import ADDED_FIELDS

    s = sample_snapshot(1)
    parts = {
        "Snapshot": [s],
        "Account": [s["account"]],
        "Charge": s["charges"],
        "Totals": [s["totals"]],
        "BuildingVolume": s["reference"]["building"],
        "Payee": s["payees"],
        "BillChange": [s["change"]],
    }
    for kind, field in ADDED_FIELDS:
        for part in parts[kind]:
            part.pop(field, None)
    assert "link_code" not in s["account"] and "instalments" not in s
    assert "charged" in s["charges"][0] and "charged" not in s["totals"]
    validate_snapshot(s)
    text = " ".join(raw_text(pdf.render_receipt(s), tmp_path).split())
    assert "Код для подключения к личному кабинету: —" in text
    assert "Рассрочка не предоставлялась" in text


def test_it_still_requires_a_charges_charged_amount():
    s = sample_snapshot()
    del s["charges"][0]["charged"]
    with pytest.raises(SnapshotError, match="charged"):
        validate_snapshot(s)


def test_it_never_breaks_an_amount_across_lines():
    text = "Задолженность на начало периода: 5\u00a0214,07\u00a0₽"
    lines = pdf._wrap(text, pdf.REGULAR, 6, 80)
    assert len(lines) > 1
    assert lines[-1].endswith("5\u00a0214,07\u00a0₽")
