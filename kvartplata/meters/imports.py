"""CSV import and export of readings (format in docs/readings-csv.md), with a per-line report."""

import csv
import io
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from kvartplata.lib import leases
from kvartplata.lib.db import bulk_insert
from kvartplata.lib.exports import safe_row, unquote_cell
from kvartplata.lib.periods import month_start, parse_period
from kvartplata.lib.ranges import date_problem
from kvartplata.meters.models import READING_COLUMNS, Meter, Reading, ReadingsFile
from kvartplata.meters.selectors import readings_for_export
from kvartplata.meters.services import (
    _accepted_points,
    _closed_notice,
    _neighbours,
)
from kvartplata.meters.validation import Point, check_reading, open_month, plain
from kvartplata.registry.models import Organization
from kvartplata.registry.periods import closed_months, organization_bounds

log = logging.getLogger("kvartplata.meters")

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


def _cell(index: dict[str, int], cells: list[str], name: str) -> str:
    i = index.get(name)
    # A text an export protected from spreadsheets ("'=…", lib.exports) loads back as it was.
    return unquote_cell(cells[i].strip()) if i is not None and i < len(cells) else ""


def _parse(text: str, report: ImportReport):
    """(column index, [(line number, cells)]) of a decoded file; a refusal goes into `report`."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    try:
        header = [h.strip().lower() for h in next(reader)]
    except (StopIteration, csv.Error):
        report.error = "Файл пуст: нужна строка заголовка и строки с показаниями."
        return None, []
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        report.error = (
            "В заголовке нет столбцов: " + ", ".join(missing) + ". Ожидается: " + ";".join(HEADER)
        )
        return None, []
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
    return index, rows


def _remember(points: list[Point], point: Point) -> None:
    """An accepted line becomes the meter's reading of its month for the lines after it."""
    points[:] = sorted([p for p in points if p.month != point.month] + [point], key=_month)


def _month(point: Point) -> date:
    return point.month


def readings_import(
    *,
    organization: Organization,
    content: bytes,
    user,
    today: date,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Load a readings file: every line checked on its own, the accepted ones stored together.

    Lines are checked in file order with the cabinet's checks (`validation.check_reading`);
    a later line of the same meter sees the earlier accepted one. The accepted lines are then
    written set-based in one transaction (one UPDATE of the readings they replace, one bulk
    insert), so a file is stored completely or — if anything fails — not at all.
    `progress(lines_checked, lines_total)` is called every few percent.
    """
    report = ImportReport()
    try:
        text = decode(content)
    except ValueError as exc:
        report.error = str(exc)
        return report
    index, rows = _parse(text, report)
    if index is None:
        return report
    total = len(rows)
    step = max(total // 50, 1)
    with transaction.atomic():
        serials = {_cell(index, c, "serial_number") for _, c in rows}
        meters: dict[tuple[str, str], list[Meter]] = {}
        found = (
            Meter.objects.select_for_update(of=("self",))
            .filter(account__organization=organization, serial_number__in=serials)
            .select_related("account")
            .order_by("pk")
        )
        for meter in found:
            meters.setdefault((meter.account.number, meter.serial_number), []).append(meter)
        for candidates in meters.values():
            # A working meter wins over an archived one with the same number.
            candidates.sort(key=lambda m: (m.archived_on is not None, -m.pk))
        chosen = [candidates[0] for candidates in meters.values()]
        points = _accepted_points(chosen)
        closed = closed_months(organization)
        bounds = organization_bounds(organization, today=today)
        accepted: dict[tuple[int, date], tuple[Meter, list, bool]] = {}
        replaced: list[tuple[Meter, list, bool, date]] = []

        for done, (number, cells) in enumerate(rows, start=1):
            if progress and (done % step == 0 or done == total):
                progress(done, total)
            account, serial = _cell(index, cells, "account"), _cell(index, cells, "serial_number")
            line = LineResult(line=number, account=account, serial_number=serial)
            candidates = meters.get((account, serial))
            if not candidates:
                line.message = "Прибор с таким номером не найден у этого лицевого счёта."
                report.refused.append(line)
                continue
            try:
                wanted = month_start(parse_month(_cell(index, cells, "month")))
            except ValueError as exc:
                line.message = str(exc)
                report.refused.append(line)
                continue
            problem = date_problem(wanted, bounds, what="Месяц показаний")
            if problem:
                line.message = problem
                report.refused.append(line)
                continue
            meter = candidates[0]
            month = open_month(wanted, closed_months=closed)
            confirm = _cell(index, cells, "confirm").lower() in _YES
            values = [_cell(index, cells, f"value{z}") for z in range(1, meter.zones + 1)]
            previous, following, history = _neighbours(meter, points[meter.pk], month)
            outcome = check_reading(
                meter,
                values,
                month=month,
                today=today,
                previous=previous,
                following=following,
                history=history,
                alert_factor=organization.consumption_alert_factor,
                confirmed=confirm,
            )
            if not outcome.ok:
                messages = list(outcome.errors.values())
                if outcome.needs_confirmation:
                    messages.append(outcome.needs_confirmation)
                line.message = " ".join(messages)
                report.refused.append(line)
                continue
            line.message = _closed_notice(wanted, month)
            report.accepted.append(line)
            earlier = accepted.pop((meter.pk, month), None)
            if earlier is not None:  # the same meter and month again: the later line wins
                replaced.append((*earlier, month))
            accepted[(meter.pk, month)] = (meter, outcome.values, confirm)
            _remember(points[meter.pk], Point(month=month, values=tuple(outcome.values)))
        _store(accepted, replaced, user=user)
    return report


def _store(accepted: dict, replaced: list, *, user) -> None:
    """Write the accepted lines: the month's earlier accepted readings stay on record, no longer
    accepted (one UPDATE per batch), then every new reading in one bulk insert."""
    if not accepted:
        return
    now = timezone.now()
    by = user.pk if getattr(user, "is_authenticated", False) else None
    keys = list(accepted)
    cast = "::date" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        for start in range(0, len(keys), 400):
            chunk = keys[start : start + 400]
            pairs = ", ".join([f"(%s, %s{cast})"] * len(chunk))
            cursor.execute(
                "UPDATE meters_reading SET is_accepted = %s "  # noqa: S608 - placeholders only
                f"WHERE is_accepted = %s AND (meter_id, month) IN (VALUES {pairs})",
                [False, True, *(v for m, month in chunk for v in (m, month.isoformat()))],
            )

    def row(meter, values, confirm, month, is_accepted):
        padded = list(values) + [None] * (3 - len(values))
        return [
            meter.pk,
            month,
            *padded,
            Reading.Kind.REGULAR.value,
            Reading.Source.IMPORT.value,
            is_accepted,
            confirm,
            now,
            by,
        ]

    rows = [row(m, v, c, month, False) for m, v, c, month in replaced]
    rows += [row(m, v, c, month, True) for (_, month), (m, v, c) in accepted.items()]
    bulk_insert(
        "meters_reading",
        READING_COLUMNS,
        rows,
    )


# --- the import as a job of the task queue --------------------------------------------------

STALE_FILE_REASON = (
    "Загрузка прервана: обработчик остановился (аренда задачи истекла {at}), ничего не "
    "загружено. Загрузите файл снова."
)


def stored_path(readings_file: ReadingsFile) -> Path:
    """Where an uploaded readings file is kept until (and after) it is loaded."""
    return Path(settings.MEDIA_ROOT) / "readings" / f"{readings_file.pk}.csv"


def readings_file_upload(
    *, organization: Organization, name: str, content: bytes, user=None
) -> ReadingsFile:
    """Keep an uploaded readings file (the caller queues its import)."""
    with transaction.atomic():
        readings_file = ReadingsFile.objects.create(
            organization=organization, name=name[:255], size=len(content), uploaded_by=user
        )
        path = stored_path(readings_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return readings_file


REPORT_LINES = 5000


def report_rows(report: ImportReport) -> list[dict]:
    """The lines worth showing (refused first, then accepted with a notice), at most
    REPORT_LINES; the counts on the file row tell how many there were in all."""
    rows = [{**vars(row), "accepted": False} for row in report.refused[:REPORT_LINES]] + [
        {**vars(row), "accepted": True} for row in report.accepted if row.message
    ]
    return rows[:REPORT_LINES]


def readings_file_import(*, readings_file_id: int, today: date | None = None) -> ReadingsFile:
    """Load a queued readings file under a lease, with progress; the row keeps the report."""
    owner = leases.worker_id()
    claimed = leases.claim(
        ReadingsFile,
        readings_file_id,
        owner=owner,
        filters=Q(status=ReadingsFile.Status.QUEUED),
        status=ReadingsFile.Status.PROCESSING,
    )
    readings_file = ReadingsFile.objects.select_related("organization", "uploaded_by").get(
        pk=readings_file_id
    )
    if not claimed:
        return readings_file  # another worker has it, or it is done
    today = today or timezone.localdate()
    try:
        content = stored_path(readings_file).read_bytes()
        with (
            leases.Heartbeat(ReadingsFile, readings_file_id, owner=owner) as heartbeat,
            transaction.atomic(),
        ):
            report = readings_import(
                organization=readings_file.organization,
                content=content,
                user=readings_file.uploaded_by,
                today=today,
                progress=lambda done, total: heartbeat.beat(lines_done=done, lines_total=total),
            )
            heartbeat.stop()
            if not leases.hold(ReadingsFile, readings_file_id, owner=owner):
                raise RuntimeError("the file was handed to another worker")
            outcome = {
                "status": ReadingsFile.Status.REFUSED
                if report.error and not report.total
                else ReadingsFile.Status.DONE,
                "lines_total": report.total,
                "lines_done": report.total,
                "lines_accepted": len(report.accepted),
                "lines_refused": len(report.refused),
                "report": report_rows(report),
                "error": report.error,
                "finished_at": timezone.now(),
            }
            leases.release(ReadingsFile, readings_file_id, owner=owner, **outcome)
    except Exception:
        log.exception("Import of readings file %s failed", readings_file_id)
        leases.release(
            ReadingsFile,
            readings_file_id,
            owner=owner,
            status=ReadingsFile.Status.REFUSED,
            error="Внутренняя ошибка при загрузке: ничего не загружено, попробуйте ещё раз "
            "или сообщите администратору.",
            finished_at=timezone.now(),
        )
    readings_file.refresh_from_db()
    return readings_file


def readings_files_reap(*, now=None) -> list[int]:
    """Refuse files whose import worker died (lease expired), with the reason."""
    now = now or timezone.now()
    reaped = leases.fail_expired(
        ReadingsFile,
        now=now,
        filters=Q(status=ReadingsFile.Status.PROCESSING),
        status=ReadingsFile.Status.REFUSED,
        finished_at=now,
        error=STALE_FILE_REASON.format(at=timezone.localtime(now).strftime("%d.%m.%Y %H:%M")),
    )
    for file_id in reaped:
        log.warning("readings file %s: its import worker stopped; refused", file_id)
    lost = leases.lost_in_queue(
        ReadingsFile,
        created_field="uploaded_at",
        filters=Q(status=ReadingsFile.Status.QUEUED),
        now=now,
        status=ReadingsFile.Status.REFUSED,
        finished_at=now,
        error="Файл не взят из очереди задач (задача потеряна), ничего не загружено. "
        "Загрузите файл снова.",
    )
    for file_id in lost:
        log.warning("readings file %s: never taken from the queue; refused", file_id)
    return reaped + lost


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
