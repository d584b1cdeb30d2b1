"""Reading and writing the exchange files: an XLSX workbook or a set of CSV files (a ZIP).

Every way a file can be unreadable ends in `FileRefused` with a Russian message: too large, a
ZIP that would expand past a limit (an «XLSX bomb»), an unknown encoding, a missing sheet or
column, an unknown column. Nothing is read into the database before the whole file is read.

XLSX is read with python-calamine (Rust): many times faster than openpyxl's read-only mode on the
same workbook (figures in docs/registry-format.md). It is written by a small writer here:
inline strings only, so that what is exported reads back the same text and a round trip gives
identical bytes.
"""

import csv
import datetime
import io
import sys
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

from kvartplata.backoffice.exchange.fileformat import SHEETS, Sheet
from kvartplata.lib.exports import unquote_cell

# Limits: the uploaded file, what it expands to, and how much one member may expand.
MAX_FILE_BYTES = 150 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 600 * 1024 * 1024
MAX_RATIO = 200
ENCODINGS = ("utf-8-sig", "cp1251")


class FileRefused(Exception):
    """The file as a whole cannot be read; the message is for the operator (Russian)."""


class Row:
    """One line of a sheet: its cells as a list, read by column name like a dict.

    A list and a shared column index instead of a dict per line: a third of the memory on a
    300 000-line sheet.
    """

    __slots__ = ("_index", "_values")

    def __init__(self, index: dict[str, int], values: list[str]):
        self._index = index
        self._values = values

    def __getitem__(self, column: str) -> str:
        return self._values[self._index[column]]

    def get(self, column: str, default: str = "") -> str:
        i = self._index.get(column)
        return default if i is None else self._values[i]

    def __contains__(self, column: str) -> bool:
        return column in self._index


Rows = list[tuple[int, Row]]  # (line number in the sheet, the line)


def read_workbook(source: bytes | str | Path, filename: str = "") -> dict[str, Rows]:
    """All sheets of a file: XLSX, ZIP of CSV files, or a directory of CSV files."""
    if isinstance(source, (str, Path)) and Path(source).is_dir():
        return _read_csv_set({p.name: p.read_bytes() for p in Path(source).glob("*.csv")})
    if isinstance(source, (str, Path)):
        path = Path(source)
        filename = filename or path.name
        if not path.exists():
            raise FileRefused(f"Файл {path} не найден.")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise FileRefused(too_large(path.stat().st_size))
        content = path.read_bytes()
    else:
        content = source
    if len(content) > MAX_FILE_BYTES:
        raise FileRefused(too_large(len(content)))
    if not content.startswith(b"PK"):
        raise FileRefused(
            "Файл не похож ни на книгу XLSX, ни на ZIP-архив с файлами CSV"
            f"{f' ({filename})' if filename else ''}."
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile as exc:
        raise FileRefused("Файл повреждён: архив ZIP не читается.") from exc
    with archive:
        _check_expansion(archive)
        names = archive.namelist()
        if "xl/workbook.xml" in names:
            _check_members(archive)
            return _read_xlsx(content)
        csvs = {}
        for info in archive.infolist():
            if info.is_dir() or not info.filename.lower().endswith(".csv"):
                continue
            try:
                with archive.open(info) as member:
                    data = member.read(MAX_UNCOMPRESSED_BYTES + 1)
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
                raise FileRefused(f"Архив повреждён ({info.filename}): {exc}") from exc
            if len(data) > info.file_size or len(data) > MAX_UNCOMPRESSED_BYTES:
                raise FileRefused("Архив повреждён: размер файла в нём не совпадает с заявленным.")
            csvs[Path(info.filename).name] = data
        return _read_csv_set(csvs)


def too_large(size: int) -> str:
    return (
        f"Файл слишком большой: {size / 1024 / 1024:.0f} МБ при пределе "
        f"{MAX_FILE_BYTES // 1024 // 1024} МБ. Разбейте его на части по домам."
    )


def _check_expansion(archive: zipfile.ZipFile) -> None:
    """Refuse a ZIP that would expand past the limits, before anything of it is unpacked."""
    total = 0
    for info in archive.infolist():
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if total > MAX_UNCOMPRESSED_BYTES or (info.file_size > 1024 * 1024 and ratio > MAX_RATIO):
            raise FileRefused(
                "Архив распаковывается в слишком большой объём "
                f"(более {MAX_UNCOMPRESSED_BYTES // 1024 // 1024} МБ или сжатие более "
                f"{MAX_RATIO}×): файл не загружен."
            )


def _check_members(archive: zipfile.ZipFile) -> None:
    """Unpack every member as a stream, counting: sizes that lie in the archive's directory (a
    crafted bomb) or a damaged member are refused before the workbook reader unpacks them."""
    for info in archive.infolist():
        size = 0
        try:
            with archive.open(info) as member:
                while chunk := member.read(1024 * 1024):
                    size += len(chunk)
                    if size > info.file_size:
                        raise FileRefused(
                            "Архив повреждён: размер файла в нём не совпадает с заявленным."
                        )
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise FileRefused(f"Книга XLSX повреждена ({info.filename}): {exc}") from exc


def _decode(data: bytes, name: str) -> str:
    if b"\x00" in data[:4096]:
        raise FileRefused(
            f"Файл {name}: кодировка не UTF-8 и не windows-1251 (похоже на UTF-16). "
            "Сохраните его как CSV UTF-8."
        )
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileRefused(f"Файл {name}: кодировка не UTF-8 и не windows-1251.")


def _read_csv_set(files: dict[str, bytes]) -> dict[str, Rows]:
    tables = {}
    for sheet in SHEETS:
        data = files.get(f"{sheet.name}.csv")
        if data is None:
            raise FileRefused(f"Нет файла {sheet.name}.csv ({sheet.title}).")
        text = _decode(data, f"{sheet.name}.csv")
        first = text.split("\n", 1)[0]
        delimiter = ";" if first.count(";") > first.count(",") else ","
        rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            tables[sheet.name] = _table(sheet, rows, f"файл {sheet.name}.csv")
        except csv.Error as exc:
            raise FileRefused(
                f"Файл {sheet.name}.csv не читается как CSV (строка {rows.line_num}): {exc}"
            ) from exc
    return tables


def _read_xlsx(content: bytes) -> dict[str, Rows]:
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
        names = set(workbook.sheet_names)
        tables = {}
        for sheet in SHEETS:
            if sheet.name not in names:
                raise FileRefused(f"В книге нет листа «{sheet.name}» ({sheet.title}).")
            # Rows from A1 (empty ones included), so line numbers are those Excel shows.
            rows = workbook.get_sheet_by_name(sheet.name).iter_rows()
            tables[sheet.name] = _table(sheet, rows, f"лист {sheet.name}", _cell_text)
        return tables
    except (CalamineError, ValueError, OverflowError) as exc:
        raise FileRefused(f"Книга XLSX не читается: {exc}") from exc


def _cell_text(value) -> str:
    """A cell as the text the checks parse: numbers without a float tail, dates in ISO."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(Decimal(repr(value)))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, (datetime.date, int)):
        return str(value) if isinstance(value, int) else value.isoformat()
    return str(value)


def _table(sheet: Sheet, rows, where: str, text=str) -> Rows:
    rows = iter(rows)
    first_line = 1
    first = next(rows, None)
    while first is not None and not any(text(c).strip() for c in first):
        first, first_line = next(rows, None), first_line + 1  # empty lines above the header
    if first is None:
        raise FileRefused(f"{where.capitalize()}: нет строки заголовка.")
    header = [text(h).strip().lower() for h in first]
    while header and not header[-1]:
        header.pop()
    unknown = [h for h in header if h and h not in sheet.columns]
    if unknown:
        raise FileRefused(
            f"{where.capitalize()}: неизвестная колонка «{unknown[0]}». "
            f"Ожидаются: {', '.join(sheet.columns)}."
        )
    missing = [c for c in sheet.required if c not in header]
    if missing:
        raise FileRefused(f"{where.capitalize()}: нет колонки «{missing[0]}».")
    named = [h for h in header if h]
    if len(set(named)) != len(named):
        raise FileRefused(f"{where.capitalize()}: колонка повторяется в заголовке.")
    result = []
    width = len(header)
    index = {c: i for i, c in enumerate(header) if c}
    intern, strip, quote = sys.intern, str.strip, "'"
    for number, row in enumerate(rows, start=first_line + 1):
        values = list(map(strip, map(text, row[:width])))
        if not any(values):
            continue
        if len(values) < width:
            values += [""] * (width - len(values))
        if quote in "".join(values):
            values = [unquote_cell(v) for v in values]
        # Short values repeat (dates, resources, counts): one string object each.
        values = [intern(v) if len(v) < 12 else v for v in values]
        result.append((number, Row(index, values)))
    return result


# --- writing -----------------------------------------------------------------------------------

ZIP_DATE = (2000, 1, 1, 0, 0, 0)  # fixed member dates: the same data gives the same bytes


def _member(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def csv_bytes(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def write_csv_zip(tables: dict[str, tuple[Sequence[str], list]], target) -> None:
    """Sheets as CSV files (UTF-8) in a ZIP archive, in the order given."""
    with zipfile.ZipFile(target, "w") as archive:
        for name, (columns, rows) in tables.items():
            _member(archive, f"{name}.csv", csv_bytes(columns, rows))


def _col(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _sheet_xml(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    parts = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        "<sheetData>"
    ]
    for r, row in enumerate([columns, *rows], start=1):
        cells = "".join(
            f'<c r="{_col(i)}{r}" t="inlineStr"><is><t xml:space="preserve">'
            f"{escape(str(v))}</t></is></c>"
            for i, v in enumerate(row)
            if v not in ("", None)
        )
        parts.append(f'<row r="{r}">{cells}</row>')
    parts.append("</sheetData></worksheet>")
    return "".join(parts).encode("utf-8")


def write_xlsx(tables: dict[str, tuple[Sequence[str], list]], target) -> None:
    """A minimal XLSX workbook: one sheet per table, every cell an inline string."""
    names = list(tables)
    ns = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    content_types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        + "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for i in range(1, len(names) + 1)
        )
        + "</Types>"
    )
    root_rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{ns}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    )
    workbook = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'xmlns:r="{ns}"><sheets>'
        + "".join(
            f'<sheet name="{n}" sheetId="{i}" r:id="rId{i}"/>' for i, n in enumerate(names, 1)
        )
        + "</sheets></workbook>"
    )
    workbook_rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + "".join(
            f'<Relationship Id="rId{i}" Type="{ns}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, len(names) + 1)
        )
        + "</Relationships>"
    )
    with zipfile.ZipFile(target, "w") as archive:
        _member(archive, "[Content_Types].xml", content_types.encode())
        _member(archive, "_rels/.rels", root_rels.encode())
        _member(archive, "xl/workbook.xml", workbook.encode())
        _member(archive, "xl/_rels/workbook.xml.rels", workbook_rels.encode())
        for i, (columns, rows) in enumerate(tables.values(), 1):
            _member(archive, f"xl/worksheets/sheet{i}.xml", _sheet_xml(columns, rows))


def write_tables(tables: dict[str, tuple[Sequence[str], list]], path: str | Path) -> None:
    """Write by the name: `.xlsx` a workbook, `.zip` CSV files, otherwise a directory of CSV."""
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        write_xlsx(tables, path)
    elif path.suffix.lower() == ".zip":
        write_csv_zip(tables, path)
    else:
        path.mkdir(parents=True, exist_ok=True)
        for name, (columns, rows) in tables.items():
            (path / f"{name}.csv").write_bytes(csv_bytes(columns, rows))
