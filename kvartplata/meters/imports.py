"""CSV import and export of readings (format in docs/readings-csv.md), with a per-line report."""

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date

from kvartplata.lib.exports import safe_row
from kvartplata.lib.periods import parse_period
from kvartplata.meters.models import Meter, Reading
from kvartplata.meters.selectors import readings_for_export
from kvartplata.meters.services import reading_enter
from kvartplata.meters.validation import plain
from kvartplata.registry.models import Organization

HEADER = ["account", "serial_number", "month", "value1", "value2", "value3", "confirm"]
REQUIRED = ["account", "serial_number", "month", "value1"]
ENCODINGS = ("utf-8-sig", "cp1251")
MAX_LINES = 200_000
_MONTH_DOTTED = re.compile(r"([0-9]{2})\.([0-9]{4})")
_YES = {"1", "да", "yes", "true", "y", "д"}


@dataclass
class LineResult:
    line: int
    account: str
    serial_number: str
    message: str = ""


@dataclass
class ImportReport:
    accepted: list[LineResult] = field(default_factory=list)
    refused: list[LineResult] = field(default_factory=list)
    error: str = ""

    @property
    def total(self) -> int:
        return len(self.accepted) + len(self.refused)

    def as_text(self) -> str:
        lines = []
        if self.error:
            lines.append(self.error)
        lines.append(f"Принято строк: {len(self.accepted)}, отклонено: {len(self.refused)}.")
        for row in self.accepted:
            if row.message:
                lines.append(f"Строка {row.line}: {row.message}")
        for row in self.refused:
            lines.append(
                f"Строка {row.line} (ЛС {row.account or '—'}, прибор {row.serial_number or '—'}): "
                f"{row.message}"
            )
        return "\n".join(lines)


def decode(content: bytes) -> str:
    for encoding in ENCODINGS:
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValueError("Не удалось прочитать файл: ожидается кодировка UTF-8 или windows-1251.")


def parse_month(value: str) -> date:
    value = value.strip()
    match = _MONTH_DOTTED.fullmatch(value)
    if match:
        value = f"{match[2]}-{match[1]}"
    return parse_period(value)


def readings_import(
    *, organization: Organization, content: bytes, user, today: date
) -> ImportReport:
    """Load readings line by line: each line is checked and stored or refused on its own."""
    report = ImportReport()
    try:
        text = decode(content)
    except ValueError as exc:
        report.error = str(exc)
        return report
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    try:
        header = [h.strip().lower() for h in next(reader)]
    except (StopIteration, csv.Error):
        report.error = "Файл пуст: нужна строка заголовка и строки с показаниями."
        return report
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        report.error = (
            "В заголовке нет столбцов: " + ", ".join(missing) + ". Ожидается: " + ";".join(HEADER)
        )
        return report
    index = {name: header.index(name) for name in HEADER if name in header}

    rows = []
    try:
        for number, cells in enumerate(reader, start=2):
            if number > MAX_LINES + 1:
                report.error = f"В файле больше {MAX_LINES} строк: остальные не загружены."
                break
            if not any(c.strip() for c in cells):
                continue
            rows.append((number, cells))
    except csv.Error as exc:
        report.error = f"Ошибка разбора CSV: {exc}. Загружены строки до этой ошибки."

    def cell(cells, name):
        i = index.get(name)
        return cells[i].strip() if i is not None and i < len(cells) else ""

    serials = {cell(c, "serial_number") for _, c in rows}
    meters: dict[tuple[str, str], list[Meter]] = {}
    found = Meter.objects.filter(
        account__organization=organization, serial_number__in=serials
    ).select_related("account__organization", "account__premises__building")
    for meter in found:
        meters.setdefault((meter.account.number, meter.serial_number), []).append(meter)
    for candidates in meters.values():
        # A working meter wins over an archived one with the same number.
        candidates.sort(key=lambda m: (m.archived_on is not None, -m.pk))

    for number, cells in rows:
        account, serial = cell(cells, "account"), cell(cells, "serial_number")
        line = LineResult(line=number, account=account, serial_number=serial)
        candidates = meters.get((account, serial))
        if not candidates:
            line.message = "Прибор с таким номером не найден у этого лицевого счёта."
            report.refused.append(line)
            continue
        try:
            month = parse_month(cell(cells, "month"))
        except ValueError as exc:
            line.message = str(exc)
            report.refused.append(line)
            continue
        values = [cell(cells, f"value{z}") for z in range(1, candidates[0].zones + 1)]
        result = reading_enter(
            meter=candidates[0],
            month=month,
            values=values,
            user=user,
            today=today,
            source=Reading.Source.IMPORT,
            confirm_high=cell(cells, "confirm").lower() in _YES,
        )
        if result.ok:
            line.message = result.notice
            report.accepted.append(line)
        else:
            line.message = " ".join(result.messages())
            report.refused.append(line)
    return report


def readings_export(*, organization: Organization, month: date) -> str:
    """Accepted readings of a month in the import format (UTF-8 text; the caller adds a BOM)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    label = f"{month:%Y-%m}"
    for reading in readings_for_export(organization=organization, month=month):
        values = [plain(v) if v is not None else "" for v in reading.values()]
        values += [""] * (3 - len(values))
        writer.writerow(
            safe_row(
                [
                    reading.meter.account.number,
                    reading.meter.serial_number,
                    label,
                    *values,
                    "1" if reading.confirmed_high else "",
                ]
            )
        )
    return out.getvalue()
