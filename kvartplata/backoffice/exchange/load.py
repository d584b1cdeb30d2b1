"""Check every line of a registry file and write it in one transaction, set-based — or nothing.

`registry_load` reads the sheets in dependency order, one at a time, streaming their lines;
it parses each line, matches it to what the organization already has by natural keys (address;
address + premises number; account number; meter serial number; account + provider + month) and
sorts it into created / changed / unchanged, or refuses it with a Russian reason. The long
sheets go in batches of `BATCH` lines: one lookup of the existing rows per batch, then the
batch is written with the set-based helpers of `lib.db` (COPY on PostgreSQL); ids of new rows
are read back by their owners. One refused line stops the writing (the rest is still checked,
so that the report names every refused line) and the transaction is rolled back: nothing is
written. Memory holds a batch and the file's natural keys, whatever the file's length.

Opening balances become the journal's start: one `correction` entry per account, provider and
month in the month before the switch month (the «opening period», created here and closed), so
that the switch month opens with them (balances), penalties accrue on them by their months and
payments are allocated to them oldest first.
"""

import datetime
import functools
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from kvartplata.backoffice.exchange.fileformat import (
    BUILDING_FIELDS,
    BY_NAME,
    METER_FIELDS,
    PROVIDER_FIELDS,
    SHEETS,
)
from kvartplata.billing.models import LedgerEntry, Resource
from kvartplata.lib.db import bulk_insert
from kvartplata.lib.periods import add_months, period_label
from kvartplata.meters.models import Meter, Reading
from kvartplata.registry.models import (
    Building,
    Organization,
    Period,
    PersonalAccount,
    Premises,
    Provider,
    new_link_code,
)

OPENING_NOTE = "Начальное сальдо при переходе"
CENT = Decimal("0.01")
_ACCOUNT_RE = re.compile(r"\d{4,20}")
_DOTTED_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_DOTTED_MONTH = re.compile(r"(\d{1,2})\.(\d{4})")
_ISO_MONTH = re.compile(r"(\d{4})-(\d{1,2})(?:-01)?")


@dataclass
class Problem:
    sheet: str
    line: int
    message: str


@dataclass
class Report:
    counts: dict = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    error: str = ""
    written: bool = False
    dry_run: bool = False
    switch_month: str = ""

    def count(self, sheet: str, outcome: str) -> None:
        self.counts.setdefault(sheet, {"created": 0, "changed": 0, "unchanged": 0})[outcome] += 1

    @property
    def ok(self) -> bool:
        return not self.error and not self.problems

    def as_dict(self) -> dict:
        return {
            "counts": self.counts,
            "problems": [[p.sheet, p.line, p.message] for p in self.problems],
            "error": self.error,
            "written": self.written,
            "dry_run": self.dry_run,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Report":
        return cls(
            counts=data.get("counts", {}),
            problems=[Problem(*p) for p in data.get("problems", [])],
            error=data.get("error", ""),
            written=data.get("written", False),
            dry_run=data.get("dry_run", False),
        )

    def rows(self) -> list[tuple[str, int, int, int]]:
        """(title, created, changed, unchanged) per sheet, in the order of the format."""
        names = [s.name for s in SHEETS] + ["readings"]
        titles = {s.name: s.title for s in SHEETS} | {"readings": "последние показания"}
        return [
            (titles[n], c["created"], c["changed"], c["unchanged"])
            for n in names
            if (c := self.counts.get(n))
        ]

    def as_text(self) -> str:
        lines = []
        if self.error:
            lines.append(self.error)
        for title, created, changed, unchanged in self.rows():
            lines.append(
                f"{title}: новых {created}, изменённых {changed}, без изменений {unchanged}"
            )
        for p in self.problems:
            title = BY_NAME[p.sheet].title if p.sheet in BY_NAME else p.sheet
            lines.append(f"{p.sheet} ({title}), строка {p.line}: {p.message}")
        if self.problems or self.error:
            lines.append(f"Отклонено строк: {len(self.problems)}. Ничего не записано.")
        elif self.written:
            lines.append("Записано.")
        elif self.dry_run:
            lines.append("Проверка пройдена (пробный запуск: ничего не записано).")
        return "\n".join(lines)


class LineError(Exception):
    pass


SHEET_STEPS = tuple(s.name for s in SHEETS) + ("writing",)


# --- parsing one cell ---------------------------------------------------------------------------


_QUANTUM = {places: Decimal(1).scaleb(-places) for places in range(13)}


def _decimal(text: str, name: str, places: int | None = None) -> Decimal:
    try:
        value = Decimal(text)  # the common spelling, as written: «361.289»
    except InvalidOperation:
        clean = text.replace("\u00a0", "").replace(" ", "").replace(",", ".")
        try:
            value = Decimal(clean)
        except InvalidOperation:
            raise LineError(f"{name}: «{text}» — не число") from None
    if not value.is_finite():
        raise LineError(f"{name}: «{text}» — не число")
    if places is not None and value != value.quantize(_QUANTUM[places]):
        raise LineError(f"{name}: не более {places} знаков после запятой («{text}»)")
    return value


def _optional_decimal(text: str, name: str, places: int | None = None):
    return _decimal(text, name, places) if text else None


def _int(text: str, name: str, default=None) -> int | None:
    if not text:
        return default
    if text.isdigit() and text.isascii():
        return int(text)
    try:
        value = _decimal(text, name)
        if value != value.to_integral_value():
            raise LineError
        return int(value)
    except LineError:
        raise LineError(f"{name}: «{text}» — не целое число") from None


def _date(text: str, name: str) -> datetime.date | None:
    if not text:
        return None
    try:
        if match := _DOTTED_DATE.fullmatch(text):
            return datetime.date(int(match[3]), int(match[2]), int(match[1]))
        return datetime.date.fromisoformat(text[:10] if len(text) > 10 else text)
    except ValueError:
        raise LineError(f"{name}: неверная дата «{text}» (ожидается ДД.ММ.ГГГГ)") from None


def _month(text: str, name: str) -> datetime.date | None:
    if not text:
        return None
    match = _DOTTED_MONTH.fullmatch(text) or _ISO_MONTH.fullmatch(text)
    if match:
        month, year = (
            (int(match[1]), int(match[2]))
            if match.re is _DOTTED_MONTH
            else (int(match[2]), int(match[1]))
        )
        if 1 <= month <= 12 and year >= 1900:
            return datetime.date(year, month, 1)
    raise LineError(f"{name}: неверный месяц «{text}» (ожидается ГГГГ-ММ)")


@functools.cache
def _choice_map(choices_class) -> dict[str, str]:
    """Values and lower-case Russian labels of a choices class → value (built once)."""
    found = {str(label).lower(): str(value) for value, label in choices_class.choices}
    found.update({str(value): str(value) for value in choices_class.values})
    return found


def _choice(text: str, name: str, choices_class, default: str) -> str:
    if not text:
        return default
    value = _choice_map(choices_class).get(text) or _choice_map(choices_class).get(text.lower())
    if value is None:
        raise LineError(f"{name}: неизвестное значение «{text}»")
    return value


def _length(text: str, limit: int, name: str = "адрес") -> None:
    if len(text) > limit:
        raise LineError(f"{name}: не длиннее {limit} знаков")


def _label(model, name: str) -> str:
    try:
        return str(model._meta.get_field(name).verbose_name)
    except Exception:  # noqa: BLE001 - a non-field error has no label
        return "реквизиты"


def _address(row: dict) -> tuple[str, str, str]:
    return (row["city"], row["street"], row["house"])


def _show_address(key) -> str:
    return f"{key[0]}, {key[1]}, д. {key[2]}"


# --- the load ----------------------------------------------------------------------------------


BATCH = 5000  # lines checked against the database, and written, at a time


class Load:
    """One check-then-write pass over a file's sheets for one organization.

    The sheets are read one at a time and their lines streamed (`files.Workbook.rows`); the
    long ones (premises, accounts, meters, opening balances) are matched against the database
    and written in batches of `BATCH` lines, so memory holds one batch plus the natural keys of
    the file (for references and repeats), whatever the file's length. Writing stops at the
    first refused line; the caller rolls back what was written (one transaction).
    """

    def __init__(self, organization: Organization, workbook, switch_month, dry_run, progress):
        self.org = organization
        self.workbook = workbook
        self.switch = switch_month
        self.dry_run = dry_run
        self.report = Report(dry_run=dry_run)
        self.progress = progress or (lambda step, done, total: None)
        self.now = timezone.now()
        # What will be written: per entity, new rows and (id, values) of changed ones.
        self.creates: dict[str, list] = defaultdict(list)
        self.updates: dict[str, list] = defaultdict(list)
        # Keys of refused lines, so that lines referring to them say so (not «unknown»).
        self.refused_keys: dict[str, dict] = defaultdict(dict)

    @property
    def writing(self) -> bool:
        """Lines are written while no line has been refused (a dry run writes nothing)."""
        return not self.dry_run and not self.report.problems

    def unknown(self, sheet: str, key, what: str, unknown: str = "неизвестный") -> LineError:
        """A reference to a line that is neither in the file nor in the database (or refused)."""
        line = self.refused_keys[sheet].get(key)
        if line is not None:
            return LineError(f"{what} отклонён в листе {sheet}, строка {line}")
        return LineError(f"{unknown} {what}")

    def refuse(self, sheet: str, line: int, message: str, key=None) -> None:
        """A refused line; with its ``key``, later references to it say where it was refused."""
        self.report.problems.append(Problem(sheet, line, message))
        if key is not None:
            self.refused_keys[sheet].setdefault(key, line)

    def outcome(self, sheet: str, key, values: tuple, existing: dict, bucket: str = "") -> None:
        """Sort a parsed line: new, changed (with its id) or unchanged; counted per sheet.

        Only what will be written is kept (not in a dry run, not after a refused line).
        """
        bucket = bucket or sheet
        old = existing.get(key)
        if old is None:
            self.report.count(sheet, "created")
            if self.writing:
                self.creates[bucket].append((key, values))
        elif old[1] != values:
            self.report.count(sheet, "changed")
            if self.writing:
                self.updates[bucket].append((old[0], values))
        else:
            self.report.count(sheet, "unchanged")

    def lines(self, sheet: str):
        """The sheet's lines with every required cell filled, streamed from the file."""
        required = BY_NAME[sheet].required
        header = self.workbook.header(sheet)
        columns = [header[c] for c in required]
        step = SHEET_STEPS.index(sheet)
        for i, (line, row) in enumerate(self.workbook.rows(sheet)):
            if i % BATCH == 0:
                self.progress(f"{sheet}, строка {line}", step, len(SHEET_STEPS))
            values = row.values
            if not all([values[c] for c in columns]):
                empty = [c for c in required if not row[c]]
                self.refuse(sheet, line, f"не заполнено: {', '.join(empty)}")
                continue
            yield line, row

    def batches(self, sheet: str, parse):
        """Lists of at most BATCH parsed lines: `parse(line, row)` gives one, or None when the
        line is refused (it says why itself)."""
        batch = []
        for line, row in self.lines(sheet):
            parsed = parse(line, row)
            if parsed is not None:
                batch.append(parsed)
            if len(batch) >= BATCH:
                yield batch
                batch = []
        if batch:
            yield batch

    # --- providers -----------------------------------------------------------------------------

    def check_providers(self):
        existing = {
            r[0]: (r[1], tuple(r[2:]))
            for r in Provider.objects.filter(organization=self.org).values_list(
                "inn", "id", *PROVIDER_FIELDS
            )
        }
        self.provider_keys = set(existing)
        seen = {}
        for line, row in self.lines("providers"):
            inn = row["inn"]
            if inn in seen:
                self.refuse("providers", line, f"ИНН {inn} повторяется (строка {seen[inn]})")
                continue
            seen[inn] = line
            values = tuple(row.get(f, "") for f in PROVIDER_FIELDS)
            values = values[:2] + (values[2] or values[1][:80],) + values[3:]
            candidate = Provider(
                organization=self.org,
                inn=inn,
                **dict(zip(PROVIDER_FIELDS, values, strict=True)),
            )
            try:
                candidate.full_clean(
                    exclude=["organization"], validate_unique=False, validate_constraints=False
                )
            except ValidationError as exc:
                reasons = "; ".join(
                    f"{_label(Provider, name)}: {' '.join(msgs)}"
                    for name, msgs in exc.message_dict.items()
                )
                self.refuse("providers", line, reasons, key=inn)
                continue
            self.provider_keys.add(inn)
            self.outcome("providers", inn, values, existing)
        if self.writing:
            org_id = self.org.id
            self._write_simple(
                Provider,
                "providers",
                PROVIDER_FIELDS,
                lambda key: {"organization_id": org_id, "inn": key},
            )

    # --- buildings -----------------------------------------------------------------------------

    def check_buildings(self):
        existing = {
            tuple(r[:3]): (r[3], tuple(r[4:]))
            for r in Building.objects.filter(organization=self.org).values_list(
                "city", "street", "house", "id", *BUILDING_FIELDS
            )
        }
        self.building_keys = set(existing)
        seen = {}
        for line, row in self.lines("buildings"):
            key = _address(row)
            if key in seen:
                self.refuse("buildings", line, f"дом повторяется (строка {seen[key]})")
                continue
            seen[key] = line
            try:
                for column, limit in (("city", 80), ("street", 120), ("house", 20)):
                    _length(row[column], limit)
                _length(row.get("fias_code", ""), 36, "код ФИАС")
                total = self._area(row["total_area"], "площадь помещений")
                if total <= 0:
                    raise LineError("площадь помещений должна быть больше нуля")
                values = (
                    row.get("fias_code", ""),
                    _choice(row.get("building_type", ""), "тип дома", Building.Type, "full"),
                    _int(row.get("floors", ""), "этажей", 9),
                    _int(row.get("built_year", ""), "год постройки"),
                    total,
                    self._area(row.get("residential_area", ""), "жилые помещения"),
                    self._area(row.get("non_residential_area", "") or "0", "нежилые помещения"),
                    self._area(row.get("common_area", "") or "0", "общее имущество"),
                )
                if not 1 <= values[2] <= 300:
                    raise LineError("этажей должно быть от 1 до 300")
                if values[3] is not None and not 1700 <= values[3] <= 2200:
                    raise LineError(f"год постройки {values[3]} вне разумных пределов")
            except LineError as exc:
                self.refuse("buildings", line, str(exc), key=key)
                continue
            self.building_keys.add(key)
            self.outcome("buildings", key, values, existing)
        if self.writing:
            org_id = self.org.id
            self._write_simple(
                Building,
                "buildings",
                BUILDING_FIELDS,
                lambda key: {
                    "organization_id": org_id,
                    "city": key[0],
                    "street": key[1],
                    "house": key[2],
                },
            )
        self.building_ids = {
            tuple(r[:3]): r[3]
            for r in Building.objects.filter(organization=self.org).values_list(
                "city", "street", "house", "id"
            )
        }

    @staticmethod
    def _area(text: str, name: str, limit: Decimal = Decimal("1e10")) -> Decimal:
        value = _decimal(text, name, 2)
        if value < 0:
            raise LineError(f"{name}: площадь не может быть отрицательной")
        if value >= limit:
            raise LineError(f"{name}: площадь слишком велика")
        return value

    # --- premises ------------------------------------------------------------------------------

    PREMISES_FIELDS = ("kind", "total_area", "living_area", "rooms", "floor")

    def check_premises(self):
        # Every premises of the file and of the database → its id (None until written).
        self.premises_ids = self._premises_ids()
        seen = {}

        def parse(line, row):
            building = _address(row)
            key = (building, row["number"])
            try:
                if building not in self.building_keys:
                    raise self.unknown("buildings", building, f"дом «{_show_address(building)}»")
                if key in seen:
                    raise LineError(f"помещение повторяется (строка {seen[key]})")
                seen[key] = line
                if len(row["number"]) > 10:
                    raise LineError("номер помещения длиннее 10 знаков")
                total = _decimal(row["total_area"], "общая площадь", 2)
                if total <= 0:
                    raise LineError("общая площадь должна быть больше нуля")
                if total >= 1_000_000:
                    raise LineError("общая площадь слишком велика")
                living = _optional_decimal(row.get("living_area", ""), "жилая площадь", 2)
                if living is not None and not 0 <= living <= total:
                    raise LineError("жилая площадь должна быть от нуля до общей площади")
                rooms = _int(row.get("rooms", ""), "комнат")
                if rooms is not None and not 0 <= rooms <= 1000:
                    raise LineError("комнат: от 0 до 1000")
                floor = _int(row.get("floor", ""), "этаж")
                if floor is not None and not -10 <= floor <= 300:
                    raise LineError("этаж: от −10 до 300")
                values = (
                    _choice(row.get("kind", ""), "вид помещения", Premises.Kind, "flat"),
                    total,
                    living,
                    rooms,
                    floor,
                )
            except LineError as exc:
                self.refuse("premises", line, str(exc), key=key)
                return None
            return key, values

        address = {pk: key for key, pk in self.building_ids.items()}
        for batch in self.batches("premises", parse):
            buildings = {self.building_ids.get(key[0]) for key, _ in batch} - {None}
            existing = {
                (address[r[0]], r[1]): (r[2], tuple(r[3:]))
                for r in Premises.objects.filter(
                    building_id__in=buildings, number__in={key[1] for key, _ in batch}
                ).values_list("building_id", "number", "id", *self.PREMISES_FIELDS)
            }
            for key, values in batch:
                self.outcome("premises", key, values, existing)
                self.premises_ids.setdefault(key, None)
            if self.writing:
                self._write_rows(
                    Premises,
                    "premises",
                    ("building_id", "number", *self.PREMISES_FIELDS),
                    ((self.building_ids[k[0]], k[1], *v) for k, v in self.creates["premises"]),
                    self.PREMISES_FIELDS,
                    self.updates["premises"],
                )
        if self.writing:
            self._analyze(Premises, sheets=("premises",))
            self.premises_ids = self._premises_ids()

    def _premises_ids(self) -> dict:
        return {
            ((r[0], r[1], r[2]), r[3]): r[4]
            for r in Premises.objects.filter(building__organization=self.org).values_list(
                "building__city", "building__street", "building__house", "number", "id"
            )
        }

    # --- accounts ------------------------------------------------------------------------------

    ACCOUNT_FIELDS = (
        "holder_last_name",
        "holder_first_name",
        "holder_middle_name",
        "holder_phone",
        "residents",
        "share",
        "opened_on",
        "closed_on",
    )

    def check_accounts(self):
        # Every account number of the file and of the database → its id (None until written).
        self.account_ids = self._account_ids()
        seen = {}

        def parse(line, row):
            number = row["number"]
            try:
                if not _ACCOUNT_RE.fullmatch(number):
                    raise LineError(f"номер ЛС «{number}»: от 4 до 20 цифр")
                if number in seen:
                    raise LineError(f"ЛС {number} повторяется (строка {seen[number]})")
                seen[number] = line
                premises = (_address(row), row["premises"])
                if premises not in self.premises_ids:
                    raise self.unknown(
                        "premises",
                        premises,
                        f"помещение «{_show_address(premises[0])}, {premises[1]}»",
                        "неизвестное",
                    )
                residents = _int(row.get("residents", ""), "проживает", 1)
                if residents < 0:
                    raise LineError("число проживающих не может быть меньше нуля")
                if residents > 32767:
                    raise LineError("число проживающих слишком велико")
                share = _decimal(row.get("share", "") or "1", "доля площади", 4)
                if not 0 < share <= 1:
                    raise LineError("доля площади должна быть больше 0 и не больше 1")
                opened = _date(row["opened_on"], "открыт")
                closed = _date(row.get("closed_on", ""), "закрыт")
                if closed is not None and closed < opened:
                    raise LineError("дата закрытия раньше даты открытия")
                names = [row.get(f) for f in self.ACCOUNT_FIELDS[:3]]
                if any(len(n) > 60 for n in names) or len(row.get("holder_phone", "")) > 20:
                    raise LineError("ФИО или телефон абонента слишком длинные")
                values = (
                    premises,
                    *names[:2],
                    row.get("holder_middle_name", ""),
                    row.get("holder_phone", ""),
                    residents,
                    share,
                    opened,
                    closed,
                )
            except LineError as exc:
                self.refuse("accounts", line, str(exc), key=number)
                return None
            return number, values

        org_id = self.org.id
        for batch in self.batches("accounts", parse):
            existing = {}
            for r in PersonalAccount.objects.filter(
                organization=self.org, number__in=[number for number, _ in batch]
            ).values_list(
                "number",
                "id",
                "premises__building__city",
                "premises__building__street",
                "premises__building__house",
                "premises__number",
                *self.ACCOUNT_FIELDS,
            ):
                existing[r[0]] = (r[1], ((tuple(r[2:5]), r[5]), *r[6:]))
            for number, values in batch:
                self.outcome("accounts", number, values, existing)
                self.account_ids.setdefault(number, None)
            if self.writing:
                premises = self.premises_ids
                self._write_rows(
                    PersonalAccount,
                    "accounts",
                    ("organization_id", "number", "premises_id", *self.ACCOUNT_FIELDS, "link_code"),
                    (
                        (org_id, key, premises[v[0]], *v[1:], new_link_code())
                        for key, v in self.creates["accounts"]
                    ),
                    ("premises_id", *self.ACCOUNT_FIELDS),
                    ((pk, (premises[v[0]], *v[1:])) for pk, v in self.updates["accounts"]),
                )
        del self.premises_ids
        if self.writing:
            self._analyze(PersonalAccount, sheets=("accounts",))
            self.account_ids = self._account_ids()

    def _account_ids(self) -> dict:
        return dict(
            PersonalAccount.objects.filter(organization=self.org).values_list("number", "id")
        )

    # --- meters --------------------------------------------------------------------------------

    def check_meters(self):
        self.closed_until = (
            Period.objects.filter(organization=self.org, state=Period.State.CLOSED)
            .order_by("-month")
            .values_list("month", flat=True)
            .first()
        )
        # The organization's meters by serial, and the owners' keys by id (to compare lines).
        self.meter_serials = dict(
            Meter.objects.filter(account__organization=self.org).values_list("serial_number", "id")
        )
        self.meter_serials.update(
            Meter.objects.filter(building__organization=self.org).values_list("serial_number", "id")
        )
        self.account_numbers = {pk: n for n, pk in self.account_ids.items() if pk is not None}
        self.building_addresses = {pk: key for key, pk in self.building_ids.items()}
        seen = {}  # serial → line (negative: in building_meters)
        for sheet in ("meters", "building_meters"):
            sign = 1 if sheet == "meters" else -1

            def parse(line, row, sheet=sheet, sign=sign):
                serial = row["serial_number"]
                try:
                    if len(serial) > 40:
                        raise LineError("заводской номер длиннее 40 знаков")
                    if serial in seen:
                        other = seen[serial]
                        where = "meters" if other > 0 else "building_meters"
                        raise LineError(
                            f"заводской номер {serial} повторяется ({where}, строка {abs(other)})"
                        )
                    seen[serial] = sign * line
                    if sheet == "meters":
                        owner = row["account"]
                        if owner not in self.account_ids:
                            raise self.unknown("accounts", owner, f"ЛС «{owner}»")
                        scope = "flat"
                    else:
                        owner = _address(row)
                        if owner not in self.building_keys:
                            raise self.unknown("buildings", owner, f"дом «{_show_address(owner)}»")
                        scope = "building"
                    values, reading = self._meter(row)
                except LineError as exc:
                    self.refuse(sheet, line, str(exc))
                    return None
                return line, serial, (scope, owner, *values), reading

            for batch in self.batches(sheet, parse):
                existing = self._existing_meters(batch)
                for _line, serial, values, _reading in batch:
                    self.outcome(sheet, serial, values, existing, "meters")
                ids = {serial: old[0] for serial, old in existing.items()}
                if self.writing:
                    ids.update(self._write_meters())
                self.check_readings(sheet, batch, ids)
                if self.writing:
                    self._write_readings(ids)
        del self.meter_serials, self.building_addresses
        if self.writing:
            self._analyze(Meter, Reading, sheets=("meters", "building_meters", "readings"))

    def _existing_meters(self, batch: list) -> dict:
        """serial → (id, (scope, owner, *fields)) of the organization's meters in the batch.

        Looked up by their owners' indexes (the accounts and buildings the batch names), and by
        id for a meter that the file gives to another owner than the database does.
        """
        serials = {serial for _, serial, _, _ in batch}
        accounts = {self.account_ids.get(v[1]) for _, _, v, _ in batch if v[0] == "flat"}
        buildings = {self.building_ids.get(v[1]) for _, _, v, _ in batch if v[0] == "building"}
        query = Q(account_id__in=accounts - {None}) | Q(building_id__in=buildings - {None})
        existing = {}
        for _pass in range(2):
            for r in Meter.objects.filter(query).values_list(
                "serial_number", "id", "account_id", "building_id", *METER_FIELDS
            ):
                if r[0] not in serials:
                    continue
                if r[2] is not None:
                    values = ("flat", self.account_numbers[r[2]], *r[4:])
                else:
                    values = ("building", self.building_addresses[r[3]], *r[4:])
                existing[r[0]] = (r[1], values)
            missing = [
                self.meter_serials[s]
                for s in serials
                if s in self.meter_serials and s not in existing
            ]
            if not missing:
                break
            query = Q(id__in=missing)
        return existing

    def check_readings(self, sheet: str, batch: list, meter_ids: dict):
        """Last readings: accepted readings of their month, matched by serial and month."""
        readings = [(line, serial, *reading) for line, serial, _, reading in batch if reading]
        if not readings:
            return
        serials = {pk: serial for serial, pk in meter_ids.items() if pk is not None}
        existing = {}
        for r in Reading.objects.filter(
            meter_id__in=list(serials), month__in={r[2] for r in readings}, is_accepted=True
        ).values_list("meter_id", "month", "id", "value1", "value2", "value3"):
            existing[(serials[r[0]], r[1])] = (r[2], tuple(r[3:]))
        closed_until = self.closed_until
        for line, serial, month, values in readings:
            old = existing.get((serial, month))
            if old is not None and old[1] != values and closed_until and month <= closed_until:
                self.refuse(
                    sheet,
                    line,
                    f"показания за {period_label(month)} уже в закрытом периоде: загрузка их "
                    "не меняет",
                )
                continue
            self.outcome("readings", (serial, month), values, existing)

    def _meter(self, row: dict):
        resource = _choice(row["resource"], "ресурс", Resource, "")
        if not resource:
            raise LineError("ресурс не указан")
        zones = _int(row.get("zones", ""), "зон", 1)
        if not 1 <= zones <= 3:
            raise LineError("тарифных зон — от 1 до 3")
        digits = _int(row.get("digits", ""), "разрядность", 5)
        precision = _int(row.get("precision", ""), "знаков после запятой", 3)
        if not 1 <= digits <= 12 or not 0 <= precision <= 4:
            raise LineError("разрядность — от 1 до 12, знаков после запятой — от 0 до 4")
        installed = _date(row["installed_on"], "установлен")
        verified = _date(row["verified_on"], "дата поверки")
        next_check = _date(row["next_verification_on"], "следующая поверка")
        if next_check < verified:
            raise LineError("следующая поверка раньше даты поверки")
        if len(row.get("model", "")) > 80:
            raise LineError("модель длиннее 80 знаков")
        initial = []
        for z in range(1, 4):
            text = row.get(f"initial_value{z}", "")
            if z > zones:
                if text:
                    raise LineError(f"начальные показания T{z} у прибора с {zones} зонами")
                initial.append(None)
                continue
            value = _decimal(text or "0", f"начальные показания T{z}", 4)
            if value < 0 or value >= Decimal(10) ** digits:
                raise LineError(f"начальные показания T{z} вне шкалы прибора")
            initial.append(value)
        values = (
            resource,
            zones,
            row.get("model", ""),
            digits,
            precision,
            installed,
            verified,
            next_check,
            *initial,
        )
        month = _month(row.get("last_month", ""), "месяц последних показаний")
        given = [row.get(f"last_value{z}", "") for z in range(1, 4)]
        if month is None:
            if any(given):
                raise LineError("последние показания без месяца")
            return values, None
        if month >= self.switch:
            raise LineError(
                f"месяц последних показаний ({period_label(month)}) не раньше месяца перехода "
                f"({period_label(self.switch)})"
            )
        if month < installed.replace(day=1):
            raise LineError("последние показания раньше установки прибора")
        last = []
        for z in range(1, zones + 1):
            if not given[z - 1]:
                raise LineError(f"нет последних показаний T{z}")
            value = _decimal(given[z - 1], f"последние показания T{z}", 4)
            if value < initial[z - 1]:
                raise LineError(
                    f"последние показания T{z} ({value}) меньше начальных ({initial[z - 1]})"
                )
            if value >= Decimal(10) ** digits:
                raise LineError(f"последние показания T{z} вне шкалы прибора")
            last.append(value)
        if any(given[zones:]):
            raise LineError(f"лишние показания у прибора с {zones} зонами")
        return values, (month, tuple(last + [None] * (3 - zones)))

    # --- opening balances ----------------------------------------------------------------------

    def check_balances(self):
        self.opening_period = Period.objects.filter(
            organization=self.org, month=add_months(self.switch, -1)
        ).first()
        self.balances_written = False
        seen = {}  # "number inn month" → line
        blocked = None
        inns = dict(Provider.objects.filter(organization=self.org).values_list("id", "inn"))
        if self.opening_period is not None:
            self.account_numbers = {pk: n for n, pk in self.account_ids.items() if pk is not None}

        def parse(line, row):
            nonlocal blocked
            if blocked is None:
                blocked = self._opening_blocked()
            try:
                number, inn = row["account"], row["provider_inn"]
                if number not in self.account_ids:
                    raise self.unknown("accounts", number, f"ЛС «{number}»")
                if inn not in self.provider_keys:
                    raise self.unknown("providers", inn, f"поставщик (ИНН {inn})")
                month = _month(row["month"], "месяц")
                if month >= self.switch:
                    raise LineError(
                        f"месяц долга ({period_label(month)}) не раньше месяца перехода "
                        f"({period_label(self.switch)})"
                    )
                amount = _decimal(row["amount"], "сумма", 2)
                if abs(amount) >= Decimal("1e12"):
                    raise LineError("сумма слишком велика")
                compact = f"{number} {inn} {month}"
                if compact in seen:
                    raise LineError(
                        "долг по этому ЛС, поставщику и месяцу повторяется "
                        f"(строка {seen[compact]})"
                    )
                seen[compact] = line
            except LineError as exc:
                self.refuse("opening_balances", line, str(exc))
                return None
            return line, (number, inn, month), amount

        for batch in self.batches("opening_balances", parse):
            existing = {}
            if self.opening_period is not None:
                accounts = {self.account_ids.get(key[0]) for _, key, _ in batch} - {None}
                entries = LedgerEntry.objects.filter(
                    period=self.opening_period,
                    kind=LedgerEntry.Kind.CORRECTION,
                    note=OPENING_NOTE,
                    account_id__in=accounts,
                )
                for r in entries.values_list(
                    "account_id", "provider_id", "concerns_month", "id", "amount"
                ):
                    key = (self.account_numbers[r[0]], inns.get(r[1]), r[2])
                    existing[key] = (r[3], (r[4],))
            for line, key, amount in batch:
                old = existing.get(key)
                if blocked and (old is None or old[1] != (amount,)):
                    self.refuse("opening_balances", line, blocked)
                    continue
                self.outcome("opening_balances", key, (amount,), existing)
            if self.writing:
                self._write_balances()

    def _opening_blocked(self) -> str:
        """Why opening balances cannot be written now, or ''."""
        period = self.opening_period
        if period is not None and period.state == Period.State.CLOSED:
            return (
                f"начальное сальдо на {period_label(self.switch)} уже загружено и период "
                f"{period_label(period.month)} закрыт: изменить его можно только перерасчётом"
            )
        others = Period.objects.filter(organization=self.org).exclude(state=Period.State.CLOSED)
        if period is not None:
            others = others.exclude(id=period.id)
        if others.exists():
            return (
                "начальное сальдо загружается до открытия первого расчётного периода "
                f"(сейчас открыт {period_label(others.first().month)})"
            )
        return ""

    # --- writing -------------------------------------------------------------------------------

    def _analyze(self, *models, sheets=()) -> None:
        """Fresh planner statistics for tables just filled (PostgreSQL): the next sheet's
        lookups, and the next load of the file, are planned for the rows they now hold, not
        for the empty tables of before (a nested loop over 300 000 ledger rows took minutes)."""
        counts = self.report.counts
        if sheets and not any(
            counts.get(s, {}).get("created") or counts.get(s, {}).get("changed") for s in sheets
        ):
            return  # nothing new in these tables
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            for model in models:
                cursor.execute(f"ANALYZE {model._meta.db_table}")  # nosec B608 - a model's table

    def _write_simple(self, model, sheet, fields, key_values):
        self._write_rows(
            model,
            sheet,
            None,
            [
                model(**key_values(key), **dict(zip(fields, v, strict=True)))
                for key, v in self.creates[sheet]
            ],
            fields,
            self.updates[sheet],
        )

    def _write_rows(self, model, sheet, columns, creates, fields, updates):
        """New rows set-based (COPY on PostgreSQL), changed ones by primary key in batches; the
        batch's parsed lines are let go."""
        if columns is None:
            model.objects.bulk_create(creates, batch_size=2000)
        else:
            bulk_insert(model._meta.db_table, columns, creates)
        batch = []
        for pk, values in updates:
            batch.append(model(pk=pk, **dict(zip(fields, values, strict=True))))
            if len(batch) == 1000:
                model.objects.bulk_update(batch, list(fields))
                batch = []
        if batch:
            model.objects.bulk_update(batch, list(fields))
        self.creates.pop(sheet, None)
        self.updates.pop(sheet, None)

    def _write_meters(self) -> dict:
        """Write the batch's meters; the ids of the new ones by serial."""
        creates = self.creates["meters"]
        accounts, buildings = self.account_ids, self.building_ids

        def owner(v):
            if v[0] == "flat":
                return ("flat", accounts[v[1]], None)
            return ("building", None, buildings[v[1]])

        new = {key for key, _ in creates}
        flat = {accounts[v[1]] for _, v in creates if v[0] == "flat"}
        house = {buildings[v[1]] for _, v in creates if v[0] == "building"}
        meter_cols = ("scope", "account_id", "building_id", *METER_FIELDS)
        self._write_rows(
            Meter,
            "meters",
            ("serial_number", *meter_cols, "seal_number", "place", "archive_reason"),
            ((key, *owner(v), *v[2:], "", "", "") for key, v in creates),
            meter_cols,
            ((pk, (*owner(v), *v[2:])) for pk, v in self.updates["meters"]),
        )
        ids = {}
        for column, owners in (("account_id", flat), ("building_id", house)):
            if owners:
                for serial, pk in Meter.objects.filter(**{f"{column}__in": owners}).values_list(
                    "serial_number", "id"
                ):
                    if serial in new:
                        ids[serial] = pk
        return ids

    def _write_readings(self, meter_ids):
        source = Reading.Source.IMPORT
        now = self.now
        self._write_rows(
            Reading,
            "readings",
            (
                "meter_id",
                "month",
                "value1",
                "value2",
                "value3",
                "kind",
                "source",
                "is_accepted",
                "confirmed_high",
                "submitted_at",
            ),
            (
                (meter_ids[serial], month, *values, "regular", source, True, False, now)
                for (serial, month), values in self.creates["readings"]
            ),
            ("value1", "value2", "value3"),
            self.updates["readings"],
        )

    def _write_balances(self):
        creates, updates = self.creates["opening_balances"], self.updates["opening_balances"]
        if not creates and not updates:
            return
        if self.opening_period is None:
            from kvartplata.billing.ledger import due_date

            month = add_months(self.switch, -1)
            self.opening_period = Period.objects.create(
                organization=self.org, month=month, due_date=due_date(self.org, month)
            )
        if not hasattr(self, "provider_ids"):
            self.provider_ids = dict(
                Provider.objects.filter(organization=self.org).values_list("inn", "id")
            )
        period_id, accounts, providers = self.opening_period.id, self.account_ids, self.provider_ids
        entry_date = self.switch - datetime.timedelta(days=1)
        now = self.now
        columns = [
            "account_id",
            "period_id",
            "concerns_month",
            "kind",
            "amount",
            "entry_date",
            "source_id",
            "note",
            "created_at",
            "provider_id",
        ]
        bulk_insert(
            LedgerEntry._meta.db_table,
            columns,
            (
                (
                    accounts[key[0]],
                    period_id,
                    key[2],
                    "correction",
                    amount,
                    entry_date,
                    None,
                    OPENING_NOTE,
                    now,
                    providers[key[1]],
                )
                for key, (amount,) in creates
            ),
        )
        for pk, (amount,) in updates:
            LedgerEntry.objects.filter(pk=pk).update(amount=amount)
        self.creates.pop("opening_balances", None)
        self.updates.pop("opening_balances", None)
        self.balances_written = True

    def finish(self):
        """After the last line: the opening month's balances, and the month closed."""
        if not self.balances_written:
            return
        from kvartplata.billing.ledger import refresh_balances

        period = self.opening_period
        self._analyze(LedgerEntry)
        refresh_balances(period)
        Period.objects.filter(id=period.id).update(
            state=Period.State.CLOSED, billed_at=self.now, closed_at=self.now
        )


def default_switch_month(organization: Organization) -> datetime.date | None:
    """The month the organization starts billing here: its open period, or the one after."""
    periods = Period.objects.filter(organization=organization)
    current = periods.exclude(state=Period.State.CLOSED).first()
    if current is not None:
        return current.month
    last = periods.order_by("-month").first()
    return add_months(last.month, 1) if last is not None else None


SHEET_ORDER = {name: i for i, name in enumerate(SHEET_STEPS)}


def registry_load(
    *,
    organization: Organization,
    workbook,
    switch_month: datetime.date,
    dry_run: bool = False,
    progress=None,
) -> Report:
    """Check every line, writing batch by batch in one transaction while no line is refused;
    a refused line (or a dry run) rolls all of it back: everything or nothing is written."""
    load = Load(organization, workbook, switch_month, dry_run, progress)
    with transaction.atomic():
        if not dry_run:
            # One load per organization at a time: a second one waits, then sees this one's rows.
            Organization.objects.select_for_update().filter(pk=organization.pk).first()
        load.check_providers()
        load.check_buildings()
        load.check_premises()
        load.check_accounts()
        load.check_meters()
        load.check_balances()
        load.report.problems.sort(key=lambda p: (SHEET_ORDER.get(p.sheet, 99), p.line))
        if load.report.problems or dry_run:
            transaction.set_rollback(True)
            return load.report
        load.progress("writing", len(SHEET_STEPS) - 1, len(SHEET_STEPS))
        load.finish()
    load.report.written = True
    return load.report
