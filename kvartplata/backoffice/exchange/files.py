"""Reading and writing the exchange files: an XLSX workbook or a set of CSV files (a ZIP).

Every way a file can be unreadable ends in `FileRefused` with a Russian message: too large, a
ZIP that would expand past a limit (an «XLSX bomb»), an unknown encoding, a missing sheet or
column, an unknown column, a CSV that does not parse — all found when the file is opened
(`read_workbook`), before any line is checked.

The lines are then streamed one sheet at a time (`Workbook.rows`), so that memory does not grow
with the file: an XLSX sheet's XML is read as a stream and cut into rows (below), a CSV file is
decoded as a stream. XLSX is written by a small writer here: inline strings only, so that what
is exported reads back the same text and a round trip gives identical bytes.
"""

import codecs
import csv
import datetime
import html
import io
import itertools
import math
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
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

    @property
    def values(self) -> list[str]:
        """The cells in the order of the sheet's header (`Workbook.header` gives the index)."""
        return self._values


Rows = Iterator[tuple[int, Row]]  # (line number in the sheet, the line)


class Workbook:
    """A file's sheets, read one at a time and streamed line by line (bounded memory).

    Everything that refuses the file as a whole (size, ZIP bomb, damage, encoding, a sheet or
    column missing, a CSV that does not parse) is found when the file is opened, by
    `read_workbook`; reading the lines afterwards only gives them. `wb[name]` is the sheet's
    lines as a list (for tests and small files).
    """

    def __init__(self, sheets: dict, close=lambda: None):
        self._sheets = sheets  # name → () → iterator of (line number, cells)
        self._index: dict[str, dict[str, int]] = {}
        self.close = close

    def header(self, name: str) -> dict[str, int]:
        return self._index[name]

    def rows(self, name: str) -> Rows:
        """The sheet's non-empty lines after its header, each a `Row`, with the line number a
        spreadsheet shows."""
        lines = self._sheets[name]()
        index, width, header_line = self._index[name], self._width[name], self._header_line[name]
        for number, cells in lines:
            if number <= header_line:
                continue
            values = list(map(str.strip, cells[:width]))
            if not any(values):
                continue
            if len(values) < width:
                values += [""] * (width - len(values))
            if "'" in "".join(values):
                values = [unquote_cell(v) for v in values]
            yield number, Row(index, values)

    def __getitem__(self, name: str) -> list[tuple[int, Row]]:
        return list(self.rows(name))

    def check_headers(self) -> None:
        self._width, self._header_line = {}, {}
        for sheet in SHEETS:
            where = self._where(sheet)
            lines = self._sheets[sheet.name]()
            first = None
            for number, cells in lines:
                if any(c.strip() for c in cells):
                    first = (number, cells)
                    break  # empty lines above the header are skipped
            lines.close() if hasattr(lines, "close") else None
            if first is None:
                raise FileRefused(f"{where.capitalize()}: нет строки заголовка.")
            header = [h.strip().lower() for h in first[1]]
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
            self._index[sheet.name] = {c: i for i, c in enumerate(header) if c}
            self._width[sheet.name] = len(header)
            self._header_line[sheet.name] = first[0]

    def _where(self, sheet: Sheet) -> str:
        return getattr(self, "where", "лист") + f" {sheet.name}" + getattr(self, "suffix", "")


def read_workbook(source: bytes | str | Path, filename: str = "") -> Workbook:
    """A file's sheets: an XLSX workbook, a ZIP of CSV files, or a directory of CSV files.

    Raises `FileRefused` for a file that cannot be read as a whole; the lines are read later,
    one sheet at a time (`Workbook.rows`).
    """
    if isinstance(source, (str, Path)) and Path(source).is_dir():
        members = {p.name: p for p in Path(source).glob("*.csv")}
        return _csv_workbook({n: (lambda p=p: open(p, "rb")) for n, p in members.items()})
    if isinstance(source, (str, Path)):
        path = Path(source)
        filename = filename or path.name
        if not path.exists():
            raise FileRefused(f"Файл {path} не найден.")
        size = path.stat().st_size
        with open(path, "rb") as f:
            magic = f.read(2)
    else:
        path, size, magic = None, len(source), source[:2]
    if size > MAX_FILE_BYTES:
        raise FileRefused(too_large(size))
    if magic != b"PK":
        raise FileRefused(
            "Файл не похож ни на книгу XLSX, ни на ZIP-архив с файлами CSV"
            f"{f' ({filename})' if filename else ''}."
        )
    try:
        archive = zipfile.ZipFile(path if path is not None else io.BytesIO(source))
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileRefused("Файл повреждён: архив ZIP не читается.") from exc
    try:
        _check_expansion(archive)
        names = archive.namelist()
        if "xl/workbook.xml" in names:
            _check_members(archive, "Книга XLSX повреждена")
            workbook = _xlsx_workbook(archive)
        else:
            _check_members(archive, "Архив повреждён")
            members = {
                Path(info.filename).name: (lambda info=info: archive.open(info))
                for info in archive.infolist()
                if not info.is_dir() and info.filename.lower().endswith(".csv")
            }
            workbook = _csv_workbook(members)
    except BaseException:
        archive.close()
        raise
    workbook.close = archive.close
    return workbook


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


def _check_members(archive: zipfile.ZipFile, damaged: str) -> None:
    """Unpack every member as a stream, counting: sizes that lie in the archive's directory (a
    crafted bomb) or a damaged member are refused before any line is read."""
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
            raise FileRefused(f"{damaged} ({info.filename}): {exc}") from exc


# --- CSV ---------------------------------------------------------------------------------------


def _encoding(opener, name: str) -> str:
    """UTF-8 (with or without BOM) or windows-1251, decided over the whole file as a stream."""
    with opener() as stream:
        head = stream.read(4096)
    if b"\x00" in head:
        raise FileRefused(
            f"Файл {name}: кодировка не UTF-8 и не windows-1251 (похоже на UTF-16). "
            "Сохраните его как CSV UTF-8."
        )
    for encoding in ENCODINGS:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with opener() as stream:
                while chunk := stream.read(1024 * 1024):
                    decoder.decode(chunk)
            decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError:
            continue
    raise FileRefused(f"Файл {name}: кодировка не UTF-8 и не windows-1251.")


def _csv_lines(opener, encoding: str, name: str):
    with opener() as stream:
        text = io.TextIOWrapper(stream, encoding=encoding, newline="")
        first = text.readline()
        delimiter = ";" if first.count(";") > first.count(",") else ","
        rows = csv.reader(itertools.chain([first], text), delimiter=delimiter)
        try:
            yield from enumerate(rows, start=1)
        except csv.Error as exc:
            raise FileRefused(
                f"Файл {name} не читается как CSV (строка {rows.line_num}): {exc}"
            ) from exc


def _csv_workbook(members: dict) -> Workbook:
    sheets = {}
    for sheet in SHEETS:
        name = f"{sheet.name}.csv"
        opener = members.get(name)
        if opener is None:
            raise FileRefused(f"Нет файла {name} ({sheet.title}).")
        encoding = _encoding(opener, name)
        sheets[sheet.name] = lambda o=opener, e=encoding, n=name: _csv_lines(o, e, n)
    workbook = Workbook(sheets)
    workbook.where, workbook.suffix = "файл", ".csv"
    workbook.check_headers()
    for sheet in SHEETS:  # the whole text parses as CSV (nothing is kept)
        for _line in sheets[sheet.name]():
            pass
    return workbook


# --- XLSX --------------------------------------------------------------------------------------
#
# A sheet's XML is read as a stream, cut at each </row>, and the row's cells are taken by regular
# expressions (what spreadsheets write is regular: <c r= s= t=><v>…</v></c>, or an inline
# <is><t>…</t></is>; shared strings, date styles and the 1904 date system are honoured).
# python-calamine, used before, builds a whole sheet in memory (≈ 400 MB of peak for 300 000
# meters), and the standard library's XML pull parser is several times slower than this on the
# same sheet; see docs/registry-format.md.

_P = r"(?:[\w.-]+:)?"  # an optional namespace prefix
_ROW_CLOSE = re.compile(rf"</({_P}row)\s*>")
_CELL = re.compile(rf"<{_P}c\b([^>]*?)(?:/>|>(.*?)</{_P}c\s*>)", re.S)
_VALUE = re.compile(rf"<{_P}v\s*>([^<]*)<", re.S)
_TEXT = re.compile(rf"<{_P}t\b[^>]*?(?:/>|>([^<]*)<)", re.S)
_PHONETIC = re.compile(rf"<{_P}rPh\b.*?</{_P}rPh\s*>", re.S)
_SI = re.compile(rf"<{_P}si\b[^>]*?(?:/>|>(.*?)</{_P}si\s*>)", re.S)
_REF = re.compile(r"""(?:^|\s)r\s*=\s*["']([A-Za-z]*)(\d*)["']""")
_TYPE = re.compile(r"""(?:^|\s)t\s*=\s*["'](\w+)["']""")
_STYLE = re.compile(r"""(?:^|\s)s\s*=\s*["'](\d+)["']""")
_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
# The common spelling of a cell (Excel, LibreOffice, xlsxwriter and our writer: attributes r, s,
# t in this order; a value or an inline string): a whole row in one `findall`.
_FAST_CELL = re.compile(
    r'<c(?: r="([A-Z]{1,3})\d+")?(?: s="(\d+)")?(?: t="(\w+)")?\s*'
    r'(?:/>|>(?:<is><t(?: xml:space="preserve")?>([^<]*)</t></is>|<v>([^<]*)</v>)?</c>)'
)
_DATE_FORMATS = {14, 15, 16, 17, 18, 19, 20, 21, 22, 45, 46, 47}
_CHUNK = 1024 * 1024
MAX_ROW_CHARS = 10 * 1024 * 1024


def _xml_text(text: str) -> str:
    if "&" in text:
        text = html.unescape(text)
    if "_x" in text:
        text = _ESCAPE.sub(lambda m: chr(int(m[1], 16)), text)
    return text


def _elements(archive: zipfile.ZipFile, member: str, pattern: re.Pattern):
    """Matches of `pattern` in a member's XML read as a stream: only complete elements."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    with archive.open(member) as stream:
        rest = ""
        while True:
            chunk = stream.read(_CHUNK)
            text = rest + decoder.decode(chunk, final=not chunk)
            end = 0
            for match in pattern.finditer(text):
                yield match
                end = match.end()
            rest = text[end:]
            if not chunk:
                return
            if len(rest) > MAX_ROW_CHARS:
                raise FileRefused(f"Книга XLSX: строка длиннее {MAX_ROW_CHARS} знаков ({member}).")


def _sheet_rows(archive: zipfile.ZipFile, member: str):
    """(attributes, body) of each <row> of a sheet's XML, read as a stream.

    The text is cut at the row's closing tag (spelled as the file spells it, prefix included)
    with str.split: several times faster than a regular expression over 300 MB of XML.
    """
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    close = opening = None
    with archive.open(member) as stream:
        rest = ""
        while True:
            chunk = stream.read(_CHUNK)
            text = rest + decoder.decode(chunk, final=not chunk)
            if close is None:
                found = _ROW_CLOSE.search(text)
                if found is None:
                    if not chunk:
                        return  # no row at all
                    rest = text
                    continue
                close, opening = found[0], f"<{found[1]}"
            parts = text.split(close)
            rest = parts.pop()
            for part in parts:
                start = part.rfind(opening)
                end = part.find(">", start)
                if start < 0 or end < 0:
                    raise FileRefused(f"Книга XLSX повреждена: строка без начала ({member}).")
                yield part[start + len(opening) : end], part[end + 1 :]
            if not chunk:
                return
            if len(rest) > MAX_ROW_CHARS:
                raise FileRefused(f"Книга XLSX: строка длиннее {MAX_ROW_CHARS} знаков ({member}).")


def _xml(archive: zipfile.ZipFile, member: str):
    """A small part of the workbook (workbook, relationships, styles) as a tree.

    What spreadsheets write has no DTD: one is refused, so that no entity is ever expanded.
    """
    import xml.etree.ElementTree as ET  # nosec B405 - no DTD reaches the parser (above)

    data = archive.read(member)
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise FileRefused(f"Книга XLSX не читается ({member}): объявления DTD не допускаются.")
    try:
        return ET.fromstring(data)  # noqa: S314  # nosec B314 - no DTD (above)
    except ET.ParseError as exc:
        raise FileRefused(f"Книга XLSX не читается ({member}): {exc}") from exc


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _xlsx_workbook(archive: zipfile.ZipFile) -> Workbook:
    names = set(archive.namelist())
    book = _xml(archive, "xl/workbook.xml")
    date1904 = any(
        _local(e.tag) == "workbookPr" and e.get("date1904") in ("1", "true") for e in book.iter()
    )
    targets = {}
    if "xl/_rels/workbook.xml.rels" in names:
        for rel in _xml(archive, "xl/_rels/workbook.xml.rels"):
            target = rel.get("Target", "")
            target = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            targets[rel.get("Id")] = target
    sheets = {}
    for e in book.iter():
        if _local(e.tag) == "sheet":
            rid = next((v for k, v in e.attrib.items() if _local(k) == "id"), None)
            sheets[e.get("name")] = targets.get(rid)
    for sheet in SHEETS:
        if sheet.name not in sheets:
            raise FileRefused(f"В книге нет листа «{sheet.name}» ({sheet.title}).")
        if sheets[sheet.name] not in names:
            raise FileRefused(f"Книга XLSX не читается: нет части {sheets[sheet.name]}.")
    shared = _shared_strings(archive) if "xl/sharedStrings.xml" in names else []
    dates = _date_styles(archive) if "xl/styles.xml" in names else set()
    epoch = datetime.date(1904, 1, 1) if date1904 else datetime.date(1899, 12, 30)
    workbook = Workbook(
        {
            s.name: (lambda m=sheets[s.name]: _xlsx_lines(archive, m, shared, dates, epoch))
            for s in SHEETS
        }
    )
    workbook.check_headers()
    return workbook


def _shared_strings(archive) -> list[str]:
    strings = []
    for match in _elements(archive, "xl/sharedStrings.xml", _SI):
        body = match[1] or ""
        if "rPh" in body:
            body = _PHONETIC.sub("", body)
        strings.append(_xml_text("".join(t or "" for t in _TEXT.findall(body))))
    return strings


def _date_styles(archive) -> set[int]:
    """Indexes of the cell styles whose number format is a date (serial numbers → dates)."""
    styles = _xml(archive, "xl/styles.xml")
    custom = {}
    xfs = []
    for e in styles.iter():
        tag = _local(e.tag)
        if tag == "numFmt":
            custom[int(e.get("numFmtId", "0"))] = e.get("formatCode", "")
        elif tag == "cellXfs":
            xfs = [int(x.get("numFmtId", "0")) for x in e if _local(x.tag) == "xf"]

    def is_date(fmt_id: int) -> bool:
        if fmt_id in _DATE_FORMATS:
            return True
        code = custom.get(fmt_id)
        if not code:
            return False
        code = re.sub(r'"[^"]*"|\[[^\]]*\]|\\.', "", code.split(";")[0]).lower()
        return any(c in code for c in "dmy")

    return {i for i, fmt in enumerate(xfs) if is_date(fmt)}


def _column(letters: str, cache: dict) -> int:
    index = cache.get(letters)
    if index is None:
        index = 0
        for ch in letters.upper():
            index = index * 26 + ord(ch) - 64
        index = cache[letters] = index - 1
    return index


def _xlsx_lines(archive, member, shared, dates, epoch):
    """(row number, cell texts) of a sheet, streamed; empty rows are skipped."""
    columns: dict[str, int] = {}
    number = 0
    for attrs, body in _sheet_rows(archive, member):
        ref = _REF.search(attrs)
        number = int(ref[2]) if ref and ref[2] else number + 1
        if not body:
            continue
        found = _FAST_CELL.findall(body)
        if len(found) == body.count("<c"):
            values = _fast_row(found, columns, shared, dates, epoch, member, number)
            if "&" in body or "_x" in body:  # escapes in an inline string or a formula's text
                values = [_xml_text(v) if "&" in v or "_x" in v else v for v in values]
        else:
            values = _row(body, columns, shared, dates, epoch, member, number)
        yield number, values


def _fast_row(found, columns, shared, dates, epoch, member, number) -> list[str]:
    values: list[str] = []
    append = values.append
    for letters, style, kind, inline, value in found:
        if letters:
            i = columns.get(letters)
            if i is None:
                i = _column(letters, columns)
            if i != len(values):
                if i < len(values):
                    continue  # a cell given twice: the first one counts
                values += [""] * (i - len(values))
        if kind == "inlineStr":
            append(inline)
        elif not value:
            append("")
        elif kind == "s":
            append(_shared(shared, value, member, number))
        elif kind == "" or kind == "n":
            append(_number(value, bool(dates and style and int(style) in dates), epoch))
        elif kind == "b":
            append("1" if value in ("1", "true") else "0")
        else:
            append(value)
    return values


def _shared(shared: list[str], index: str, member: str, number: int) -> str:
    try:
        return shared[int(index)]
    except (ValueError, IndexError):
        raise FileRefused(
            f"Книга XLSX повреждена: ссылка на несуществующую строку ({member}, строка {number})."
        ) from None


def _row(body, columns, shared, dates, epoch, member, number) -> list[str]:
    """A row in any other spelling (namespace prefixes, formulas, other attributes)."""
    values: list[str] = []
    for cell in _CELL.finditer(body):
        attrs, inner = cell[1], cell[2]
        ref = _REF.search(attrs)
        if ref and ref[1]:
            i = _column(ref[1], columns)
            if i > len(values):
                values += [""] * (i - len(values))
            elif i < len(values):
                continue  # a cell given twice: the first one counts
        if not inner:
            values.append("")
            continue
        kind = _TYPE.search(attrs)
        kind = kind[1] if kind else "n"
        if kind == "inlineStr":
            if "rPh" in inner:
                inner = _PHONETIC.sub("", inner)
            values.append(_xml_text("".join(t or "" for t in _TEXT.findall(inner))))
            continue
        value = _VALUE.search(inner)
        text = value[1].strip() if value else ""
        if not text:
            values.append("")
        elif kind == "s":
            values.append(_shared(shared, text, member, number))
        elif kind == "b":
            values.append("1" if text in ("1", "true") else "0")
        elif kind == "n":
            style = _STYLE.search(attrs)
            values.append(_number(text, bool(style and int(style[1]) in dates), epoch))
        else:  # str (a formula's text), e (an error), d (ISO date)
            values.append(_xml_text(text))
    return values


def _number(text: str, is_date: bool, epoch: datetime.date) -> str:
    """A numeric cell as the text the checks parse: no float tail; a date-formatted one as ISO."""
    try:
        value = float(text)
    except ValueError:
        return text
    if is_date and 0 <= value < 2958466:
        return (epoch + datetime.timedelta(days=int(value))).isoformat()
    return _cell_text(value)


def _cell_text(value) -> str:
    """A cell value as the text the checks parse: numbers without a float tail, dates in ISO."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return str(int(value)) if value.is_integer() else str(Decimal(repr(value)))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, (datetime.date, int)):
        return str(value) if isinstance(value, int) else value.isoformat()
    return str(value)


# --- writing -----------------------------------------------------------------------------------

ZIP_DATE = (2000, 1, 1, 0, 0, 0)  # fixed member dates: the same data gives the same bytes


def _member(archive: zipfile.ZipFile, name: str, data: bytes | Iterable[bytes]) -> None:
    """One file of the archive, written as its chunks come (a sheet never whole in memory)."""
    info = zipfile.ZipInfo(name, ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    # The size is not known before the last chunk: ZIP64 sizes, for sheets over 2 GiB.
    with archive.open(info, "w", force_zip64=True) as out:
        for chunk in [data] if isinstance(data, bytes) else data:
            out.write(chunk)


# Rows encoded together before they are written: few writes, little memory.
CHUNK_ROWS = 2000


def csv_chunks(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> Iterator[bytes]:
    """A CSV file (UTF-8, CRLF) as chunks of encoded rows, the header first."""
    rows = iter(rows)
    batch = [columns]
    while True:
        batch.extend(itertools.islice(rows, CHUNK_ROWS))
        if not batch:
            return
        out = io.StringIO(newline="")
        csv.writer(out, lineterminator="\r\n").writerows(batch)
        yield out.getvalue().encode("utf-8")
        batch = []


def write_csv_zip(tables: dict[str, tuple[Sequence[str], Iterable]], target) -> None:
    """Sheets as CSV files (UTF-8) in a ZIP archive, in the order given."""
    with zipfile.ZipFile(target, "w") as archive:
        for name, (columns, rows) in tables.items():
            _member(archive, f"{name}.csv", csv_chunks(columns, rows))


def _col(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _sheet_xml(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> Iterator[bytes]:
    """A worksheet's XML as chunks of encoded rows (every cell an inline string)."""
    yield (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b"<sheetData>"
    )
    numbered = enumerate(itertools.chain([columns], rows), start=1)
    while batch := list(itertools.islice(numbered, CHUNK_ROWS)):
        parts = []
        for r, row in batch:
            cells = "".join(
                f'<c r="{_col(i)}{r}" t="inlineStr"><is><t xml:space="preserve">'
                f"{escape(str(v))}</t></is></c>"
                for i, v in enumerate(row)
                if v not in ("", None)
            )
            parts.append(f'<row r="{r}">{cells}</row>')
        yield "".join(parts).encode("utf-8")
    yield b"</sheetData></worksheet>"


def write_xlsx(tables: dict[str, tuple[Sequence[str], Iterable]], target) -> None:
    """A minimal XLSX workbook: one sheet per table, every cell an inline string.

    Rows may be an iterator: each sheet is written as its rows come, never whole in memory.
    """
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


def write_tables(tables: dict[str, tuple[Sequence[str], Iterable]], path: str | Path) -> None:
    """Write by the name: `.xlsx` a workbook, `.zip` CSV files, otherwise a directory of CSV."""
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        write_xlsx(tables, path)
    elif path.suffix.lower() == ".zip":
        write_csv_zip(tables, path)
    else:
        path.mkdir(parents=True, exist_ok=True)
        for name, (columns, rows) in tables.items():
            with (path / f"{name}.csv").open("wb") as out:
                out.writelines(csv_chunks(columns, rows))
