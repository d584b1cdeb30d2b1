"""Charges in and out as CSV: export of a month, import from an external billing system.

The layout is documented in docs/charges-csv.md: `;`-separated, UTF-8 (a BOM is allowed), a
header line, decimals with a point or a comma.
"""

import csv
import io
from collections import defaultdict
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from kvartplata.billing import ledger
from kvartplata.billing.models import BillingRun, Charge, LedgerEntry, Service
from kvartplata.billing.services import BillingError, current_period
from kvartplata.lib.db import bulk_insert
from kvartplata.lib.exports import safe_row
from kvartplata.lib.periods import parse_period
from kvartplata.lib.ranges import (
    TARIFF_LIMIT,
    VOLUME_LIMIT,
    amount_problem,
    quantity_problem,
)
from kvartplata.registry.models import Organization, Period, PersonalAccount
from kvartplata.registry.periods import organization_bounds

EXPORT_HEADER = [
    "period",
    "account",
    "service",
    "kind",
    "zone",
    "method",
    "volume",
    "tariff",
    "amount",
]
IMPORT_HEADER = ["period", "account", "service", "kind", "zone", "volume", "tariff", "amount"]
MAX_IMPORT_BYTES = 512 * 1024 * 1024


class ImportRefused(Exception):
    """The whole file is refused; `errors` lists what is wrong, line by line, in Russian."""

    def __init__(self, message: str, errors: list[str] | None = None):
        super().__init__(message)
        self.errors = errors or []


def export_rows(period: Period):
    """Charge lines of a month in a stable order, as CSV rows."""
    rows = (
        Charge.objects.filter(period=period)
        .order_by("account__number", "service__sort_order", "kind", "zone")
        .values_list(
            "account__number",
            "service__code",
            "kind",
            "zone",
            "method",
            "volume",
            "tariff",
            "amount",
        )
        .iterator(chunk_size=5000)
    )
    label = f"{period.month:%Y-%m}"
    for number, code, kind, zone, method, volume, tariff, amount in rows:
        yield safe_row([label, number, code, kind, zone, method, volume, tariff, amount])


def _decimal(value: str, places: int) -> Decimal:
    number = Decimal(value.strip().replace(",", ".").replace("\u00a0", "").replace(" ", ""))
    if not number.is_finite() or -number.as_tuple().exponent > places:
        raise InvalidOperation
    return number


def _records(reader):
    """The CSV records; a malformed one (a NUL byte, a huge field) refuses the file."""
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportRefused(
                f"Строка {reader.line_num}: файл не читается как CSV ({exc}).",
                [f"Строка {reader.line_num}: файл не читается как CSV ({exc})."],
            ) from exc


def charges_import(*, organization: Organization, stream, user=None) -> dict:
    """Replace the open period's charges of the accounts in the file; all lines or none."""
    raw = stream.read(MAX_IMPORT_BYTES + 1)
    if len(raw) > MAX_IMPORT_BYTES:
        raise ImportRefused("Файл слишком большой.")
    if not raw.strip():
        raise ImportRefused("Файл пуст.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRefused("Файл должен быть в кодировке UTF-8.") from exc
    reader = _records(csv.reader(io.StringIO(text), delimiter=";"))
    header = [h.strip().lower() for h in next(reader, [])]
    if header != IMPORT_HEADER:
        raise ImportRefused("Неверный заголовок. Ожидается: " + ";".join(IMPORT_HEADER))
    period = current_period(organization)
    if period is None:
        raise ImportRefused("Нет открытого периода.")
    accounts = dict(
        PersonalAccount.objects.filter(organization=organization).values_list("number", "id")
    )
    services = {s.code: s for s in Service.objects.filter(organization=organization)}
    bounds = organization_bounds(organization, today=timezone.localdate())
    errors, rows, seen = [], [], set()
    totals: dict[int, Decimal] = defaultdict(Decimal)
    for line_no, fields in enumerate(reader, start=2):
        if not any(f.strip() for f in fields):
            continue
        if len(fields) != len(IMPORT_HEADER):
            errors.append(f"Строка {line_no}: ожидается {len(IMPORT_HEADER)} полей.")
            continue
        month, number, code, kind, zone, volume, tariff, amount = (f.strip() for f in fields)
        try:
            if parse_period(month) != period.month:
                errors.append(f"Строка {line_no}: период {month} не открыт.")
                continue
        except ValueError as exc:
            errors.append(f"Строка {line_no}: {exc}")
            continue
        account_id = accounts.get(number)
        if account_id is None:
            errors.append(f"Строка {line_no}: лицевой счёт {number} не найден.")
            continue
        service = services.get(code)
        if service is None:
            errors.append(f"Строка {line_no}: услуга «{code}» не найдена.")
            continue
        if kind not in Charge.Kind.values:
            errors.append(
                f"Строка {line_no}: вид «{kind}» — ожидается individual или common_house."
            )
            continue
        if zone not in {"0", "1", "2", "3"}:
            errors.append(f"Строка {line_no}: зона — число от 0 до 3.")
            continue
        try:
            values = (_decimal(volume, 6), _decimal(tariff, 4), _decimal(amount, 2))
        except (InvalidOperation, ValueError):
            errors.append(f"Строка {line_no}: объём, тариф или сумма — не число нужной точности.")
            continue
        problem = (
            quantity_problem(values[0], limit=VOLUME_LIMIT, what="Объём")
            or quantity_problem(values[1], limit=TARIFF_LIMIT, what="Тариф")
            or amount_problem(values[2], bounds)
        )
        if problem:
            errors.append(f"Строка {line_no}: {problem}")
            continue
        key = (account_id, service.id, kind, int(zone))
        if key in seen:
            errors.append(f"Строка {line_no}: повтор строки счёта {number}, услуги «{code}».")
            continue
        seen.add(key)
        totals[account_id] += values[2]
        rows.append((*key, *values))
    if errors:
        raise ImportRefused(f"Файл не загружен: ошибок — {len(errors)}.", errors)
    if not rows:
        raise ImportRefused("В файле нет строк начислений.")
    with transaction.atomic():
        period = Period.objects.select_for_update().get(id=period.id)
        if period.is_closed:
            raise BillingError("Период закрыт.")
        ids = list(totals)
        run = BillingRun.objects.create(
            organization=organization,
            period=period,
            status=BillingRun.Status.DONE,
            created_by=user,
            accounts_total=len(ids),
            accounts_done=len(ids),
            lines=len(rows),
            # No start time: this «run» billed no readings (see period_close's staleness check).
            finished_at=timezone.now(),
        )
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            Charge.objects.filter(period=period, account_id__in=chunk).delete()
            LedgerEntry.objects.filter(
                period=period, account_id__in=chunk, kind=LedgerEntry.Kind.CHARGE
            ).delete()
        bulk_insert(
            "billing_charge",
            [
                "account_id",
                "service_id",
                "kind",
                "zone",
                "volume",
                "tariff",
                "amount",
                "period_id",
                "method",
                "details",
                "run_id",
            ],
            (
                (
                    *r,
                    period.id,
                    Charge.Method.IMPORTED,
                    {"explanation": "загружено из внешней системы"},
                    run.id,
                )
                for r in rows
            ),
            json_columns=["details"],
        )
        ledger.post_charges(period, run.id, ids, note="загрузка")  # one entry per payee
        ledger.refresh_balances(period, ids)
        Period.objects.filter(id=period.id).update(
            state=Period.State.BILLED, billed_at=timezone.now()
        )
    return {"lines": len(rows), "accounts": len(ids), "run": run.id}
