"""CSV import with a per-line report, and export in the same format."""

from datetime import date

from kvartplata.meters.imports import readings_export, readings_import
from kvartplata.meters.models import Reading

TODAY = date(2026, 11, 20)
NOV = date(2026, 11, 1)
HEADER = "account;serial_number;month;value1;value2;value3;confirm\n"


def load(world, text, encoding="utf-8"):
    return readings_import(
        organization=world.organization,
        content=text.encode(encoding),
        user=world.staff,
        today=TODAY,
    )


def test_it_accepts_good_lines_and_reports_refused_ones_with_reasons(world):
    report = load(
        world,
        HEADER
        + "1000015;CW-1;2026-11;135,5;;;\n"
        + "1000015;EL-1;11.2026;1390;680;;\n"
        + "1000015;HW-1;2026-11;10;;;\n"
        + "1000015;XX-9;2026-11;1;;;\n"
        + "1000016;CW-2;2026-13;20;;;\n"
        + "1000016;CW-2;2026-11;abc;;;\n"
        + "1000016;CW-2;2026-11;500;;;\n"
        + "\n"
        + "1000016;CW-1;2026-11;140;;;\n",
    )
    assert [r.line for r in report.accepted] == [2, 3]
    reasons = {r.line: r.message for r in report.refused}
    assert "Показания меньше предыдущих (65 м³ за октябрь 2026)" in reasons[4]
    assert reasons[5] == "Прибор с таким номером не найден у этого лицевого счёта."
    assert reasons[6].startswith("Неверный период «2026-13»")
    assert "Введите число цифрами" in reasons[7]
    assert "больше среднего" in reasons[8]
    assert reasons[10] == "Прибор с таким номером не найден у этого лицевого счёта."
    assert Reading.objects.get(meter=world.cold, month=NOV).source == Reading.Source.IMPORT
    text = report.as_text()
    assert "Принято строк: 2, отклонено: 6." in text
    assert "Строка 4 (ЛС 1000015, прибор HW-1): Показания меньше предыдущих" in text


def test_it_takes_a_confirmed_high_consumption(world):
    report = load(world, HEADER + "1000016;CW-2;2026-11;500;;;да\n")
    assert len(report.accepted) == 1
    assert Reading.objects.get(meter=world.other_meter, month=NOV).confirmed_high


def test_it_books_a_closed_month_into_the_open_one(world):
    report = load(world, HEADER + "1000015;CW-1;2026-10;135;;;\n")
    assert "Расчётный период октябрь 2026 уже закрыт" in report.accepted[0].message
    assert Reading.objects.filter(meter=world.cold, month=NOV, source="import").exists()


def test_it_reads_windows_1251(world):
    report = load(
        world,
        HEADER.replace("confirm", "примечание") + "1000015;CW-1;2026-11;135;;;тест\n",
        "cp1251",
    )
    assert len(report.accepted) == 1


def test_it_refuses_a_file_without_the_needed_columns(world):
    report = load(world, "ЛС;прибор\n1;2\n")
    assert report.error.startswith(
        "В заголовке нет столбцов: account, serial_number, month, value1"
    )
    assert load(world, "").error.startswith("Файл пуст")


def test_it_does_not_touch_other_organizations(world):
    from kvartplata.registry.models import Organization

    from .conftest import BANK

    other = Organization.objects.create(name="Другая", short_name="Другая", address="-", **BANK)
    report = readings_import(
        organization=other,
        content=(HEADER + "1000015;CW-1;2026-11;135;;;\n").encode(),
        user=None,
        today=TODAY,
    )
    assert len(report.refused) == 1


def test_it_exports_what_it_can_load_back(world):
    load(world, HEADER + "1000015;CW-1;2026-11;135,5;;;\n1000015;EL-1;2026-11;1390;680;;\n")
    text = readings_export(organization=world.organization, month=NOV)
    lines = text.splitlines()
    assert lines[0] == HEADER.strip()
    assert "1000015;CW-1;2026-11;135,5;;;" in lines
    assert "1000015;EL-1;2026-11;1390;680;;" in lines
    again = readings_import(
        organization=world.organization, content=text.encode(), user=None, today=TODAY
    )
    assert len(again.accepted) == 2 and not again.refused
