"""The ЕПД prints why the sum changed after section 4, whole and without overlaps (#19)."""

import copy

from kvartplata.receipts import pdf
from kvartplata.receipts.snapshot import sample_snapshot
from kvartplata.receipts.tests.test_pdf import (
    max_snapshot,
    overlaps,
    page_count,
    pdf_text,
    word_boxes,
)


def _compact(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


def test_it_prints_the_block_between_sections_4_and_5(tmp_path):
    s = sample_snapshot()
    text = _compact(pdf_text(pdf.render_receipt(s), tmp_path))
    block = text.index("Почему изменилась сумма: " + _compact(s["change"]["headline"]))
    assert text.index("4. Справочная информация") < block < text.index("5. Сведения")
    for cause in s["change"]["causes"]:
        assert "— " + _compact(cause) in text


def test_it_shortens_the_block_to_keep_a_one_sheet_receipt_on_one_sheet(tmp_path):
    s = sample_snapshot()
    long = s["change"]["causes"][2]
    s["change"]["causes"] = [f"Услуга {n}: +{n},00\u00a0₽ — {long} {long}" for n in range(1, 6)]
    data = pdf.render_receipt(s)
    assert page_count(data, tmp_path) == 1
    for page in word_boxes(data, tmp_path):
        assert overlaps(page) == []
    text = _compact(pdf_text(data, tmp_path))
    # The services' changes without their causes, then the sections that follow, whole.
    assert "Услуга 1: +1,00 ₽; Услуга 2: +2,00 ₽; Услуга 3: +3,00 ₽" in text
    assert "поверьте счётчик" not in text
    assert "6. Расчёт суммы к оплате" in text


def test_it_prints_the_block_whole_on_a_receipt_of_several_sheets(tmp_path):
    s = max_snapshot()
    s["change"] = copy.deepcopy(sample_snapshot()["change"])
    data = pdf.render_receipt(s)
    assert page_count(data, tmp_path) == 2
    for page in word_boxes(data, tmp_path):
        assert overlaps(page) == []
    text = _compact(pdf_text(data, tmp_path))
    for cause in s["change"]["causes"]:
        assert _compact(cause) in text


def test_it_prints_no_block_without_the_field(tmp_path):
    s = copy.deepcopy(sample_snapshot())
    del s["change"]
    assert "Почему изменилась сумма" not in pdf_text(pdf.render_receipt(s), tmp_path)


def test_it_prints_a_cause_naming_many_recalculations_whole(tmp_path):
    # A service recalculated for several earlier months: its cause runs past 500 characters.
    s = max_snapshot()
    recalculations = "; ".join(
        f"перерасчёт за {month} 2026 (Электроснабжение: поступили показания, перерасчёт "
        f"начисления по среднему/нормативу за {month} 2026): +472,18\u00a0₽"
        for month in ("июль", "август", "сентябрь", "октябрь")
    )
    cause = f"Электроснабжение: +1\u00a0291,78\u00a0₽ — расход 110,660 кВт·ч; {recalculations}"
    assert len(cause) > 500
    s["change"] = {"headline": "Сумма выросла на 1\u00a0291,78\u00a0₽", "causes": [cause]}
    data = pdf.render_receipt(s)
    for page in word_boxes(data, tmp_path):
        assert overlaps(page) == []
    assert _compact(cause) in _compact(pdf_text(data, tmp_path))


def test_it_lays_out_sections_1_to_4_once_while_fitting_the_block(monkeypatch, tmp_path):
    # The block is shortened (three tries of what follows section 4): the QR codes and the
    # calculation table above it are not laid out again for each try.
    s = sample_snapshot()
    long = s["change"]["causes"][2]
    s["change"]["causes"] = [f"Услуга {n}: +{n},00\u00a0₽ — {long} {long}" for n in range(1, 6)]
    calls = {"section2": 0, "rest": 0}
    section2, rest = pdf._section2, pdf._layout_rest

    def counted_section2(*args):
        calls["section2"] += 1
        return section2(*args)

    def counted_rest(*args):
        calls["rest"] += 1
        return rest(*args)

    monkeypatch.setattr(pdf, "_section2", counted_section2)
    monkeypatch.setattr(pdf, "_layout_rest", counted_rest)
    data = pdf.render_receipt(s)
    assert page_count(data, tmp_path) == 1
    assert calls == {"section2": 1, "rest": 2}  # the whole block, then the short one fits
