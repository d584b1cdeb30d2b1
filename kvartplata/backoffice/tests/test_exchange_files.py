"""Reading exchange files: whole-file refusals with a clear message, before any line is checked."""

import datetime
import io
import zipfile
from decimal import Decimal

import pytest

from kvartplata.backoffice.exchange import files
from kvartplata.backoffice.exchange.files import FileRefused, csv_chunks, read_workbook
from kvartplata.backoffice.exchange.services import registry_import
from kvartplata.backoffice.tests.exchange_helpers import (
    SWITCH,
    csv_zip,
    edit,
    organization,
    tables,
    xlsx,
)
from kvartplata.registry.models import PersonalAccount


def zipped(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buf.getvalue()


def csv_members(data, encoding="utf-8") -> dict[str, bytes]:
    return {
        f"{name}.csv": b"".join(csv_chunks(columns, rows)).decode().encode(encoding)
        for name, (columns, rows) in data.items()
    }


def test_it_reads_windows_1251_and_semicolons():
    data = tables(accounts=2)
    members = csv_members(data, "cp1251")
    members["accounts.csv"] = members["accounts.csv"].replace(b",", b";")
    result = read_workbook(zipped(members))
    assert result["accounts"][0][1]["holder_last_name"] == data["accounts"][1][0][5]
    assert result["accounts"][0][0] == 2


def test_it_takes_off_the_apostrophe_an_export_puts_before_a_formula():
    data = tables(accounts=1)
    columns, rows = data["accounts"]
    rows[0][6] = "'=HYPERLINK(1)"
    assert read_workbook(xlsx(data))["accounts"][0][1]["holder_first_name"] == "=HYPERLINK(1)"


def test_it_refuses_utf16():
    members = csv_members(tables(accounts=1))
    members["buildings.csv"] = members["buildings.csv"].decode().encode("utf-16")
    with pytest.raises(FileRefused, match="похоже на UTF-16"):
        read_workbook(zipped(members))


def test_it_refuses_a_missing_sheet():
    data = tables(accounts=1)
    del data["meters"]
    with pytest.raises(FileRefused, match="В книге нет листа «meters» \\(приборы учёта\\)"):
        read_workbook(xlsx(data))


def test_it_refuses_a_missing_csv_file():
    members = csv_members(tables(accounts=1))
    del members["premises.csv"]
    with pytest.raises(FileRefused, match="Нет файла premises.csv"):
        read_workbook(zipped(members))


def test_it_refuses_a_renamed_column():
    data = tables(accounts=1)
    columns, rows = data["accounts"]
    data["accounts"] = (tuple("holder" if c == "holder_last_name" else c for c in columns), rows)
    with pytest.raises(FileRefused, match="Лист accounts: неизвестная колонка «holder»"):
        read_workbook(xlsx(data))


def test_it_refuses_a_missing_required_column():
    data = tables(accounts=1)
    columns, rows = data["opening_balances"]
    data["opening_balances"] = (columns[:-1], [r[:-1] for r in rows])
    with pytest.raises(FileRefused, match="нет колонки «amount»"):
        read_workbook(xlsx(data))


def test_it_refuses_a_file_over_the_size_limit(monkeypatch):
    monkeypatch.setattr(files, "MAX_FILE_BYTES", 1000)
    with pytest.raises(FileRefused, match="Файл слишком большой"):
        read_workbook(xlsx(tables(accounts=5)))


def test_it_refuses_a_zip_bomb_before_unpacking_it():
    bomb = zipped({"xl/workbook.xml": b"<x/>", "xl/worksheets/sheet1.xml": b"0" * 50_000_000})
    assert len(bomb) < 100_000
    with pytest.raises(FileRefused, match="распаковывается в слишком большой объём"):
        read_workbook(bomb)


def test_it_refuses_what_is_neither_a_workbook_nor_an_archive():
    with pytest.raises(FileRefused, match="не похож ни на книгу XLSX"):
        read_workbook(b"number,city\n1,2\n")


def test_it_refuses_a_broken_archive():
    with pytest.raises(FileRefused, match="повреждён"):
        read_workbook(b"PK\x03\x04broken")


@pytest.mark.django_db
def test_it_reports_a_refused_file_and_writes_nothing():
    org = organization()
    members = csv_members(tables(accounts=2))
    del members["accounts.csv"]
    report = registry_import(organization=org, source=zipped(members), switch_month=SWITCH)
    assert report.error == "Нет файла accounts.csv (лицевые счета)."
    assert not report.ok and not report.written
    assert not PersonalAccount.objects.exists()


@pytest.mark.django_db
def test_it_reads_a_directory_of_csv_files(tmp_path):
    with zipfile.ZipFile(io.BytesIO(csv_zip(tables(accounts=2)))) as archive:
        archive.extractall(tmp_path)
    report = registry_import(organization=organization(), source=tmp_path, switch_month=SWITCH)
    assert report.ok, report.as_text()
    assert PersonalAccount.objects.count() == 2


def test_it_numbers_lines_as_the_spreadsheet_shows_them_below_empty_rows():
    data = tables(accounts=2)
    columns, rows = data["accounts"]
    data["accounts"] = (("",), [[""], list(columns), *rows])  # header on line 3
    result = read_workbook(xlsx(data))["accounts"]
    assert [line for line, _row in result] == [4, 5]
    assert result[0][1]["number"] == rows[0][0]


def test_it_keeps_a_workbook_row_as_a_list_read_by_column():
    row = read_workbook(xlsx(tables(accounts=1)))["accounts"][0][1]
    assert "holder_phone" in row and "nonsense" not in row
    assert row.get("holder_phone") == "" and row.get("nonsense", "-") == "-"


def test_it_refuses_a_csv_it_cannot_parse():
    members = csv_members(tables(accounts=1))
    members["accounts.csv"] += b'1,"' + b"x" * 200_000 + b'"\r\n'
    with pytest.raises(FileRefused, match="accounts.csv не читается как CSV"):
        read_workbook(zipped(members))


def test_it_refuses_a_workbook_member_that_is_damaged():
    content = bytearray(xlsx(tables(accounts=3)))
    with zipfile.ZipFile(io.BytesIO(bytes(content))) as archive:
        info = archive.getinfo("xl/worksheets/sheet4.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for i in range(start + 10, start + 40):
        content[i] ^= 0xFF  # the compressed data of the accounts sheet, damaged
    with pytest.raises(FileRefused, match="повреждена|повреждён"):
        read_workbook(bytes(content))


def test_it_refuses_an_archive_with_a_damaged_csv():
    content = bytearray(csv_zip(tables(accounts=3)))
    with zipfile.ZipFile(io.BytesIO(bytes(content))) as archive:
        info = archive.getinfo("accounts.csv")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for i in range(start + 10, start + 40):
        content[i] ^= 0xFF
    with pytest.raises(FileRefused, match="Архив повреждён \\(accounts.csv\\)"):
        read_workbook(bytes(content))


def spreadsheet_xlsx(data: dict) -> bytes:
    """The tables as a spreadsheet program saves them: shared strings, numbers as numbers, dates
    as date-formatted serial numbers, a formula with its cached value (xlsxwriter)."""
    import xlsxwriter

    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_numbers": False})
    day = book.add_format({"num_format": "dd.mm.yyyy"})
    for name, (columns, rows) in data.items():
        sheet = book.add_worksheet(name)
        sheet.write_row(0, 0, columns)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row):
                column = columns[c]
                if value == "":
                    continue
                if column.endswith("_on") and len(value) == 10:
                    sheet.write_datetime(r, c, datetime.datetime.fromisoformat(value), day)
                elif column in ("residents", "total_area", "amount", "floors"):
                    sheet.write_number(r, c, float(value))
                elif column == "holder_phone":
                    sheet.write_formula(r, c, '="+7 " & "900"', None, "+7 900")
                else:
                    sheet.write_string(r, c, value)
    book.close()
    return buf.getvalue()


@pytest.mark.django_db
def test_it_reads_a_workbook_as_a_spreadsheet_program_saves_it():
    data = tables(accounts=2)
    data = edit(data, "accounts", 0, "holder_phone", "x")
    data = edit(data, "accounts", 1, "holder_last_name", "Тест & <Ко>")
    workbook = read_workbook(spreadsheet_xlsx(data))
    accounts = workbook["accounts"]
    first, second = accounts[0][1], accounts[1][1]
    assert [line for line, _ in accounts] == [2, 3]
    assert first["opened_on"] == "2019-03-01"  # a date-formatted number
    assert first["residents"] == data["accounts"][1][0][9]  # 2.0 → "2"
    assert first["holder_phone"] == "+7 900"  # a formula's cached value
    assert second["holder_last_name"] == "Тест & <Ко>"  # a shared string, unescaped
    balances = workbook["opening_balances"]
    assert Decimal(balances[0][1]["amount"]) == Decimal(data["opening_balances"][1][0][3])
    report = registry_import(
        organization=organization(), source=spreadsheet_xlsx(data), switch_month=SWITCH
    )
    assert report.ok, report.as_text()
    assert PersonalAccount.objects.get(number=first["number"]).holder_phone == "+7 900"


def test_it_refuses_a_csv_in_neither_utf8_nor_windows_1251():
    members = csv_members(tables(accounts=1), "cp1251")
    members["accounts.csv"] += b"\x98\r\n"  # not a character in windows-1251 either
    with pytest.raises(FileRefused, match="accounts.csv: кодировка не UTF-8 и не windows-1251"):
        read_workbook(zipped(members))


@pytest.mark.parametrize("write", [files.write_xlsx, files.write_csv_zip])
def test_it_writes_a_sheet_of_several_chunks_as_its_rows_come(write):
    data = tables(accounts=1)
    columns, (first, *_rest) = data["accounts"]
    count = 2 * files.CHUNK_ROWS + 7
    numbers = [f"{n:010d}" for n in range(1, count + 1)]
    # The rows as an iterator, as the export gives them: consumed once, never a list.
    data["accounts"] = (columns, ([number, *first[1:]] for number in numbers))
    buf = io.BytesIO()
    write(data, buf)
    lines = read_workbook(buf.getvalue(), f"x.{'xlsx' if write is files.write_xlsx else 'zip'}")
    assert [row["number"] for _line, row in lines["accounts"]] == numbers
    assert [line for line, _row in lines["accounts"]][-1] == count + 1  # the header is line 1
